"""Migrations on a fresh database: up, no drift from the tables module, down to nothing, up again; and the
refusal to migrate through a transaction pooler."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect, text

from missout.db.tables import metadata
from missout.settings import SettingsError
from tests.support.database import TestDatabase, _admin_engine, _with_database, migrate
from tests.support.engines import local_engine
from tests.support.factories import SIG, key
from tests.support.stack import REPO


@pytest.fixture
def empty_database(test_database: TestDatabase) -> Iterator[str]:
    name = f"missout_mig_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(test_database.admin_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(test_database.direct_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = local_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(empty_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate(empty_database)
    assert _tables(empty_database) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}

    monkeypatch.setenv("DIRECT_DATABASE_URL", empty_database)
    command.check(AlembicConfig(str(REPO / "alembic.ini")))  # raises if the models drifted from migrations

    migrate(empty_database, "base", down=True)
    assert _tables(empty_database) == {"alembic_version"}
    migrate(empty_database)
    assert "pools" in _tables(empty_database)


def test_pooled_url_is_refused_with_the_reason(test_database: TestDatabase) -> None:
    if not test_database.behind_pgbouncer:
        pytest.skip("pgBouncer is not installed on this machine: there is no pooled URL")
    with pytest.raises(SettingsError, match="transaction pooler") as caught:
        migrate(test_database.pooled_url)
    assert "session" in str(caught.value)
    assert os.environ.get("DIRECT_DATABASE_URL") != test_database.pooled_url  # environment restored


def test_0003_upgrades_rows_written_under_0002_and_back(empty_database: str) -> None:
    # Rows as 0002 allowed them: seats implied by join order (one refunded), reward events with no
    # allocation, a replay guard keyed by signature alone.
    migrate(empty_database, "0002")
    engine = local_engine(empty_database)
    mint, creator, joiner, refunded = key(1), key(2), key(3), key(4)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO mints (address, token_program, decimals) VALUES (:m, 'spl-token', 6)"),
                {"m": mint},
            )
            pool_id = conn.execute(
                text(
                    "INSERT INTO pools (pool_address, mint, creator_wallet, entry_amount, max_participants,"
                    " lock_duration_seconds, status, start_time, create_signature)"
                    " VALUES (:a, :m, :c, 5, 3, 60, 'cancelled', now(), :s) RETURNING id"
                ),
                {"a": key(9), "m": mint, "c": creator, "s": SIG(1)},
            ).scalar_one()
            for n, (wallet, refund) in enumerate(((creator, False), (refunded, True), (joiner, False))):
                conn.execute(
                    text(
                        "INSERT INTO participants (pool_id, wallet, join_signature, joined_at,"
                        " refund_claimed) VALUES (:p, :w, :s, now() + :n * interval '1 second', :r)"
                    ),
                    {"p": pool_id, "w": wallet, "s": SIG(10 + n), "n": n, "r": refund},
                )
            for referrer, amount in ((key(5), 3), (key(6), 4)):
                conn.execute(
                    text(
                        "INSERT INTO referral_reward_events (pool_id, mint, referrer_wallet, amount)"
                        " VALUES (:p, :m, :r, :a)"
                    ),
                    {"p": pool_id, "m": mint, "r": referrer, "a": amount},
                )
            conn.execute(
                text(
                    "INSERT INTO used_signatures (signature, action, pool_id, wallet, slot)"
                    " VALUES (:s, 'join_pool', :p, :w, 1)"
                ),
                {"s": SIG(11), "p": pool_id, "w": joiner},
            )

        migrate(empty_database)
        with engine.begin() as conn:
            seats = {
                wallet: seat for wallet, seat in conn.execute(text("SELECT wallet, seat FROM participants"))
            }
            allocation = conn.execute(text("SELECT pool_id, mint, total FROM referral_allocations")).one()
            guard = conn.execute(text("SELECT signature, action, pool_id FROM used_signatures")).one()
        assert seats == {creator: 0, refunded: None, joiner: 1}  # join order; a refunded wallet has no seat
        assert tuple(allocation) == (pool_id, mint, 7)  # the events' sum, so the new key holds for them
        assert tuple(guard) == (SIG(11), "join_pool", pool_id)

        migrate(empty_database, "0002", down=True)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM participants")).scalar_one() == 3
            assert conn.execute(text("SELECT count(*) FROM referral_reward_events")).scalar_one() == 2
            assert conn.execute(text("SELECT count(*) FROM used_signatures")).scalar_one() == 1
    finally:
        engine.dispose()
