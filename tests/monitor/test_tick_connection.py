"""A monitor tick takes one connection from its engine's pool (missout/db/scope.py): its leases, intents,
outcomes and records, for every pool it drives, share it, and it goes back when the tick ends. (Each
checkout from the monitor's pool costs a pre-ping round trip, so one per tick instead of one per
transaction.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.monitor.world import MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-tick-connection", direct_engine)
    yield made
    made.close()


async def test_a_tick_driving_three_pools_checks_out_one_connection(world: MonitorWorld) -> None:
    for size in (2, 3, 4):
        world.register(world.full_pool(participants=size))
    counts = {"checked out": 0, "checked in": 0}

    def out(*_args: Any) -> None:
        counts["checked out"] += 1

    def back(*_args: Any) -> None:
        counts["checked in"] += 1

    event.listen(world.app_engine, "checkout", out)
    event.listen(world.app_engine, "checkin", back)
    try:
        report = await world.tick()
    finally:
        event.remove(world.app_engine, "checkout", out)
        event.remove(world.app_engine, "checkin", back)
    assert report.pools_seen == 3
    assert sum(report.actions.values()) >= 3, report.actions  # each pool was acted on (unlocked at least)
    assert len(world.intents()) >= 3  # and each action went through a durable intent: many transactions
    assert counts == {"checked out": 1, "checked in": 1}
