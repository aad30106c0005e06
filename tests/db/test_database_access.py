"""The transaction helper and the schema against real PostgreSQL through real pgBouncer."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from missout.db import ConstraintViolation, DatabaseUnavailable, app_engine, app_plan, transaction
from missout.db.engine import AutocommitForbidden
from missout.db.tables import U64_MAX, mints, pools, used_signatures
from missout.settings import DatabaseSettings
from tests.support.database import TestDatabase
from tests.support.factories import SIG, insert_mint, insert_pool, key


def test_app_reaches_the_database_through_pgbouncer(app_database: TestDatabase) -> None:
    if not app_database.behind_pgbouncer:
        pytest.skip("pgBouncer is not installed on this machine")
    plan = app_plan()
    assert plan.behind_pooler
    assert "pgbouncer=true" in plan.pooler_reason
    with transaction() as conn:
        # pgBouncer answers its own SHOW commands only on its admin console; the server answers this one.
        assert conn.execute(text("SELECT current_database()")).scalar_one() == app_database.name


def test_timeouts_are_transaction_local(app_database: TestDatabase) -> None:
    unusual = DatabaseSettings(url=app_database.pooled_url, statement_timeout_ms=1234, lock_timeout_ms=567)
    for _ in range(3):  # several rounds, so the pooler hands the same server connection back at least once
        with transaction(settings=unusual) as conn:
            assert conn.execute(text("SELECT current_setting('statement_timeout')")).scalar_one() == "1234ms"
            assert conn.execute(text("SELECT current_setting('lock_timeout')")).scalar_one() == "567ms"
        # A plain SET would leak to the pooled server connection's next client; SET LOCAL ends with COMMIT.
        with app_engine().begin() as raw:
            seen = raw.execute(text("SELECT current_setting('statement_timeout')")).scalar_one()
        assert seen != "1234ms"


def test_rollback_on_error_leaves_nothing_behind(app_database: TestDatabase, direct_engine: Engine) -> None:
    def write_then_fail() -> None:
        with transaction() as conn:
            conn.execute(insert(mints).values(address=key(1), token_program="spl-token", decimals=6))
            raise RuntimeError("fail after the write")

    with pytest.raises(RuntimeError):
        write_then_fail()
    with direct_engine.connect() as conn:
        assert conn.execute(select(mints)).all() == []


def test_u64_amounts_round_trip_exactly_and_overflow_is_refused(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    insert_pool(direct_engine, entry_amount=U64_MAX, total_amount=U64_MAX)
    with transaction() as conn:
        amount = conn.execute(select(pools.c.entry_amount)).scalar_one()
    assert amount == U64_MAX
    assert isinstance(amount, int)
    with pytest.raises(DBAPIError, match="ck_pools_entry_amount_u64"):
        insert_pool(direct_engine, pool_address=key(50), create_signature=SIG(50), entry_amount=U64_MAX + 1)


def test_a_signature_is_consumed_once_per_action_and_pool(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    pool_a = insert_pool(direct_engine)
    pool_b = insert_pool(direct_engine, pool_address=key(1_001), create_signature=SIG(1_001))
    join_a = {"signature": SIG(1), "action": "join_pool", "pool_id": pool_a, "wallet": key(2), "slot": 10}
    donate_b = {**join_a, "action": "donate", "pool_id": pool_b}
    with transaction() as conn:  # "join A + donate B" in one transaction: two real actions, both recorded
        conn.execute(insert(used_signatures).values(**join_a))
        conn.execute(insert(used_signatures).values(**donate_b))
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(insert(used_signatures).values(**join_a))
    assert (caught.value.sqlstate, caught.value.constraint) == ("23505", "pk_used_signatures")


def test_garbage_keys_never_land(app_database: TestDatabase, direct_engine: Engine) -> None:
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(insert(mints).values(address="0OIl not base58", token_program="spl-token", decimals=6))
    assert (caught.value.sqlstate, caught.value.constraint) == ("23514", "ck_mints_address_base58")


def test_autocommit_is_refused_on_a_real_connection(app_database: TestDatabase) -> None:
    engine = app_engine()
    with engine.connect() as conn:
        conn.connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        with pytest.raises(AutocommitForbidden):
            conn.execute(text("SELECT 1"))


def test_unreachable_database_is_unavailable_not_a_crash(
    app_database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from missout import settings
    from missout.db import reset_app_engine

    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://u:p@127.0.0.1:9/none?pgbouncer=true")
    settings.clear_caches()
    reset_app_engine()
    with pytest.raises(DatabaseUnavailable), transaction() as conn:
        conn.execute(text("SELECT 1"))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_unavailable_so_it_is_retried(
    app_database: TestDatabase, sqlstate: str
) -> None:
    """The server rolled the transaction back to settle a conflict: a clean, retryable 503, never a 500."""
    with pytest.raises(DatabaseUnavailable), transaction() as conn:
        conn.execute(text(f"DO $$ BEGIN RAISE SQLSTATE '{sqlstate}'; END $$"))
