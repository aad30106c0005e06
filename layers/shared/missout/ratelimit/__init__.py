"""Fixed-window rate limits shared by every API instance, counted in PostgreSQL
(docs/original-backend.md W19).

One statement per request (`_count_sql`): an upsert that adds one hit to each of the request's keys (its IP,
and on the reporting routes its wallet) in the current window and returns the new counts. The API writes it
last in the request's transaction (`count_hits_later`), so it travels with the COMMIT and costs no wait of its
own. The table is UNLOGGED (a crash forgets the counts, which only resets the windows) and the monitor
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

from missout.db.written import WrittenStatement, write_statement


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


# The request's keys and windows are formatted into the statement, so that it is one simple-protocol query
# without parameters: the kind the driver can write ahead and send with the block's COMMIT (driver.py). Only
# forms that cannot carry SQL are formatted in: each key as the hex of its UTF-8 bytes (decoded by the
# server), each window as an int.
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


@dataclass(frozen=True, slots=True)
class PendingCount:
    """A count written into the transaction (`count_hits_later`); its states once the answer is in."""

    limits: tuple[Limit, ...]
    written: WrittenStatement | None  # None: no limits, nothing was written

    def states(self) -> list[LimitState]:
        """The states in the order the limits were given (waits for the answer if it has not come yet)."""
        if self.written is None:
            return []
        by_key = {
            key: (window_start, hits, reset_in_s)
            for key, window_start, hits, reset_in_s in self.written.rows()
        }
        states = []
        for limit in self.limits:
            window_start, hits, reset_in_s = by_key[limit.key]
            states.append(LimitState(limit, int(hits), window_start, max(1, int(reset_in_s))))
        return states


def count_hits_later(conn: Connection, limits: Sequence[Limit]) -> PendingCount:
    """Add one hit to each limit's key in its current window, written into `conn`'s transaction and sent with
    its next statement or its COMMIT (missout/db/written.py): called last in a block, the count costs no wait
    of its own, and its rows are locked only while the COMMIT travels. Read the states after the block."""
    if len({limit.key for limit in limits}) != len(limits):
        raise ValueError("each limit needs its own key")
    if not limits:
        return PendingCount((), None)
    return PendingCount(tuple(limits), write_statement(conn, _count_sql(limits)))


def count_hits(conn: Connection, limits: Sequence[Limit]) -> list[LimitState]:
    """Add one hit to each limit's key in its current window now; the states in the order given."""
    return count_hits_later(conn, limits).states()


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
