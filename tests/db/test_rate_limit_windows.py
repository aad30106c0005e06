"""The rate-limit table through pgBouncer: ended windows are deleted, the current one is kept, and the
monitor's tick does the clean-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from missout.db import transaction
from missout.db.tables import rate_limit_hits
from missout.ratelimit import Limit, count_hits, delete_ended_windows
from tests.support.database import TestDatabase


def test_ended_windows_are_deleted_and_the_current_one_kept(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    with direct_engine.begin() as conn:
        conn.execute(insert(rate_limit_hits).values(key="ip:192.0.2.1", window_start=long_ago, hits=7))
    with transaction() as conn:
        current = count_hits(conn, [Limit("ip", "192.0.2.2", 100, 60)])
    with transaction() as conn:
        assert delete_ended_windows(conn, longest_window_s=60) == 1
    with direct_engine.connect() as conn:
        left = conn.execute(select(rate_limit_hits.c.key, rate_limit_hits.c.hits)).all()
    assert [(k, h) for k, h in left] == [("ip:192.0.2.2", current[0].hits)]


def test_a_window_still_running_under_a_longer_limit_is_kept(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    started = datetime.now(UTC) - timedelta(minutes=10)
    with direct_engine.begin() as conn:
        conn.execute(insert(rate_limit_hits).values(key="wallet:x", window_start=started, hits=1))
    with transaction() as conn:
        assert delete_ended_windows(conn, longest_window_s=3_600) == 0
    with direct_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rate_limit_hits")).scalar_one() == 1


def test_a_window_length_below_one_second_is_refused(app_database: TestDatabase) -> None:
    with transaction() as conn, pytest.raises(ValueError, match="at least 1 second"):
        delete_ended_windows(conn, longest_window_s=0)
