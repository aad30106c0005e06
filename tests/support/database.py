"""Integration tests run against real PostgreSQL through real pgBouncer in transaction mode.

The session starts the stack if it is not already up (and stops it again at the end if it started it), creates
a throw-away database migrated to head over the direct URL, and points the app at that database through the
pooler. Every test starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from missout import settings
from missout.db import reset_app_engine
from missout.db.tables import metadata
from tests.support.engines import local_engine
from tests.support.stack import REPO, stack, stack_env

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class TestDatabase:
    __test__ = False  # a fixture value, not a test class

    name: str
    pooled_url: str
    direct_url: str
    admin_url: str
    behind_pgbouncer: bool


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[dict[str, str]]:
    already_up = stack("status", check=False).returncode == 0
    if not already_up:
        stack("start")
    try:
        yield stack_env()
    finally:
        if not already_up:
            stack("stop", check=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin_engine(admin_url: str) -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction block; this is the direct URL (never the pooler),
    # the one place where autocommit is correct. `DROP DATABASE ... WITH (FORCE)` waits for the sessions it
    # ends, which on a loaded machine took longer than the role's 10 s statement timeout: none for these.
    return local_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"startup_params": {"statement_timeout": "0"}}
    )


def migrate(direct_url: str, revision: str = "head", *, down: bool = False) -> None:
    config = AlembicConfig(str(REPO / "alembic.ini"))
    previous = os.environ.get("DIRECT_DATABASE_URL")
    os.environ["DIRECT_DATABASE_URL"] = direct_url
    try:
        (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        if previous is None:
            os.environ.pop("DIRECT_DATABASE_URL", None)
        else:
            os.environ["DIRECT_DATABASE_URL"] = previous


@pytest.fixture(scope="session")
def test_database(stack_settings: dict[str, str]) -> Iterator[TestDatabase]:
    name = f"missout_test_{uuid.uuid4().hex[:10]}"
    admin_url = stack_settings["MISSOUT_ADMIN_DATABASE_URL"]
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = TestDatabase(
        name=name,
        pooled_url=_with_database(stack_settings["DATABASE_URL"], name),
        direct_url=_with_database(stack_settings["DIRECT_DATABASE_URL"], name),
        admin_url=admin_url,
        behind_pgbouncer=stack_settings.get("MISSOUT_PGBOUNCER") == "1",
    )
    try:
        migrate(database.direct_url)
        yield database
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app_database(test_database: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestDatabase]:
    """Point the app at the test database through the pooler; empty every table afterwards."""
    monkeypatch.setenv("DATABASE_URL", test_database.pooled_url)
    monkeypatch.delenv("DATABASE_URL_SECRET_ARN", raising=False)
    settings.clear_caches()
    reset_app_engine()
    yield test_database
    reset_app_engine()
    settings.clear_caches()
    direct = local_engine(test_database.direct_url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with direct.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    direct.dispose()


@pytest.fixture
def direct_engine(test_database: TestDatabase) -> Iterator[Engine]:
    """For test set-up and inspection only; the code under test goes through the pooler."""
    engine = local_engine(test_database.direct_url)
    yield engine
    engine.dispose()
