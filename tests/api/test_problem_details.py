"""Errors that need no database: RFC 9457 problem+json with the field named, never a bare 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from missout_api.app import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _problem(response: object) -> dict[str, object]:
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == response.status_code  # type: ignore[attr-defined]
    assert body["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    return body


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    body = _problem(client.get("/api/nope"))
    assert body["title"] == "Not found"
    assert body["instance"] == "/api/nope"


def test_wrong_method_is_405_problem_with_allow(client: TestClient) -> None:
    response = client.delete("/health")
    body = _problem(response)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert "DELETE" in str(body["detail"])


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=abc", "limit"), ("limit=0", "limit"), ("limit=101", "limit"), ("mint=xyz", "mint")],
)
def test_bad_query_is_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/pools?{query}")
    body = _problem(response)
    assert response.status_code == 422
    assert body["errors"] == [{"field": field, "in": "query", "message": body["errors"][0]["message"]}]  # type: ignore[index]
    assert field in str(body["detail"])


def test_unknown_status_is_422_naming_status(client: TestClient) -> None:
    body = _problem(client.get("/api/pools?status=open&status=won"))
    assert body["errors"][0]["field"] == "status"  # type: ignore[index]
    assert "won" in body["errors"][0]["message"]  # type: ignore[index]


def test_unexpected_error_is_500_problem_without_internals(client: TestClient) -> None:
    response = client.get("/boom")
    _problem(response)
    assert response.status_code == 500
    assert "secret" not in response.text


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/api/nope", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert isinstance(create_app(), FastAPI)
