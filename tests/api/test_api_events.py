"""The API events in events/ (what `sam local invoke` feeds) through the real handler: each answers as the
contract says for an empty database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local_lambda import lambda_context
from tests.support.database import TestDatabase
from tests.support.verify_world import VerifyWorld

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _invoke(name: str) -> tuple[int, dict[str, Any]]:
    from missout_api.handler import handler

    response = handler(json.loads((EVENTS / name).read_text()), lambda_context("api", 29))
    return response["statusCode"], json.loads(response["body"])


def test_pool_event_of_an_unknown_pool_is_404(app_database: TestDatabase, roomy_limits: None) -> None:
    status, body = _invoke("api_get_pool.json")
    assert (status, body["type"]) == (404, "/problems/pool-not-found")


def test_claimable_event_of_a_new_wallet_is_empty(app_database: TestDatabase, roomy_limits: None) -> None:
    assert _invoke("api_get_claimable.json") == (200, {"refunds": [], "rents": []})


def test_join_event_for_a_pool_nobody_created_is_404(world: VerifyWorld) -> None:
    # The event's pool does not exist on this chain: registration from the chain finds no pool account.
    status, body = _invoke("api_post_join.json")
    assert (status, body["type"]) == (404, "/problems/pool-not-found")
