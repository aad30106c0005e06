"""Fixed-window rate limits shared by every API instance, counted in PostgreSQL
(docs/original-backend.md W19).

One statement per request, in one round trip (`_count_sql`): an upsert that adds one hit to each of the
request's keys (its IP, and on the reporting routes its wallet) in the current window and returns the new
counts. The table is UNLOGGED (a crash forgets the counts, which only resets the windows) and the monitor
deletes windows that have ended.

A fixed window lets a client spend up to twice its limit across a window boundary; in exchange a request costs
one row update per key, and no clock but the database's is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection


@dataclass(frozen=True, slots=True)
class Limit:
    """`limit` requests per `window_s` seconds for the key `name:value` (e.g. `ip:203.0.113.9`)."""

    name: str
    value: str
    limit: int
    window_s: int

    @property
    def key(self) -> str:
        return f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class LimitState:
    limit: Limit
    hits: int
    window_start: datetime
    reset_in_s: int  # seconds until this window ends (at least 1)

    @property
    def remaining(self) -> int:
        return max(0, self.limit.limit - self.hits)

    @property
    def exceeded(self) -> bool:
        return self.hits > self.limit.limit


# The request's keys and windows are formatted into the statement, so that it goes as one simple-protocol
# query: one round trip to pgBouncer, where pg8000 spends three on any statement with parameters (Parse,
# Describe and Execute each wait for the server), on every counted request. Only forms that cannot carry SQL
# are formatted in: each key as the hex of its UTF-8 bytes (decoded by the server), each window as an int.
_COUNT = """
WITH now_ AS (SELECT extract(epoch FROM clock_timestamp()) AS t),
wanted AS (
    SELECT k.key, k.window_s,
           to_timestamp(floor((SELECT t FROM now_) / k.window_s) * k.window_s) AS window_start
    FROM (VALUES {values}) AS k(key, window_s)
)
INSERT INTO rate_limit_hits AS r (key, window_start, hits)
SELECT key, window_start, 1 FROM wanted
ON CONFLICT (key, window_start) DO UPDATE SET hits = r.hits + 1
RETURNING r.key, r.window_start, r.hits,
          ceil(extract(epoch FROM r.window_start) + (
              SELECT w.window_s FROM wanted w WHERE w.key = r.key
          ) - (SELECT t FROM now_))::int AS reset_in_s
"""


def _count_sql(limits: Sequence[Limit]) -> str:
    values = ", ".join(
        f"(convert_from(decode('{limit.key.encode().hex()}', 'hex'), 'UTF8'), {int(limit.window_s)})"
        for limit in limits
    )
    return _COUNT.format(values=values)


def count_hits(conn: Connection, limits: Sequence[Limit]) -> list[LimitState]:
    """Add one hit to each limit's key in its current window; the states in the order given."""
    if not limits:
        return []
    if len({limit.key for limit in limits}) != len(limits):
        raise ValueError("each limit needs its own key")
    rows = conn.exec_driver_sql(_count_sql(limits)).all()
    by_key = {row.key: row for row in rows}
    return [
        LimitState(
            limit=limit,
            hits=int(by_key[limit.key].hits),
            window_start=by_key[limit.key].window_start,
            reset_in_s=max(1, int(by_key[limit.key].reset_in_s)),
        )
        for limit in limits
    ]


_DELETE_ENDED = text(
    "DELETE FROM rate_limit_hits WHERE window_start < clock_timestamp() - make_interval(secs => :longest_s)"
)


def delete_ended_windows(conn: Connection, *, longest_window_s: int) -> int:
    """Forget the windows that have ended (the monitor calls this): no window is longer than
    `longest_window_s`, so one that began before now minus that is over. Served by the `window_start`
    index; returns how many rows went."""
    if longest_window_s < 1:
        raise ValueError("longest_window_s must be at least 1 second")
    return conn.execute(_DELETE_ENDED, {"longest_s": longest_window_s}).rowcount


def tightest(states: Sequence[LimitState]) -> LimitState:
    """The state to report in `RateLimit`: an exceeded one if any, else the one with the fewest left."""
    return min(states, key=lambda s: (not s.exceeded, s.remaining, s.reset_in_s))


def policy_header(states: Sequence[LimitState]) -> str:
    """`RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): every limit that applied, e.g.
    `"ip";q=100;w=60, "wallet";q=30;w=60`."""
    return ", ".join(f'"{s.limit.name}";q={s.limit.limit};w={s.limit.window_s}' for s in states)


def limit_header(state: LimitState) -> str:
    """`RateLimit` for the tightest limit: `"wallet";r=12;t=41`."""
    return f'"{state.limit.name}";r={state.remaining};t={state.reset_in_s}'
