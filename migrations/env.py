"""Alembic environment: migrations run over DIRECT_DATABASE_URL only.

A transaction pooler (pgBouncer in transaction mode, Supavisor :6543) may hand consecutive statements to
different server connections and drops session state, so DDL, `SET lock_timeout` and the advisory lock below
would be unsafe through it: a pooled URL is refused with a message that says why.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from missout.db.connection_plan import plan_connection
from missout.db.tables import metadata
from missout.settings import DatabaseSettings, MigrationSettings, SettingsError, load

# Any constant shared by every migration runner: concurrent CI jobs queue instead of racing on DDL.
_MIGRATION_LOCK_KEY = 0x4D4953534F5554  # "MISSOUT"


def _direct_url() -> str:
    settings = load(MigrationSettings)
    url = settings.direct_database_url
    plan = plan_connection(url, variable="DIRECT_DATABASE_URL")
    if plan.behind_pooler:
        raise SettingsError(
            f"DIRECT_DATABASE_URL points at a transaction pooler ({plan.pooler_reason}). Migrations need a "
            "direct, session-capable PostgreSQL connection: a transaction pooler may run each statement on a "
            "different server connection and drops session settings and locks. Use the database's own "
            "host and port (or the session-mode pooler port)."
        )
    return url


def run_offline() -> None:
    context.configure(url=_direct_url(), target_metadata=metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    url = _direct_url()
    plan = plan_connection(url, variable="DIRECT_DATABASE_URL")
    from missout.db.engine import connect_args_for

    connect_args = connect_args_for(plan, DatabaseSettings(url=url, connect_timeout_s=30))
    engine = create_engine(plan.url, poolclass=NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            # Direct connection, inside the migration transaction: these settings end with it. A data migration
            # over production-sized tables (0003's seat backfill) outlasts the server's default statement
            # timeout, which is sized for the app; lock_timeout still keeps it from queueing behind traffic.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text("SET LOCAL statement_timeout = '15min'"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
