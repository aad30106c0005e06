"""GET /api/monitor/status through the real API Lambda handler: what the monitor's records say, read-only."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from local_lambda import lambda_context
from missout.db.tables import crank_intents, pools
from tests.support.database import TestDatabase
from tests.support.factories import SIG, insert_mint, insert_pool, key

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"


def get(path: str, method: str = "GET") -> tuple[int, dict[str, Any]]:
    from missout_api.handler import handler

    # Mangum asks for the thread's current event loop, as a fresh Lambda process has one; async tests that
    # ran earlier in this process leave none set.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    event = json.loads((EVENTS / "api_get_health.json").read_text())
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    try:
        response = handler(event, lambda_context("api", 29))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return response["statusCode"], json.loads(response["body"])


def test_status_reports_lag_statuses_intents_stuck_dead_ends_and_the_next_deadline(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    now = datetime.now(UTC)
    late = insert_pool(
        direct_engine, pool_address=key(1), create_signature=SIG(1), next_check_at=now - timedelta(seconds=90)
    )
    committed = insert_pool(
        direct_engine,
        pool_address=key(2),
        create_signature=SIG(2),
        status="randomness_committed",
        randomness_commit_slot=5_000,
        next_check_at=now + timedelta(hours=1),
    )
    insert_pool(
        direct_engine,
        pool_address=key(3),
        create_signature=SIG(3),
        status="winner_selected",
        next_check_at=now + timedelta(hours=1),
    )
    with direct_engine.begin() as conn:
        conn.execute(
            update(pools).where(pools.c.id == committed).values(stuck_reason="select_winner: gateway down")
        )
        conn.execute(
            update(pools).where(pools.c.pool_address == key(3)).values(unpayable_reason="vault_mismatch")
        )
        conn.execute(
            insert(crank_intents).values(
                pool_id=late,
                action="unlock_pool",
                attempt=1,
                status="sent",
                signature=SIG(77),
                raw_transaction=b"\x00",
                last_valid_block_height=10,
            )
        )
    status, body = get("/api/monitor/status")
    assert status == 200
    assert body["lag_seconds"] >= 90
    assert body["due_pools"] == 1
    assert body["pools_by_status"] == {"open": 1, "randomness_committed": 1, "winner_selected": 1}
    assert [(i["pool_id"], i["action"], i["status"]) for i in body["live_intents"]] == [
        (late, "unlock_pool", "sent")
    ]
    assert [(s["id"], s["note"]) for s in body["stuck"]] == [(committed, "select_winner: gateway down")]
    assert [d["note"] for d in body["dead_ends"]] == ["vault_mismatch"]
    assert body["next_randomness_deadline"] == {
        "pool_id": committed,
        "address": key(2),
        "commit_slot": 5_000,
        "deadline_slot": 8_000,
    }


def test_status_is_read_only(app_database: TestDatabase) -> None:
    status, body = get("/api/monitor/status", method="POST")
    assert status == 405
    assert body["status"] == 405
