"""GET /health through the real pooler, and what happens when the pooler goes away and comes back."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from missout import settings
from missout.db import reset_app_engine
from missout_api.app import create_app
from tests.support.database import TestDatabase
from tests.support.stack import stack


def test_health_reports_the_database_through_pgbouncer(app_database: TestDatabase) -> None:
    with TestClient(create_app()) as client:
        response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["pgbouncer"] is app_database.behind_pgbouncer
    assert body["database"]["server_version"].startswith(("15", "16", "17", "18"))
    assert "missout" not in body["database"]["target"].split("/")[0]  # no credentials, host:port/db only


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def own_pooler(
    app_database: TestDatabase, stack_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A pgBouncer of this test's own, so stopping it disturbs no other test."""
    if not app_database.behind_pgbouncer:
        pytest.skip("pgBouncer is not installed on this machine")
    name, port = f"health{_free_port()}", _free_port()
    stack("pgbouncer", "start", "--name", name, "--port", str(port))
    url = make_url(app_database.pooled_url).set(port=port).render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_S", "3")
    settings.clear_caches()
    reset_app_engine()
    try:
        yield name
    finally:
        stack("pgbouncer", "stop", "--name", name, check=False)
        # Forget the instance, so `dev/stack.sh status` and `stop` do not list it forever.
        shutil.rmtree(Path(stack_settings["MISSOUT_STACK_DIR"]) / "pgbouncer" / name, ignore_errors=True)


def test_pooler_outage_is_503_problem_and_recovers_without_restart(own_pooler: str) -> None:
    with TestClient(create_app()) as client:
        assert client.get("/health").status_code == 200

        stack("pgbouncer", "stop", "--name", own_pooler)
        started = time.monotonic()
        down = client.get("/health")
        elapsed = time.monotonic() - started
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert down.headers["retry-after"] == "5"
        assert down.json()["database"]["reachable"] is False
        assert elapsed < 3 + 1  # within the connect timeout, not hanging

        stack("pgbouncer", "start", "--name", own_pooler)
        assert client.get("/health").status_code == 200  # same app, same engine: no restart needed


def test_pools_route_answers_503_when_the_pooler_is_down(own_pooler: str) -> None:
    stack("pgbouncer", "stop", "--name", own_pooler)
    with TestClient(create_app()) as client:
        response = client.get("/api/pools")
    assert response.status_code == 503
    assert response.json()["dependency"] == "database"
    assert response.headers["retry-after"] == "5"


def test_the_openapi_document_gives_the_503_as_problem_json() -> None:
    # Generated clients and schemathesis read the content type of the outage answer from here.
    documented = create_app().openapi()["paths"]["/health"]["get"]["responses"]
    assert documented["503"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert "Retry-After" in documented["503"]["headers"]
    assert set(documented) == {"200", "503"}
