"""COMMIT as one simple-protocol message (missout.db.driver), through real pgBouncer: it commits, it leaves no
transaction open on the pooled server connection, and an error raised by the COMMIT itself still maps like
any other statement's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from missout.db import ConstraintViolation, transaction
from missout.db.driver import Pg8000Connection
from tests.support.database import TestDatabase


@pytest.fixture
def deferred_table(direct_engine: Engine) -> Iterator[str]:
    """A table whose UNIQUE key is checked at COMMIT, not at the INSERT."""
    with direct_engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE commit_probe (n int, "
                "CONSTRAINT uq_commit_probe_n UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield "commit_probe"
    with direct_engine.begin() as conn:
        conn.execute(text("DROP TABLE commit_probe"))


def test_a_transaction_commits_through_the_one_message_commit_and_ends_there(
    app_database: TestDatabase, direct_engine: Engine, deferred_table: str
) -> None:
    for n in range(5):  # several, so pgBouncer hands the same server connection back at least once
        with transaction() as conn:
            assert isinstance(conn.connection.dbapi_connection, Pg8000Connection)
            conn.execute(text("INSERT INTO commit_probe (n) VALUES (:n)"), {"n": n})
        with transaction() as conn:  # and the next transaction sees it
            assert conn.execute(text("SELECT count(*) FROM commit_probe")).scalar_one() == n + 1
    with direct_engine.connect() as conn:
        committed = conn.execute(text("SELECT array_agg(n ORDER BY n) FROM commit_probe")).scalar_one()
    assert committed == [0, 1, 2, 3, 4]


def test_an_error_raised_by_the_commit_maps_to_the_constraint_and_writes_nothing(
    app_database: TestDatabase, direct_engine: Engine, deferred_table: str
) -> None:
    with pytest.raises(ConstraintViolation) as raised, transaction() as conn:
        conn.execute(text("INSERT INTO commit_probe (n) VALUES (7), (7)"))  # accepted until COMMIT
    assert raised.value.constraint == "uq_commit_probe_n"
    with direct_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM commit_probe")).scalar_one() == 0
    with transaction() as conn:  # the pooled path still serves
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
