"""A monitor run killed between any step and the next (right after each of a pool's six transactions has
landed, before the run could settle or record it) is finished by a fresh invocation: every action lands
exactly once and the outcome is recorded once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from tests.monitor.drive import drive_until, payouts
from tests.monitor.intercept import Disturbance, disturbed
from tests.monitor.world import FAST_SEND, MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

ACTIONS = [
    "unlock_pool",
    "randomness_init",
    "request_randomness",
    "select_winner",
    "payout_winner",
    "randomness_close",
]
# Short leases so the next invocation may take over the crashed one's pool and intents without waiting long.
CRASH_LEASE_S = 0.3
CRASH_SEND = dataclasses.replace(FAST_SEND, max_lease_s=CRASH_LEASE_S, lease_margin_s=0.0)


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-crash-resume", direct_engine)
    yield made
    made.close()


@pytest.mark.parametrize("crash_after_send", [1, 2, 3, 4, 5, 6])
async def test_a_run_killed_after_any_landed_step_is_finished_once_by_the_next(
    world: MonitorWorld, crash_after_send: int
) -> None:
    pool, _ = world.make_pool(size=3, joined=3)
    pool_id = world.register(pool)
    before = world.dev_transactions()
    sends = 0
    crashed = asyncio.Event()

    def after(method: str) -> None:
        nonlocal sends
        if method == "sendTransaction":
            sends += 1
            if sends == crash_after_send:
                crashed.set()

    app = disturbed(world.app, Disturbance(after=after))
    doomed = asyncio.create_task(
        world.tick(world.config("doomed", lease_s=CRASH_LEASE_S), app=app, send_policy=CRASH_SEND)
    )
    waiter = asyncio.create_task(crashed.wait())
    await asyncio.wait({doomed, waiter}, return_when=asyncio.FIRST_COMPLETED)
    assert crashed.is_set(), "the run ended before its crash point"
    doomed.cancel()  # the process dies: no settle, no record, no release
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert world.record(pool_id)["leased_by"] == "doomed"  # its lease is left behind

    await asyncio.sleep(CRASH_LEASE_S + 0.1)  # the crashed run's leases run out
    fresh = world.config("fresh", lease_s=CRASH_LEASE_S)
    await drive_until(world, lambda: len(world.intents(pool_id)) == len(ACTIONS), config=fresh)

    assert world.pool_status(pool) is PoolStatus.ENDED
    assert world.dev_transactions() - before == len(ACTIONS)  # nothing sent twice
    assert [(i["action"], i["attempt"], i["status"]) for i in world.intents(pool_id)] == [
        (action, 1, "finalized") for action in ACTIONS
    ]
    assert payouts(world)[pool_id]["total_amount"] == 3 * 20_000_000
