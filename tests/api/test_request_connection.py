"""Each API request logs in to the database at most once (missout/db/scope.py), through the real handler: a
join report's preflight and its write share one connection across the chain calls between them, and no
connection outlives the request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from missout.db import app_engine
from tests.api.chain_api import invoke
from tests.support.verify_world import VerifyWorld


@pytest.fixture
def logins(world: VerifyWorld) -> Iterator[dict[str, int]]:
    counts = {"opened": 0, "closed": 0}
    engine = app_engine()

    def opened(_dbapi_connection: Any, _record: Any) -> None:
        counts["opened"] += 1

    def closed(_dbapi_connection: Any, _record: Any) -> None:
        counts["closed"] += 1

    event.listen(engine, "connect", opened)
    event.listen(engine, "close", closed)
    yield counts
    event.remove(engine, "connect", opened)
    event.remove(engine, "close", closed)


def test_a_join_report_logs_in_once_and_closes_before_it_answers(
    world: VerifyWorld, logins: dict[str, int]
) -> None:
    _, pool = world.create_pool()
    assert invoke("GET", "/api/pools").status == 200
    assert logins == {"opened": 1, "closed": 1}
    join = world.join(pool, world.player)
    answer = invoke(
        "POST", f"/api/pools/{pool}/join", body={"signature": join, "wallet": str(world.player.pubkey())}
    )
    assert answer.status == 201, answer.body
    # The preflight (replay lookup, pool lookup, rate-limit count) and the write (the seat, the activity, the
    # registration of the pool) are two transactions with the chain calls between them: one login.
    assert logins == {"opened": 2, "closed": 2}
    again = invoke(
        "POST", f"/api/pools/{pool}/join", body={"signature": join, "wallet": str(world.player.pubkey())}
    )
    assert again.status == 200  # a repeat: answered from the preflight alone
    assert logins == {"opened": 3, "closed": 3}
