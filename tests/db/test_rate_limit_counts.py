"""`count_hits` through pgBouncer: the keys and windows are formatted into its statement (simple protocol), so
any key, however hostile its text, must be counted under exactly itself; hits add up per key and window, and
each state comes back in the order asked with its own window's start and reset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from missout.db import transaction
from missout.db.tables import rate_limit_hits
from missout.ratelimit import Limit, LimitState, count_hits, count_hits_later
from tests.support.database import TestDatabase

HOSTILE_VALUES = (
    "203.0.113.9'); DROP TABLE rate_limit_hits; --",
    "back\\slash \\x41 and 'quotes' and \"double\"",
    "$$dollar$$ $tag$ E'\\n'",
    "ünïcødé 鍵 🔑",
    "%s %(name)s :param ?",
)


def _count(*limits: Limit) -> list[LimitState]:
    with transaction() as conn:
        return count_hits(conn, limits)


def test_every_key_is_counted_under_exactly_itself(app_database: TestDatabase, direct_engine: Engine) -> None:
    limits = [Limit("ip", value, 100, 60) for value in HOSTILE_VALUES]
    for limit in limits:
        (state,) = _count(limit)
        assert (state.limit, state.hits) == (limit, 1)
    (again,) = _count(limits[0])
    assert again.hits == 2
    with direct_engine.connect() as conn:
        stored = dict(conn.execute(select(rate_limit_hits.c.key, rate_limit_hits.c.hits)).all())
    assert stored == {limit.key: (2 if limit is limits[0] else 1) for limit in limits}


def test_states_follow_the_order_asked_each_in_its_own_window(app_database: TestDatabase) -> None:
    wallet = Limit("wallet", "W" * 44, 30, 3_600)
    ip = Limit("ip", "198.51.100.7", 100, 60)
    before = datetime.now(UTC).timestamp()
    first = _count(wallet, ip)
    second = _count(ip, wallet)
    after = datetime.now(UTC).timestamp()
    assert [s.limit for s in first] == [wallet, ip]
    assert [s.limit for s in second] == [ip, wallet]
    assert [s.hits for s in first] == [1, 1]
    assert [s.hits for s in second] == [2, 2] or after // 60 != before // 60  # a minute may have turned over
    for state in (*first, *second):
        start = state.window_start.timestamp()
        assert state.window_start.utcoffset() is not None
        assert start % state.limit.window_s == 0
        assert start <= after
        assert start + state.limit.window_s >= before
        assert 1 <= state.reset_in_s <= state.limit.window_s


def test_a_count_written_last_is_committed_with_the_block_and_fails_it_whole(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    ip = Limit("ip", "198.51.100.8", 100, 60)
    with transaction() as conn:
        pending = count_hits_later(conn, [ip])
    (state,) = pending.states()  # answered by the COMMIT's exchange
    assert state.hits == 1
    broken = Limit("ip", "198.51.100.9", 100, 0)  # a zero-length window divides by zero in the statement

    def count_both() -> None:
        with transaction() as conn:
            count_hits_later(conn, [ip])
            count_hits_later(conn, [broken])

    with pytest.raises(DBAPIError) as raised:
        count_both()
    assert "22012" in str(raised.value)
    with direct_engine.connect() as conn:  # the first count of the failed block was rolled back with it
        stored = dict(conn.execute(select(rate_limit_hits.c.key, rate_limit_hits.c.hits)).all())
    assert stored == {ip.key: 1}


def test_no_limits_write_nothing(app_database: TestDatabase) -> None:
    with transaction() as conn:
        assert count_hits_later(conn, []).states() == []
        assert conn.execute(select(rate_limit_hits.c.key)).all() == []
