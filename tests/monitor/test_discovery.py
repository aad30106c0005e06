"""A pool nobody reported is found by the getProgramAccounts sweep (only pools naming our DEV wallet),
registered from its create transaction, and then driven like any other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from missout.db.tables import pools
from missout.monitor.discover import discover_pools
from tests.monitor.drive import drive_until, payouts
from tests.monitor.world import PROGRAM_ID, MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-discovery", direct_engine)
    yield made
    made.close()


def pool_count(world: MonitorWorld) -> int:
    with world.engine.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(pools)).scalar_one())


async def test_an_unreported_pool_is_registered_from_the_chain_and_driven(world: MonitorWorld) -> None:
    ours, _ = world.make_pool(size=2, joined=2)
    reported, _ = world.make_pool(size=3, joined=1)
    world.register(reported)
    foreign = world.wallet()  # a pool naming someone else's DEV wallet is not ours to find
    world.dev, mine = foreign, world.dev
    world.make_pool(size=2, joined=1)
    world.dev = mine

    async with world.rpc() as rpc:
        found = await discover_pools(rpc, world.app_engine, PROGRAM_ID, world.dev.pubkey())
        again = await discover_pools(rpc, world.app_engine, PROGRAM_ID, world.dev.pubkey())
    assert found.seen == 2
    assert len(found.registered) == 1
    assert found.failed == {}
    assert again.registered == []  # idempotent: the next sweep finds nothing new
    assert pool_count(world) == 2
    [pool_id] = found.registered
    record = world.record(pool_id)
    assert record["pool_address"] == str(ours)
    assert record["status"] == "locked"
    assert record["create_signature"] == str(
        world.chain.history.signatures_for_address(ours, limit=10)[-1].signature
    )
    await drive_until(world, lambda: pool_id in payouts(world))
