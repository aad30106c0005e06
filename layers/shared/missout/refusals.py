"""`Refused`: a request the rules say no to (a taken nickname, a second referrer, nothing to claim). The
routes turn it into a 409 (or the status they map `reason` to) naming the reason; nothing was changed."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # snake_case, stable: clients branch on it
        self.detail = detail  # for people
