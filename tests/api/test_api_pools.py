"""GET /api/pools against the real database through pgBouncer: filters before paging, stable cursors,
exact integer amounts as strings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from missout.db.tables import U64_MAX
from missout_api.app import create_app
from tests.support.database import TestDatabase
from tests.support.factories import SIG, insert_mint, insert_pool, key


@pytest.fixture
def client(app_database: TestDatabase) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _seed(engine: Engine) -> dict[str, list[int]]:
    """Ten pools, open and cancelled interleaved, created a minute apart (newest last)."""
    insert_mint(engine)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    ids: dict[str, list[int]] = {"open": [], "cancelled": []}
    for n in range(10):
        status = "open" if n % 2 == 0 else "cancelled"
        ids[status].append(
            insert_pool(
                engine,
                pool_address=key(500 + n),
                create_signature=SIG(500 + n),
                status=status,
                created_at=start + timedelta(minutes=n),
            )
        )
    return ids


def test_filters_apply_before_paging(client: TestClient, direct_engine: Engine) -> None:
    ids = _seed(direct_engine)
    first = client.get("/api/pools", params={"status": "open", "limit": 3}).json()
    assert [p["id"] for p in first["items"]] == list(reversed(ids["open"]))[:3]
    assert {p["status"] for p in first["items"]} == {"open"}
    second = client.get(
        "/api/pools", params={"status": "open", "limit": 3, "cursor": first["next_cursor"]}
    ).json()
    assert [p["id"] for p in second["items"]] == list(reversed(ids["open"]))[3:]
    assert second["next_cursor"] is None


def test_several_statuses_and_creator_filter(client: TestClient, direct_engine: Engine) -> None:
    _seed(direct_engine)
    both = client.get(
        "/api/pools", params=[("status", "open"), ("status", "cancelled"), ("limit", 100)]
    ).json()
    assert len(both["items"]) == 10
    assert client.get("/api/pools", params={"creator": key(2_000)}).json()["items"]
    assert client.get("/api/pools", params={"creator": key(9_999)}).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_amounts_are_exact_decimal_strings(client: TestClient, direct_engine: Engine) -> None:
    insert_mint(direct_engine, decimals=9, symbol="BIG")
    insert_pool(direct_engine, entry_amount=U64_MAX, total_amount=U64_MAX)
    (pool,) = client.get("/api/pools").json()["items"]
    assert pool["entry_amount"] == "18446744073709551615"
    assert pool["total_amount"] == "18446744073709551615"
    assert pool["mint"] == {"address": pool["mint"]["address"], "decimals": 9, "symbol": "BIG"}
    assert pool["created_at"].endswith("Z") or pool["created_at"].endswith("+00:00")


def test_tampered_cursor_is_422_naming_cursor(client: TestClient) -> None:
    response = client.get("/api/pools", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "cursor"
