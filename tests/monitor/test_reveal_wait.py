"""The monitor tells the reveal when the commit landed: the `settled_at` of the pool's `request_randomness`
intent. The SDK's wait is "some seconds after the commit" (docs/switchboard.md "Reveal"), so a draw whose
commit was seen long ago asks the gateway at once, and one seen a moment ago waits only what is left.

The gateway's pauses go through an injected sleep that records them and returns at once (the test double
`RecordingSleep`), so nothing here depends on how fast the machine is: the wait is set to 30 s, far above
anything a tick takes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from solders.pubkey import Pubkey
from sqlalchemy import func, update
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from missout.chain.switchboard import GatewayRetryPolicy
from missout.db.tables import crank_intents
from tests.monitor.world import MonitorWorld
from tests.support.database import TestDatabase
from tests.support.switchboard_world import RecordingSleep

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

AFTER_COMMIT_S = 30.0
WAITING_GATEWAY = GatewayRetryPolicy(
    request_timeout_s=1.0, max_attempts=2, first_delay_s=0.01, max_delay_s=0.02, after_commit_s=AFTER_COMMIT_S
)


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-reveal-wait", direct_engine)
    yield made
    made.close()


async def committed_pool(world: MonitorWorld) -> tuple[Pubkey, int]:
    """A pool unlocked and committed by one tick that stops before the reveal; the chain then moves past
    the seed slot, so the gateway answers the first time it is asked."""
    pool = world.full_pool(participants=2)
    pool_id = world.register(pool)
    await world.tick(world.config(steps_per_pool=2))  # unlock, then init + commit; the reveal waits
    assert world.pool_status(pool) is PoolStatus.RANDOMNESS_COMMITTED
    request = [i for i in world.intents(pool_id) if i["action"] == "request_randomness"]
    assert [i["status"] for i in request] == ["finalized"]
    world.chain.advance_slots(2)
    world.due_now()
    return pool, pool_id


def commit_seen(world: MonitorWorld, pool_id: int, ago: timedelta) -> None:
    """Date the commit's intent back: as if its run had seen it finalized `ago` earlier."""
    with world.engine.begin() as conn:
        conn.execute(
            update(crank_intents)
            .where(crank_intents.c.pool_id == pool_id, crank_intents.c.action == "request_randomness")
            .values(settled_at=func.now() - ago)
        )


async def test_a_reveal_for_a_commit_seen_long_ago_asks_the_gateway_at_once(world: MonitorWorld) -> None:
    pool, pool_id = await committed_pool(world)
    commit_seen(world, pool_id, timedelta(hours=1))
    sleep = RecordingSleep()
    await world.tick(gateway_policy=WAITING_GATEWAY, gateway_sleep=sleep)
    assert sleep.pauses == []  # no wait before the first request, and the first answer was the reveal
    assert world.pool_status(pool) is PoolStatus.ENDED  # revealed, selected and paid in that tick
    actions = [(i["action"], i["status"]) for i in world.intents(pool_id)]
    assert ("select_winner", "finalized") in actions


async def test_a_reveal_for_a_commit_seen_moments_ago_waits_only_what_is_left(world: MonitorWorld) -> None:
    pool, pool_id = await committed_pool(world)
    commit_seen(world, pool_id, timedelta(seconds=10))
    sleep = RecordingSleep()
    await world.tick(gateway_policy=WAITING_GATEWAY, gateway_sleep=sleep)
    # 30 s after the commit, 10 s of it gone: at most 20 s left (less whatever the tick took to get there),
    # and still a wait: the full 30 s would mean the commit's time was not used, none that it was ignored.
    assert len(sleep.pauses) == 1
    assert 0 < sleep.pauses[0] <= AFTER_COMMIT_S - 10
    assert world.pool_status(pool) is PoolStatus.ENDED
