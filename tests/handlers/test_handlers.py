"""The real Lambda handlers fed the real events in events/ (the ones `sam local invoke` uses)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from local_lambda import lambda_context
from tests.support.database import TestDatabase
from tests.support.factories import SIG, insert_mint, insert_pool, key

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def _invoke_api(name: str) -> dict[str, Any]:
    from missout_api.handler import handler

    response: dict[str, Any] = handler(_event(name), lambda_context("api", 29))
    return response


def test_health_event(app_database: TestDatabase) -> None:
    response = _invoke_api("api_get_health.json")
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["database"]["reachable"] is True
    # The API Gateway request id is the correlation id the client sees.
    assert response["headers"]["x-request-id"] == _event("api_get_health.json")["requestContext"]["requestId"]


def test_pools_event_applies_its_query(app_database: TestDatabase, direct_engine: Engine) -> None:
    insert_mint(direct_engine)
    for n, status in enumerate(["open", "open", "open", "cancelled"]):
        insert_pool(direct_engine, pool_address=key(800 + n), create_signature=SIG(800 + n), status=status)
    response = _invoke_api("api_get_pools.json")  # ?limit=2&status=open
    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert len(body["items"]) == 2
    assert {p["status"] for p in body["items"]} == {"open"}
    assert body["next_cursor"]


@pytest.mark.parametrize(
    ("name", "status", "field"),
    [
        ("api_not_found.json", 404, None),
        ("api_method_not_allowed.json", 405, None),
        ("api_bad_query.json", 422, "limit"),
    ],
)
def test_error_events_are_problems(
    app_database: TestDatabase, name: str, status: int, field: str | None
) -> None:
    response = _invoke_api(name)
    assert response["statusCode"] == status
    assert response["headers"]["content-type"] == "application/problem+json"
    assert response["isBase64Encoded"] is False  # readable JSON for API Gateway, not base64
    body = json.loads(response["body"])
    assert body["status"] == status
    if field:
        assert body["errors"][0]["field"] == field


def test_the_api_handler_finds_its_loop_after_asyncio_run_and_in_any_thread_without_warnings(
    app_database: TestDatabase,
) -> None:
    """`asyncio.run` leaves its thread without a current loop, and worker threads never had one; the
    handler must still answer, and without the DeprecationWarning Python 3.12 gives for a missing loop."""

    async def nothing() -> None:
        return None

    answers: list[int] = []

    def invoke_strictly() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            answers.append(_invoke_api("api_get_health.json")["statusCode"])
            asyncio.run(nothing())  # what another library in the same process may do between calls
            answers.append(_invoke_api("api_get_health.json")["statusCode"])

    invoke_strictly()
    worker = threading.Thread(target=invoke_strictly)
    worker.start()
    worker.join(timeout=60)
    assert answers == [200, 200, 200, 200]


def test_importing_the_api_handler_gives_no_deprecation_warning() -> None:
    """Mangum's constructor asks for the current loop at import; on Python 3.12 that warns unless the handler
    has set one first (run under both interpreters by `make test` and `make test-py312`)."""
    repo = Path(__file__).resolve().parents[2]
    paths = [repo / "layers" / "shared", repo / "functions" / "api"]
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import missout_api.handler"],
        env={"PYTHONPATH": ":".join(str(p) for p in paths), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
