"""missout.db.scope through real pgBouncer in transaction mode: the app's transactions inside a scope share
one connection; a failed one drops it; a transaction that starts while the connection is busy gets its own;
the scope's end closes it. Connections are counted with the engine's own connect and close events."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from missout.db import ConstraintViolation, app_engine, transaction
from missout.db.scope import connection_scope, current_scope
from tests.support.database import TestDatabase


@dataclass
class Logins:
    opened: list[int] = field(default_factory=list)  # each new DB-API connection's id
    closed: int = 0

    @property
    def open_now(self) -> int:
        return len(self.opened) - self.closed


@pytest.fixture
def logins(app_database: TestDatabase) -> Iterator[Logins]:
    seen = Logins()
    engine = app_engine()

    def opened(dbapi_connection: Any, _record: Any) -> None:
        seen.opened.append(id(dbapi_connection))

    def closed(_dbapi_connection: Any, _record: Any) -> None:
        seen.closed += 1

    event.listen(engine, "connect", opened)
    event.listen(engine, "close", closed)
    yield seen
    event.remove(engine, "connect", opened)
    event.remove(engine, "close", closed)


@pytest.fixture
def scope_table(direct_engine: Engine) -> Iterator[str]:
    with direct_engine.begin() as conn:
        conn.execute(text("CREATE TABLE scope_probe (n int PRIMARY KEY)"))
    yield "scope_probe"
    with direct_engine.begin() as conn:
        conn.execute(text("DROP TABLE scope_probe"))


def _count(direct_engine: Engine) -> int:
    with direct_engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM scope_probe")).scalar_one())


def _insert(*numbers: int) -> None:
    with transaction() as conn:
        for n in numbers:
            conn.execute(text("INSERT INTO scope_probe VALUES (:n)"), {"n": n})


def test_without_a_scope_each_transaction_logs_in_and_closes(logins: Logins) -> None:
    for _ in range(3):
        with transaction() as conn:
            conn.execute(text("SELECT 1"))
    assert (len(logins.opened), logins.closed) == (3, 3)


def test_a_scopes_transactions_share_one_connection_closed_at_its_end(
    logins: Logins, scope_table: str, direct_engine: Engine
) -> None:
    with connection_scope() as scope:
        for n in range(3):
            with transaction() as conn:
                conn.execute(text("INSERT INTO scope_probe VALUES (:n)"), {"n": n})
            assert _count(direct_engine) == n + 1  # each transaction committed on its own
            # Between transactions nothing is pinned: the server connection went back to pgBouncer's pool,
            # and each transaction still gets its own SET LOCAL timeouts.
            with transaction() as conn:
                assert conn.execute(text("SHOW statement_timeout")).scalar_one() != "0"
        assert (len(logins.opened), logins.open_now) == (1, 1)
        assert scope.connects == 1
    assert logins.open_now == 0  # closed when the scope ended
    assert current_scope() is None


def test_a_failed_transaction_drops_the_connection_and_the_next_one_logs_in_again(
    logins: Logins, scope_table: str, direct_engine: Engine
) -> None:
    with connection_scope() as scope:
        with transaction() as conn:
            conn.execute(text("INSERT INTO scope_probe VALUES (1)"))
        with pytest.raises(ConstraintViolation):
            _insert(2, 1)  # the second row breaks the key
        assert logins.open_now == 0  # dropped at once, not kept in an unknown state
        with transaction() as conn:
            conn.execute(text("INSERT INTO scope_probe VALUES (3)"))
        assert scope.connects == 2
    assert _count(direct_engine) == 2  # 1 and 3: the failed transaction's 2 was rolled back
    assert logins.open_now == 0


def test_a_transaction_started_while_the_connection_is_busy_gets_its_own(
    logins: Logins, scope_table: str, direct_engine: Engine
) -> None:
    inside, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            inside.wait(10)
            with transaction() as conn:  # the scope's connection is in the first transaction: its own one
                conn.execute(text("INSERT INTO scope_probe VALUES (2)"))
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            release.set()

    with connection_scope() as scope:
        worker = threading.Thread(target=contextvars.copy_context().run, args=(second,))
        worker.start()
        with transaction() as conn:
            conn.execute(text("INSERT INTO scope_probe VALUES (1)"))
            inside.set()
            assert release.wait(10)
        worker.join(10)
        assert errors == []
        assert scope.connects == 1
        assert len(logins.opened) == 2
    assert _count(direct_engine) == 2
    assert logins.open_now == 0


def test_any_engine_uses_the_scope_and_another_engine_swaps_its_connection(
    logins: Logins, direct_engine: Engine
) -> None:
    with connection_scope() as scope:
        for _ in range(2):
            with transaction(app_engine()) as conn:  # the monitor passes its engine explicitly
                conn.execute(text("SELECT 1"))
        assert (scope.connects, len(logins.opened)) == (1, 1)
        with transaction(direct_engine) as conn:
            assert conn.engine is direct_engine
        assert scope.connects == 2
        assert logins.open_now == 0  # the app engine's connection was closed for the swap
    assert (len(logins.opened), logins.closed) == (1, 1)


def test_a_scope_inside_a_scope_is_the_outer_one(logins: Logins) -> None:
    with connection_scope() as outer:
        with connection_scope() as inner:
            assert inner is outer
            with transaction() as conn:
                conn.execute(text("SELECT 1"))
        assert logins.open_now == 1  # the inner block's end closed nothing
        with transaction() as conn:
            conn.execute(text("SELECT 1"))
        assert outer.connects == 1
    assert logins.open_now == 0


def test_a_scope_ending_during_a_transaction_closes_the_connection_when_that_ends(
    logins: Logins, scope_table: str, direct_engine: Engine
) -> None:
    """A request's worker thread may outlive the request (its task cancelled): the scope's end must not wait
    for it, nor leave its connection open."""
    inside, ended = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def worker_body() -> None:
        try:
            with transaction() as conn:
                conn.execute(text("INSERT INTO scope_probe VALUES (1)"))
                inside.set()
                assert ended.wait(10)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    with connection_scope() as scope:
        worker = threading.Thread(target=contextvars.copy_context().run, args=(worker_body,))
        worker.start()
        assert inside.wait(10)
    # The scope has ended without waiting; its connection is still the worker's.
    assert logins.open_now == 1
    ended.set()
    worker.join(10)
    assert errors == []
    assert _count(direct_engine) == 1  # the worker's transaction committed
    assert logins.open_now == 0  # and its end closed the connection
    with transaction() as conn:  # outside any scope again: a connection of its own
        conn.execute(text("SELECT 1"))
    assert scope.connects == 1
