"""The SQLAlchemy engine: one per process, lazy (no connection until first use), pooler-aware.

Behind pgBouncer in transaction mode the client keeps no pool of its own (NullPool): the pooler is the pool,
and a Lambda frozen between invocations cannot keep sockets healthy anyway. Direct to PostgreSQL (local
tools, migrations) a small pool with pre-ping is kept.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

import missout.db.scram  # noqa: F401  (loaded for its effect: the SCRAM key is derived once, scram.py)
from missout.db.connection_plan import ConnectionPlan, TlsPolicy, plan_connection
from missout.db.driver import make_pg8000_connection
from missout.db.timestamps import read_timestamps_fast
from missout.settings import DatabaseSettings, database_settings


class AutocommitForbidden(RuntimeError):
    """A statement was about to run in autocommit mode (wrong results behind a transaction pooler)."""


@cache
def _ssl_context(policy: TlsPolicy, ca_file: str | None) -> ssl.SSLContext:
    # One context per (policy, CA): building one costs ~15 ms (loading the trust store), per connect is waste.
    context = ssl.create_default_context(cafile=ca_file)
    if policy == "verify-ca":
        context.check_hostname = False
    return context


def connect_args_for(plan: ConnectionPlan, settings: DatabaseSettings) -> dict[str, Any]:
    return {
        # False, not None: None makes pg8000 try unverified TLS, building a new SSLContext per connect.
        "ssl_context": False if plan.tls == "off" else _ssl_context(plan.tls, plan.ca_file),
        # socket timeout: without it pg8000 blocks forever on a dead peer
        "timeout": settings.connect_timeout_s,
        "application_name": settings.application_name,
    }


def build_engine(plan: ConnectionPlan, settings: DatabaseSettings) -> Engine:
    pool_options: dict[str, Any] = (
        {"poolclass": NullPool}
        if plan.behind_pooler
        else {"pool_size": 2, "max_overflow": 2, "pool_pre_ping": True, "pool_recycle": 300}
    )
    engine = create_engine(plan.url, connect_args=connect_args_for(plan, settings), **pool_options)
    guard_against_autocommit(engine)
    use_our_connection(engine)
    return engine


def use_our_connection(engine: Engine) -> None:
    """Every engine of the app connects with driver.py's connection (fewer round trips per statement) and
    reads timestamps fast (timestamps.py)."""
    event.listen(engine, "do_connect", make_pg8000_connection)
    event.listen(engine, "connect", lambda dbapi_connection, _record: read_timestamps_fast(dbapi_connection))


def guard_against_autocommit(engine: Engine) -> None:
    """Refuse any statement on a connection switched to autocommit.

    pg8000's own connection sends Parse, Describe and Bind/Execute separated by Sync; outside BEGIN..COMMIT a
    transaction pooler may route them to different server connections, which was measured to give errors and
    silently wrong results. Ours (driver.py) sends them in one exchange, but a statement outside a transaction
    would also run without the transaction's timeouts (transaction.py), so the rule stays: every statement
    runs inside BEGIN..COMMIT, where the server connection stays pinned. This listener makes the rule a hard
    failure instead of a code-review convention."""

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_autocommit(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if getattr(dbapi_connection, "autocommit", False):
            raise AutocommitForbidden(f"autocommit statement refused: {statement[:60]!r}")


@cache
def app_plan() -> ConnectionPlan:
    settings = database_settings()
    return plan_connection(
        settings.resolved_url(),
        pgbouncer=settings.pgbouncer,
        sslmode=settings.sslmode,
        ca_file=settings.ca_file,
    )


@cache
def app_engine() -> Engine:
    """The process-wide engine on the pooled URL (created lazily; opening it does no I/O)."""
    return build_engine(app_plan(), database_settings())


def reset_app_engine() -> None:
    """Drop the cached engine and plan (tests point the app at another database)."""
    if app_engine.cache_info().currsize:
        app_engine().dispose()
    app_engine.cache_clear()
    app_plan.cache_clear()
