"""missout.db.driver through real pgBouncer in transaction mode: fewer exchanges with the server, and the same
answers, errors and transaction states as pg8000's own connection.

An exchange is one flush of the client's write buffer followed by reading the answers: one wait for the
server. The tests count them on the connection's socket file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pg8000.legacy
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url

from missout.db import app_engine, transaction
from missout.db.driver import Pg8000Connection
from missout.settings import database_settings
from tests.support.database import TestDatabase


class _CountedSocket:
    """The connection's buffered socket file, counting exchanges: a flush followed by reading an answer (the
    flush of a closing connection's Terminate waits for nothing and is not one)."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped
        self._sent = False
        self.exchanges = 0

    def flush(self) -> None:
        self._sent = True
        self._wrapped.flush()

    def read(self, size: int) -> bytes:
        if self._sent:
            self._sent = False
            self.exchanges += 1
        data: bytes = self._wrapped.read(size)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


@pytest.fixture
def driver(app_database: TestDatabase) -> Iterator[Pg8000Connection]:
    """A DB-API connection made by the app's engine (through pgBouncer), its socket counted."""
    raw = app_engine().raw_connection()
    connection = raw.driver_connection
    assert isinstance(connection, Pg8000Connection)
    connection._sock = _CountedSocket(connection._sock)
    yield connection
    raw.close()


@pytest.fixture
def probe_table(direct_engine: Engine) -> Iterator[str]:
    with direct_engine.begin() as conn:
        conn.execute(text("CREATE TABLE driver_probe (n int PRIMARY KEY, amount numeric, note text)"))
    yield "driver_probe"
    with direct_engine.begin() as conn:
        conn.execute(text("DROP TABLE driver_probe"))


def _exchanges(connection: Pg8000Connection) -> int:
    counted = connection._sock
    assert isinstance(counted, _CountedSocket)
    return counted.exchanges


def test_a_transaction_waits_once_per_statement_with_begin_riding_on_the_first(
    driver: Pg8000Connection, probe_table: str
) -> None:
    cursor = driver.cursor()
    cursor.execute("SET LOCAL statement_timeout = 5000")  # simple; carries the BEGIN
    cursor.execute("INSERT INTO driver_probe VALUES (%s, %s, %s)", (1, Decimal("12345678901234567890"), "é"))
    cursor.execute("SELECT n, amount, note FROM driver_probe WHERE n = %s", (1,))
    assert cursor.fetchall() == ([1, Decimal("12345678901234567890"), "é"],)
    driver.commit()
    # pg8000's own connection waits 9 times here: BEGIN, SET, 3 per parameterized statement, 3 for COMMIT.
    assert _exchanges(driver) == 4
    assert driver._transaction_status == b"I"


def test_rollback_is_one_exchange_and_undoes_the_transaction(
    driver: Pg8000Connection, probe_table: str, direct_engine: Engine
) -> None:
    cursor = driver.cursor()
    cursor.execute("INSERT INTO driver_probe VALUES (%s, %s, %s)", (2, 1, None))
    driver.rollback()
    assert _exchanges(driver) == 2
    assert driver._transaction_status == b"I"
    with direct_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM driver_probe")).scalar_one() == 0


@pytest.mark.parametrize(
    ("statement", "params", "code"),
    [
        ("SELEC %s", (1,), "42601"),  # fails at Parse
        ("SELECT %s::int", ("not a number",), "22P02"),  # fails at Bind
        ("SELECT 1 / %s", (0,), "22012"),  # fails at Execute
    ],
)
def test_an_error_anywhere_in_the_exchange_raises_it_and_leaves_the_connection_in_step(
    driver: Pg8000Connection, statement: str, params: tuple[Any, ...], code: str
) -> None:
    cursor = driver.cursor()
    with pytest.raises(pg8000.dbapi.ProgrammingError) as raised:
        cursor.execute(statement, params)  # the first statement: the written BEGIN goes with it
    assert raised.value.args[0]["C"] == code
    assert driver._transaction_status == b"E"  # the BEGIN's answer was read; the transaction failed after it
    with pytest.raises(pg8000.dbapi.ProgrammingError) as aborted:
        cursor.execute("SELECT %s", (1,))
    assert aborted.value.args[0]["C"] == "25P02"  # in failed transaction: the server, not a stale answer
    driver.rollback()
    cursor.execute("SELECT %s::int + 1", (41,))  # every answer so far was read: the next one is this one's
    assert cursor.fetchall() == ([42],)
    driver.commit()
    assert driver._transaction_status == b"I"


def test_a_value_the_driver_cannot_send_leaves_nothing_half_written(driver: Pg8000Connection) -> None:
    cursor = driver.cursor()
    with pytest.raises(UnicodeEncodeError):
        # A lone surrogate (JSON can carry one) cannot be encoded: refused before any message is written.
        # pg8000's own connection has sent Parse and Describe by then and leaves the Describe's answer unread.
        cursor.execute("SELECT %s, %s", ("fine", "\ud800"))
    assert driver._in_transaction  # the BEGIN is written: the transaction counts as open
    driver.rollback()  # carries the BEGIN and ends it
    assert driver._transaction_status == b"I"
    assert _exchanges(driver) == 1  # the written BEGIN went out with the ROLLBACK
    cursor.execute("SELECT %s", ("still in step",))
    assert cursor.fetchall() == (["still in step"],)
    driver.commit()


def test_answers_match_pg8000s_own_connection_value_for_value(
    driver: Pg8000Connection, test_database: TestDatabase
) -> None:
    statement = (
        "SELECT %s::bigint, %s::numeric, %s::text, %s::boolean, %s::timestamptz, %s::bytea, "
        "%s::int[], %s::text IS NULL, generate_series(1, %s)"
    )
    params = (
        2**62,
        Decimal("-0.000000001"),
        "ünïcode ✓",
        True,
        datetime(2026, 12, 2, 7, 30, 15, 123456, tzinfo=UTC),
        b"\x00\xffbytes",
        [1, None, 3],
        None,
        3,
    )
    url = make_url(test_database.direct_url)
    stock = pg8000.legacy.Connection(
        user=url.username, password=url.password, host=url.host, port=url.port, database=url.database
    )
    try:
        expected_cursor = stock.cursor()
        expected_cursor.execute(statement, params)
        expected = expected_cursor.fetchall()
        expected_description = expected_cursor.description
        stock.rollback()
    finally:
        stock.close()
    cursor = driver.cursor()
    cursor.execute(statement, params)
    assert cursor.fetchall() == expected
    assert cursor.description == expected_description
    assert cursor.rowcount == 3
    driver.rollback()


def test_rowcounts_and_statements_without_rows(driver: Pg8000Connection, probe_table: str) -> None:
    cursor = driver.cursor()
    cursor.execute("INSERT INTO driver_probe SELECT g, g, NULL FROM generate_series(1, %s) g", (5,))
    assert cursor.rowcount == 5
    assert cursor.description is None
    cursor.execute("UPDATE driver_probe SET note = %s WHERE n > %s", ("x", 2))
    assert cursor.rowcount == 3
    driver.commit()


def test_the_app_transaction_reads_its_own_writes_through_the_pooler(
    app_database: TestDatabase, probe_table: str
) -> None:
    for n in range(4):  # pgBouncer hands the same server connection back between them
        with transaction() as conn:
            conn.execute(text("INSERT INTO driver_probe VALUES (:n, :n, 'p')"), {"n": n})
            seen = conn.execute(text("SELECT count(*) FROM driver_probe WHERE n <= :n"), {"n": n})
            assert seen.scalar_one() == n + 1


@pytest.fixture
def counted_app_engine(app_database: TestDatabase) -> Iterator[list[_CountedSocket]]:
    """Every connection the app's engine makes from now on, its socket counted from its first statement."""
    sockets: list[_CountedSocket] = []

    def count(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection._sock = _CountedSocket(dbapi_connection._sock)
        sockets.append(dbapi_connection._sock)

    event.listen(app_engine(), "connect", count)
    yield sockets
    event.remove(app_engine(), "connect", count)


def test_the_transactions_settings_and_begin_ride_on_its_first_statement(
    counted_app_engine: list[_CountedSocket],
) -> None:
    with transaction() as conn:  # the engine's first connection also runs SQLAlchemy's dialect set-up
        conn.execute(text("SELECT 1"))
    counted_app_engine.clear()
    with transaction() as conn:
        timeout = conn.execute(
            text("SELECT setting FROM pg_settings WHERE name = :n"), {"n": "statement_timeout"}
        )
        assert timeout.scalar_one() == str(database_settings().statement_timeout_ms)  # the SET LOCAL applied
    # One exchange for BEGIN, the SET LOCALs and the SELECT, one for COMMIT; pg8000's own would make 7.
    assert [socket.exchanges for socket in counted_app_engine] == [2]


def test_an_error_in_a_written_statement_is_raised_by_the_next_exchange_which_reads_all_its_answers(
    driver: Pg8000Connection,
) -> None:
    driver.write_in_transaction("SET LOCAL no_such_setting = 1")
    assert _exchanges(driver) == 0  # written, not sent
    cursor = driver.cursor()
    with pytest.raises(pg8000.dbapi.ProgrammingError) as raised:
        cursor.execute("SELECT %s", (1,))
    assert raised.value.args[0]["C"] == "42704"  # the SET's error, not the SELECT's "transaction aborted"
    assert _exchanges(driver) == 1
    driver.rollback()
    cursor.execute("SELECT %s::int", (2,))  # in step: this exchange reads its own answer
    assert cursor.fetchall() == ([2],)
    driver.commit()


def test_a_written_statement_travels_with_the_commit_and_its_answer_is_kept(driver: Pg8000Connection) -> None:
    answer = driver.write_in_transaction("SELECT 41 + 1 AS n, 'kept' AS note")
    assert _exchanges(driver) == 0  # BEGIN and the SELECT are written, not sent
    driver.commit()
    assert _exchanges(driver) == 1  # one wait for BEGIN, the SELECT and the COMMIT
    assert driver.answer_of(answer).rows == [[42, "kept"]]
    assert _exchanges(driver) == 1  # already answered: nothing more is sent
    assert driver._transaction_status == b"I"


def test_asking_for_a_written_statements_answer_sends_it_then(driver: Pg8000Connection) -> None:
    answer = driver.write_in_transaction("SELECT 7")
    assert driver.answer_of(answer).rows == [[7]]
    assert _exchanges(driver) == 1
    assert driver._transaction_status == b"T"  # still open: only what was written went out
    driver.commit()
    assert _exchanges(driver) == 2


def _assert_nothing_committed_and_in_step(driver: Pg8000Connection, direct_engine: Engine) -> None:
    """The transaction ended, none of it reached the table, and the connection's next exchange reads its own
    answer (no answer of the failed one was left in the socket)."""
    assert driver._transaction_status == b"I"
    with direct_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM driver_probe")).scalar_one() == 0
    cursor = driver.cursor()
    cursor.execute("SELECT %s::int", (6,))
    assert cursor.fetchall() == ([6],)
    driver.commit()


def test_a_written_statement_that_fails_is_raised_by_the_commit_and_nothing_is_committed(
    driver: Pg8000Connection, probe_table: str, direct_engine: Engine
) -> None:
    cursor = driver.cursor()
    cursor.execute("INSERT INTO driver_probe VALUES (%s, %s, %s)", (9, 1, "undone"))
    driver.write_in_transaction("SELECT 1 / 0")
    with pytest.raises(pg8000.dbapi.DatabaseError) as raised:  # commit() raises it unmapped, as pg8000's does
        driver.commit()
    # The statement's own error, not the COMMIT's: past a failed statement PostgreSQL answers COMMIT with a
    # ROLLBACK and no error, so a driver that raised only the COMMIT's would report a commit that undid all.
    assert raised.value.args[0]["C"] == "22012"
    _assert_nothing_committed_and_in_step(driver, direct_engine)


def test_a_read_routes_count_rides_with_the_commit(counted_app_engine: list[_CountedSocket]) -> None:
    from missout.ratelimit import Limit, count_hits_later

    with transaction() as conn:
        conn.execute(text("SELECT 1"))
    counted_app_engine.clear()
    with transaction() as conn:
        assert conn.execute(text("SELECT CAST(:n AS int)"), {"n": 5}).scalar_one() == 5
        pending = count_hits_later(conn, [Limit("ip", "192.0.2.77", 100, 60)])
    # BEGIN, the SET LOCALs and the SELECT; then the count and the COMMIT: the count has no wait of its own.
    assert [socket.exchanges for socket in counted_app_engine] == [2]
    (state,) = pending.states()
    assert (state.limit.value, state.hits) == ("192.0.2.77", 1)


PARAMSTYLE_TEXTS = (
    "SELECT 1",
    "SELECT %s, %s::int, '%s' AS literal_kept, \"col%s\" FROM t WHERE a = %s -- %s in a comment\nAND b = %s",
    "SELECT E'it\\'s %s', $$ %s $$, 100 %% 7, %s",
    "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT (a) DO UPDATE SET b = t.b + %s RETURNING t.a",
    "SELECT ?, ':name', :1",
    "SELECT ünï %s 鍵",
)


@pytest.mark.parametrize("style", ["format", "qmark", "numeric", "named", "pyformat"])
@pytest.mark.parametrize("text_", PARAMSTYLE_TEXTS)
def test_cached_placeholder_conversion_equals_pg8000s(style: str, text_: str) -> None:
    from pg8000.dbapi import convert_paramstyle

    from missout.db.driver import convert_paramstyle_cached

    args: Any = {"name": 1, "1": 2} if style in {"named", "pyformat"} else (1, 2, 3)
    try:
        expected: Any = convert_paramstyle(style, text_, args)
    except Exception as exc:  # the same refusal is what is compared
        expected = (type(exc), str(exc))
    for _ in range(2):  # the second answer comes from the cache for the values-unchanged styles
        try:
            got: Any = convert_paramstyle_cached(style, text_, args)
        except Exception as exc:
            got = (type(exc), str(exc))
        assert got == expected


def test_a_refused_text_is_refused_every_time() -> None:
    from pg8000.exceptions import InterfaceError

    from missout.db.driver import convert_paramstyle_cached

    for _ in range(2):
        with pytest.raises(InterfaceError, match="Only %s and %% are supported"):
            convert_paramstyle_cached("format", "SELECT %d", (1,))


def test_pg8000s_cursor_converts_each_text_once(driver: Pg8000Connection) -> None:
    from missout.db import driver as driver_module

    assert pg8000.legacy.convert_paramstyle is driver_module.convert_paramstyle_cached
    statement = "SELECT %s::int + %s::int AS a_text_only_this_test_sends"
    before = driver_module._converted_text.cache_info()
    cursor = driver.cursor()
    for n in range(3):
        cursor.execute(statement, (n, 1))
        assert cursor.fetchall() == ([n + 1],)
    after = driver_module._converted_text.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
    driver.commit()


def test_on_pg8000s_own_connection_a_written_statement_runs_at_once(direct_engine: Engine) -> None:
    from missout.db.written import write_statement

    with direct_engine.begin() as conn:
        assert not isinstance(conn.connection.driver_connection, Pg8000Connection)
        assert write_statement(conn, "SET LOCAL statement_timeout = 4321").rows() == []  # no rows to read
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "4321ms"
        assert write_statement(conn, "SELECT 2, 'two'").rows() == [[2, "two"]]


def test_deferred_writes_ride_with_the_next_answered_statement(
    counted_app_engine: list[_CountedSocket], probe_table: str
) -> None:
    from missout.db.written import answers_deferred

    with transaction() as conn:
        conn.execute(text("SELECT 1"))
    counted_app_engine.clear()
    with transaction() as conn:
        with answers_deferred(conn):
            conn.execute(text("INSERT INTO driver_probe VALUES (:n, :n, 'a')"), {"n": 1})
            conn.execute(text("INSERT INTO driver_probe VALUES (:n, :n, 'b')"), {"n": 2})
            conn.execute(text("UPDATE driver_probe SET note = :note WHERE n = :n"), {"note": "c", "n": 2})
        assert [socket.exchanges for socket in counted_app_engine] == [0]  # all written, none sent
        seen = conn.execute(text("SELECT string_agg(note, ',' ORDER BY n) FROM driver_probe")).scalar_one()
        assert seen == "a,c"  # the SELECT carried them, and their effects came first
    # BEGIN, the settings, the three writes and the SELECT in one exchange; the COMMIT in another.
    assert [socket.exchanges for socket in counted_app_engine] == [2]


def test_a_deferred_write_that_fails_is_raised_by_the_next_exchange_and_nothing_is_committed(
    app_database: TestDatabase, probe_table: str, direct_engine: Engine
) -> None:
    from missout.db.transaction import ConstraintViolation
    from missout.db.written import answers_deferred

    def insert_twice_then_read() -> None:
        with transaction() as conn:
            conn.execute(text("INSERT INTO driver_probe VALUES (1, 1, 'kept?')"))
            with answers_deferred(conn):
                conn.execute(text("INSERT INTO driver_probe VALUES (1, 2, 'twice')"))  # the primary key again
            conn.execute(text("SELECT 1"))  # carries it: raises the INSERT's error, not "transaction aborted"

    with pytest.raises(ConstraintViolation) as raised:
        insert_twice_then_read()
    assert raised.value.sqlstate == "23505"
    with direct_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM driver_probe")).scalar_one() == 0
    with transaction() as conn:  # the pooled connection that failed was not handed back out of step
        assert conn.execute(text("SELECT CAST(:n AS int)"), {"n": 4}).scalar_one() == 4


@contextmanager
def _deferring(driver: Pg8000Connection) -> Iterator[None]:
    """`answers_deferred` on the raw DB-API connection (written.py sets it through SQLAlchemy's)."""
    driver.answers_deferred = True
    try:
        yield
    finally:
        driver.answers_deferred = False


def test_a_statement_that_returns_rows_is_refused_while_answers_are_deferred(
    driver: Pg8000Connection, probe_table: str
) -> None:
    cursor = driver.cursor()
    cursor.execute("INSERT INTO driver_probe VALUES (%s, %s, %s)", (1, 1, "x"))
    exchanges = _exchanges(driver)
    with _deferring(driver):
        for statement in (
            "SELECT note FROM driver_probe WHERE n = %s",
            "  with t AS (SELECT 1) SELECT * FROM t WHERE 1 = %s",
            "UPDATE driver_probe SET note = 'y' WHERE n = %s RETURNING note",
        ):
            with pytest.raises(pg8000.dbapi.ProgrammingError, match="cannot be deferred"):
                cursor.execute(statement, (1,))
    assert _exchanges(driver) == exchanges  # nothing was sent, nor left written
    cursor.execute("SELECT note FROM driver_probe WHERE n = %s", (1,))
    assert cursor.fetchall() == (["x"],)
    driver.commit()


def test_rollback_undoes_a_failed_deferred_write_without_raising_its_error(
    driver: Pg8000Connection, probe_table: str, direct_engine: Engine
) -> None:
    cursor = driver.cursor()
    cursor.execute("INSERT INTO driver_probe VALUES (%s, %s, %s)", (5, 1, "first"))
    with _deferring(driver):
        cursor.execute("INSERT INTO driver_probe VALUES (%s, %s, %s)", (5, 2, "clash"))
    driver.rollback()  # the clash is read and dropped: the rollback undoes it with the rest
    _assert_nothing_committed_and_in_step(driver, direct_engine)


def test_recording_a_join_waits_three_times(
    counted_app_engine: list[_CountedSocket], direct_engine: Engine
) -> None:
    """The API's recording of a join on a known pool (tests/reliability/workload.py mirrors it): the lock and
    the replay guard; the activity row and the pool's read; the seats, the row and the join's proof with the
    COMMIT. Eight waits before the writes were deferred."""
    from tests.reliability.workload import JoinPlan, Lane, record_join, seed_pools

    (pool_id,) = seed_pools(direct_engine, 1)
    join = JoinPlan(direct_engine, Lane((pool_id,))).next()
    with transaction() as conn:
        conn.execute(text("SELECT 1"))
    counted_app_engine.clear()
    with transaction() as conn:
        record_join(conn, join)
    assert [socket.exchanges for socket in counted_app_engine] == [3]
    with direct_engine.connect() as conn:
        seated = conn.execute(
            text("SELECT join_signature FROM participants WHERE pool_id = :p AND wallet = :w"),
            {"p": pool_id, "w": join.wallet},
        ).scalar_one()
    assert seated == join.signature
