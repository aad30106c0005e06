"""The one way to talk to the database: `with transaction() as conn:`.

Every statement runs inside an explicit BEGIN..COMMIT (see `engine.guard_against_autocommit` for why), the
transaction's own timeouts are set with `SET LOCAL` (a plain `SET` would leak to the next client of the pooled
server connection), and driver failures become `DatabaseUnavailable` so callers answer 503, not 500.

Stricter isolation is asked for with `transaction(isolation="serializable")`, which sends `SET TRANSACTION
ISOLATION LEVEL ...` as the transaction's first statement. SQLAlchemy's own isolation-level, read-only and
deferrable execution options must not be used: with pg8000 they send `SET SESSION CHARACTERISTICS`, session
state that pgBouncer hands to the next client of the server connection (measured: 556 of 1,200 plain
transactions ran SERIALIZABLE). A static test (tests/db/test_no_autocommit.py) forbids them.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from missout.db.engine import app_engine
from missout.db.scope import current_scope
from missout.db.written import write_statement
from missout.settings import DatabaseSettings, database_settings

# SQLSTATEs that mean "the database is overloaded or going away", not "your statement is wrong".
_UNAVAILABLE_SQLSTATES = {
    "57014",  # query_canceled (statement_timeout)
    "55P03",  # lock_not_available (lock_timeout)
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "53300",  # too_many_connections
    "08000",
    "08001",
    "08003",
    "08004",
    "08006",  # connection exceptions
    # The server rolled the transaction back to break a conflict with another: running it again is safe and
    # usually succeeds (the reports retry once: pools/transient.py). Lock order (pools/records.py,
    # `lock_pool_first`) keeps deadlocks out of the paths we know; this keeps any other from being a 500.
    "40P01",  # deadlock_detected
    "40001",  # serialization_failure
}


class DatabaseUnavailable(RuntimeError):
    """The database (or the pooler in front of it) cannot serve the request right now; retry later."""


class ConstraintViolation(RuntimeError):
    """A write broke an integrity constraint (SQLSTATE class 23). `constraint` is its name, e.g.
    `pk_used_signatures` for a replayed signature: callers branch on names, not on message text."""

    def __init__(self, sqlstate: str, constraint: str | None, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.constraint = constraint


def _server_fields(exc: DBAPIError) -> dict[str, str]:
    # pg8000 puts the server's error fields in args[0] as a dict: "C" SQLSTATE, "n" constraint, "M" message.
    # (It reports every server error as ProgrammingError, so the SQLSTATE is the only reliable class.)
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], dict):
        return {k: v for k, v in args[0].items() if isinstance(k, str) and isinstance(v, str)}
    return {}


def _sqlstate(exc: DBAPIError) -> str | None:
    return _server_fields(exc).get("C")


# Socket errors pg8000 can let through unwrapped (e.g. a reset read while rolling back). Connection-class
# only: a missing CA file or a permission error still fails loudly as the configuration error it is.
_CONNECTION_ERRNOS = frozenset(
    {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, errno.ECONNREFUSED, errno.ENOTCONN, errno.ESHUTDOWN}
    | {errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
)


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in _CONNECTION_ERRNOS


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or _sqlstate(exc) in _UNAVAILABLE_SQLSTATES
    )


Isolation = Literal["read committed", "repeatable read", "serializable"]
_ISOLATIONS: frozenset[str] = frozenset({"read committed", "repeatable read", "serializable"})


def characteristics_sql(isolation: Isolation | None, *, read_only: bool, deferrable: bool) -> str | None:
    """`SET TRANSACTION ...` for this transaction only, or None for the server's defaults."""
    if isolation is not None and isolation not in _ISOLATIONS:
        raise ValueError(f"unknown isolation level {isolation!r}")
    if deferrable and not (read_only and isolation == "serializable"):
        # PostgreSQL ignores DEFERRABLE elsewhere; asking for it there is a mistake worth hearing about.
        raise ValueError("deferrable applies only to a read-only serializable transaction")
    modes = []
    if isolation is not None:
        modes.append(f"ISOLATION LEVEL {isolation.upper()}")
    if read_only:
        modes.append("READ ONLY")
    if deferrable:
        modes.append("DEFERRABLE")
    return f"SET TRANSACTION {', '.join(modes)}" if modes else None


def timeouts_sql(settings: DatabaseSettings) -> str:
    # Integers validated by the settings model, so formatting them in is safe; one simple-protocol round trip.
    return (
        f"SET LOCAL statement_timeout = {int(settings.statement_timeout_ms)}; "
        f"SET LOCAL lock_timeout = {int(settings.lock_timeout_ms)}"
    )


@contextmanager
def transaction(
    engine: Engine | None = None,
    settings: DatabaseSettings | None = None,
    *,
    isolation: Isolation | None = None,
    read_only: bool = False,
    deferrable: bool = False,
) -> Iterator[Connection]:
    """Run a block in one database transaction: commit on success, roll back on any exception.

    Inside `connection_scope()` (an API request, a monitor tick) the transactions share the scope's
    connection (scope.py); otherwise each opens its own.

    `isolation`, `read_only` and `deferrable` apply to this transaction only (`SET TRANSACTION`), so they end
    with it and never reach the pooled server connection's next client."""
    settings = settings or database_settings()
    characteristics = characteristics_sql(isolation, read_only=read_only, deferrable=deferrable)
    # SET TRANSACTION must come before the transaction's first query; both go in one round trip.
    setup = "; ".join(part for part in (characteristics, timeouts_sql(settings)) if part)
    scope = current_scope()  # scope.py: the transactions of one request or tick share a connection
    engine = engine or app_engine()
    try:
        with scope.begin(engine) if scope else engine.begin() as conn:
            # Written with the BEGIN, sent with the block's first statement: no wait of its own (written.py).
            write_statement(conn, setup)
            yield conn
    except DBAPIError as exc:
        if is_unavailable(exc):
            raise DatabaseUnavailable(str(exc.orig) or type(exc.orig).__name__) from exc
        fields = _server_fields(exc)
        if fields.get("C", "").startswith("23"):
            raise ConstraintViolation(
                fields["C"], fields.get("n"), fields.get("M", "constraint violated")
            ) from exc
        raise
    except OSError as exc:
        # pg8000 lets socket errors escape as bare OSErrors, which SQLAlchemy does not wrap: a reset when the
        # pooler is killed mid-COMMIT, a socket timeout while pgBouncer holds the client during a PostgreSQL
        # restart (both found by tests/reliability). Both mean "unavailable", never a 500.
        if is_connection_error(exc):
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc
        raise
