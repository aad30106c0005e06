"""The real Lambda handlers fed the real events in events/ (the ones `sam local invoke` uses)."""

from __future__ import annotations

import json
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
