"""The monitor's database engine: the pooled URL like every other engine, but with a few client connections
kept open between transactions.

A tick runs dozens of short transactions per pool (lease, record, intent rows, release); with `NullPool` each
one pays TCP + SCRAM to pgBouncer again (bench/monitor_throughput.py measures the difference). Keeping the
*client* connection is safe behind a transaction pooler: pgBouncer only pins a server connection inside a
transaction, every statement here runs inside `transaction()`, and nothing session-scoped is ever set
(`SET LOCAL` only). Reset-on-return is a rollback, so a connection never goes back mid-transaction.

A tick takes one connection for all its transactions (missout/db/scope.py), so the pre-ping that guards a
checkout costs a round trip once per tick, not once per transaction (126 checkouts for a tick driving three
pools, before). Its connections are driver.py's, like the API's: fewer round trips per statement.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from missout.db.engine import app_plan, connect_args_for, guard_against_autocommit, use_our_connection
from missout.settings import database_settings

MONITOR_CONNECTIONS = 4  # enough for the pools a tick drives at once; pgBouncer multiplexes them anyway


@cache
def monitor_engine() -> Engine:
    plan, settings = app_plan(), database_settings()
    engine = create_engine(
        plan.url,
        connect_args=connect_args_for(plan, settings),
        pool_size=MONITOR_CONNECTIONS,
        max_overflow=MONITOR_CONNECTIONS,
        pool_timeout=settings.connect_timeout_s,
        pool_pre_ping=True,  # a connection the pooler dropped while the Lambda was frozen is replaced
        pool_recycle=300,
        pool_reset_on_return="rollback",
    )
    guard_against_autocommit(engine)
    use_our_connection(engine)
    return engine


def reset_monitor_engine() -> None:
    if monitor_engine.cache_info().currsize:
        monitor_engine().dispose()
    monitor_engine.cache_clear()
