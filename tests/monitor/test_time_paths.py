"""The paths that only time opens: an unfilled pool swept and refunded, a cancelled pool refunded, refunds
left unclaimed for 30 days forfeited to the treasury and the rent claimed after, all driven by ticks alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from missout.lifecycle import LifecycleSettings
from missout.monitor.tick import TickConfig
from tests.monitor.drive import drive_until
from tests.monitor.world import ENTRY, MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

DAY = 86_400


def quick(world: MonitorWorld) -> TickConfig:
    """Open and Cancelled pools are looked at every `*_recheck_s`; zero here so a test need not wait."""
    lifecycle = LifecycleSettings(dev_wallet=world.dev.pubkey(), idle_recheck_s=0, open_recheck_s=0)
    return world.config(lifecycle=lifecycle)


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-time-paths", direct_engine)
    yield made
    made.close()


async def test_an_expired_unfilled_pool_is_swept_and_then_refunded(world: MonitorWorld) -> None:
    pool, players = world.make_pool(size=3, joined=2)
    pool_id = world.register(pool)
    await world.tick()
    assert world.record(pool_id)["status"] == "open"
    assert world.intents(pool_id) == []
    world.time_passes(14 * DAY)  # created + 7 d expiry: still 1 s short of the sweep
    await world.tick()
    assert world.intents(pool_id) == []  # not a second early
    world.time_passes(2)
    await drive_until(world, lambda: world.record(pool_id)["status"] == "cancelled")
    assert world.pool_status(pool) is PoolStatus.CANCELLED
    record = world.record(pool_id)
    assert record["status_reason"] == 1  # expired
    assert [(i["action"], i["status"]) for i in world.intents(pool_id)] == [
        ("sweep_expired_pool", "finalized")
    ]

    # The players refund themselves; the next looks bring the record in line with the chain.
    creator, joiner = players
    world.refund(pool, joiner)
    before = world.balance(creator.pubkey())
    world.refund(pool, creator)
    assert world.balance(creator.pubkey()) - before == ENTRY - ENTRY // 20  # the creator's 5 % burn
    world.time_passes(301)  # a Cancelled pool is looked at every 5 minutes while refunds are open
    await drive_until(world, lambda: world.record(pool_id)["participants_count"] == 0, config=quick(world))
    assert world.seats(pool_id) == {str(creator.pubkey()): None, str(joiner.pubkey()): None}
    assert world.record(pool_id)["participants_count"] == 0


async def test_a_cancelled_pool_is_refunded_by_its_players_and_the_dev_wallet_sends_nothing(
    world: MonitorWorld,
) -> None:
    pool, players = world.make_pool(size=4, joined=3)
    pool_id = world.register(pool)
    world.cancel(pool, players[0])
    world.refund(pool, players[1])
    before = world.dev_transactions()
    await world.tick()
    record = world.record(pool_id)
    assert (record["status"], record["status_reason"], record["participants_count"]) == ("cancelled", 5, 2)
    seats = world.seats(pool_id)
    assert seats[str(players[1].pubkey())] is None  # refunded: off the list
    assert seats[str(players[0].pubkey())] == 0
    assert seats[str(players[2].pubkey())] == 1  # shifted left on chain, and so in the record
    assert world.dev_transactions() == before


async def test_refunds_left_for_30_days_are_forfeited_to_the_treasury(world: MonitorWorld) -> None:
    pool, players = world.make_pool(size=3, joined=2)
    pool_id = world.register(pool)
    world.cancel(pool, players[0])
    await world.tick()
    world.time_passes(30 * DAY)  # close_time + 30 d: one second short
    await world.tick(quick(world))
    assert world.intents(pool_id) == []
    world.time_passes(2)
    treasury_before = world.balance(world.treasury.pubkey())
    await drive_until(world, lambda: world.record(pool_id)["status"] == "closed", config=quick(world))
    assert world.pool_status(pool) is PoolStatus.CLOSED
    assert world.balance(world.treasury.pubkey()) - treasury_before == 2 * ENTRY  # the whole vault
    assert [i["action"] for i in world.intents(pool_id)] == ["finalize_forfeited_pool"]
    assert world.record(pool_id)["next_check_at"] is None  # the record is final: never leased again
