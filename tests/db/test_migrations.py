"""Migrations on a fresh database: up, no drift from the tables module, down to nothing, up again; and the
refusal to migrate through a transaction pooler."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from missout.db.tables import metadata
from missout.settings import SettingsError
from tests.support.database import TestDatabase, _admin_engine, _with_database, migrate
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
    engine = create_engine(url, poolclass=NullPool)
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
