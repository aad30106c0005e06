"""Fixtures for the people tests: the database behind pgBouncer with limits out of the way."""

from __future__ import annotations

import pytest

from missout import settings
from tests.support.database import TestDatabase


@pytest.fixture
def people_db(app_database: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> TestDatabase:
    monkeypatch.setenv("API_RATE_LIMIT_PER_IP", "100000")
    monkeypatch.setenv("API_RATE_LIMIT_PER_WALLET", "100000")
    monkeypatch.setenv("API_SIGNIN_DOMAIN", "missout.test")
    monkeypatch.setenv("API_SIGNIN_URI", "https://missout.test")
    settings.clear_caches()
    return app_database
