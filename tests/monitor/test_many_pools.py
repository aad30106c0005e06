"""A hundred pools at once, driven by one monitor, then by two overlapping ones: every record exact, every
action on chain exactly once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from solders.pubkey import Pubkey
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from missout.pools.split import payout_split
from tests.monitor.drive import chain_winner, drive_until, payout_activity, payouts
from tests.monitor.world import ENTRY, MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

POOLS = int(os.environ.get("MONITOR_TEST_POOLS", "100"))
OVERLAP_POOLS = min(POOLS, 40)
ACTIONS_PER_POOL = [
    "unlock_pool",
    "randomness_init",
    "request_randomness",
    "select_winner",
    "payout_winner",
    "randomness_close",
]


def make_pools(world: MonitorWorld, count: int = POOLS) -> dict[int, tuple[Pubkey, int]]:
    made: dict[int, tuple[Pubkey, int]] = {}
    for index in range(count):
        size = 2 + index % 4
        pool = world.full_pool(participants=size)
        made[world.register(pool)] = (pool, size)
    return made


def all_closed(world: MonitorWorld, made: dict[int, tuple[Pubkey, int]]) -> bool:
    """Paid, recorded, and the randomness account's rent recovered: everything the monitor does at once."""
    return len(payouts(world)) == len(made) and len(world.intents()) == len(ACTIONS_PER_POOL) * len(made)


def check_records(world: MonitorWorld, made: dict[int, tuple[Pubkey, int]]) -> None:
    recorded = payouts(world)
    assert set(recorded) == set(made)
    for pool_id, (pool, size) in made.items():
        assert world.pool_status(pool) is PoolStatus.ENDED
        record, payout = world.record(pool_id), recorded[pool_id]
        winner, seats = chain_winner(world, pool)
        total = size * ENTRY
        split = payout_split(total, dev_bps=500, burn_bps=0, treasury_bps=100)  # the world's fees
        dev, treasury = split.dev, split.treasury
        assert (record["status"], record["winner_wallet"]) == ("ended", winner)
        assert record["end_time"] is not None
        assert (payout["winner"], payout["total_amount"]) == (winner, total)
        assert (payout["dev_amount"], payout["treasury_amount"], payout["burn_amount"]) == (dev, treasury, 0)
        assert payout["winner_amount"] == total - dev - treasury
        assert winner in seats
        intents = world.intents(pool_id)
        assert [(i["action"], i["status"], i["attempt"]) for i in intents] == [
            (action, "finalized", 1) for action in ACTIONS_PER_POOL
        ]
    rows = payout_activity(world)
    assert len(rows) == 3 * len(made)  # winner, DEV wallet and treasury per pool
    assert sum(r["amount"] for r in rows) == sum(size * ENTRY for _, size in made.values())


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-hundred-pools", direct_engine)
    yield made
    made.close()


async def test_a_hundred_pools_are_driven_to_their_payout_with_exact_records(world: MonitorWorld) -> None:
    made = make_pools(world)
    before = world.dev_transactions()
    await drive_until(world, lambda: all_closed(world, made))
    check_records(world, made)
    assert world.dev_transactions() - before == len(ACTIONS_PER_POOL) * POOLS  # each action sent once


async def test_two_overlapping_monitors_send_every_action_exactly_once(world: MonitorWorld) -> None:
    """Fewer pools than above (test time): each run leases 20 at a time, so the two always work side by
    side, on disjoint pools, and race for the same intents whenever a lease is given back between them."""
    made = make_pools(world, OVERLAP_POOLS)
    before = world.dev_transactions()
    first, second = world.config("run-a", limit=20), world.config("run-b", limit=20)
    for _ in range(40):
        await asyncio.gather(world.tick(first), world.tick(second))
        if all_closed(world, made):
            break
        world.chain.advance_slots(1)
        await asyncio.sleep(0.02)
    check_records(world, made)
    assert world.dev_transactions() - before == len(ACTIONS_PER_POOL) * len(made)
