"""A full pool driven from Locked to paid out by monitor ticks alone, through the modelled Switchboard."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from missout.db.tables import activity, pool_payouts
from tests.monitor.world import MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-one-pool", direct_engine)
    yield made
    made.close()


async def drive_until(world: MonitorWorld, done: object, ticks: int = 30) -> int:
    assert callable(done)
    for count in range(1, ticks + 1):
        await world.tick()
        if done():
            return count
        world.chain.advance_slots(1)
        await asyncio.sleep(0.05)
    raise AssertionError("not done")


async def test_one_pool_goes_from_locked_to_paid_out(world: MonitorWorld) -> None:
    pool = world.full_pool(participants=3)
    pool_id = world.register(pool)
    await drive_until(world, lambda: len(world.intents(pool_id)) == 6)
    assert world.pool_status(pool) is PoolStatus.ENDED
    record = world.record(pool_id)
    with world.engine.begin() as conn:
        payout = conn.execute(select(pool_payouts)).one()._mapping
        rows = conn.execute(select(activity).where(activity.c.kind == "payout")).all()
    total = 3 * 20_000_000
    assert payout["total_amount"] == total
    assert payout["dev_amount"] == total * 500 // 10_000
    assert payout["treasury_amount"] == total * 100 // 10_000
    assert payout["winner_amount"] == total - payout["dev_amount"] - payout["treasury_amount"]
    assert record["winner_wallet"] == payout["winner"]
    assert len(rows) == 3
    actions = [(i["action"], i["status"]) for i in world.intents(pool_id)]
    assert actions == [
        ("unlock_pool", "finalized"),
        ("randomness_init", "finalized"),
        ("request_randomness", "finalized"),
        ("select_winner", "finalized"),
        ("payout_winner", "finalized"),
        ("randomness_close", "finalized"),
    ]
