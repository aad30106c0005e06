"""Fixtures for the API tests: the database (through pgBouncer) and, for the routes that need it, the local
chain served over HTTP with the API pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from missout import settings
from tests.api.chain_api import served_world
from tests.support.database import TestDatabase
from tests.support.verify_world import VerifyWorld


@pytest.fixture
def roomy_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits high enough that tests which are not about rate limiting never meet one."""
    monkeypatch.setenv("API_RATE_LIMIT_PER_IP", "100000")
    monkeypatch.setenv("API_RATE_LIMIT_PER_WALLET", "100000")
    settings.clear_caches()


@pytest.fixture
def world(
    app_database: TestDatabase, roomy_limits: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[VerifyWorld]:
    with served_world(monkeypatch) as served:
        yield served
