"""The RPC primary fails in the middle of a run and recovers later: the monitor carries on through the
secondary, every action lands once, and the primary is used again once it answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from sqlalchemy.engine import Engine

from localnet.transport import in_process_client
from missout.chain.rpc import RpcEndpoints, RpcEndpointsConfig, RpcSession
from missout.chain.switchboard import SwitchboardConfig
from missout.monitor.run import run_tick
from missout.monitor.tick import TickReport
from tests.monitor.drive import payouts
from tests.monitor.intercept import Disturbance, disturbed
from tests.monitor.world import FAST_GATEWAY, FAST_SEND, SECRET, MonitorWorld, plenty
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

POOLS = 6
ACTIONS_PER_POOL = 6


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"monitor-rpc-failover", direct_engine)
    yield made
    made.close()


@asynccontextmanager
async def two_endpoints(
    world: MonitorWorld, endpoints: RpcEndpoints, primary: Disturbance
) -> AsyncIterator[RpcSession]:
    clients = [
        in_process_client(disturbed(world.app, primary)),
        in_process_client(world.app),
    ]
    try:
        yield RpcSession(endpoints, clients)
    finally:
        for client in clients:
            await client.close()


async def tick(world: MonitorWorld, endpoints: RpcEndpoints, primary: Disturbance) -> TickReport:
    async with (
        two_endpoints(world, endpoints, primary) as rpc,
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=world.app)) as http,
    ):
        return await run_tick(
            rpc=rpc,
            gateway_http=http,
            dev=world.dev,
            randomness_secret=SECRET,
            switchboard=SwitchboardConfig.devnet(),
            config=world.config(),
            remaining_ms=plenty,
            engine=world.app_engine,
            send_policy=FAST_SEND,
            gateway_policy=FAST_GATEWAY,
            probe_gateway_health=False,
        )


async def test_the_primary_failing_mid_run_then_recovering(world: MonitorWorld) -> None:
    made = [world.make_pool(size=2, joined=2)[0] for _ in range(POOLS)]
    for pool in made:
        world.register(pool)
    # The primary's breaker opens after 2 failures and is tried again 0.3 s later.
    endpoints = RpcEndpoints(
        ["http://primary.invalid", "http://secondary.invalid"],
        RpcEndpointsConfig(failure_threshold=2, cooldown_s=0.3, backoff_base_s=0.01, backoff_max_s=0.05),
    )
    primary = Disturbance()

    def fail_mid_run(method: str) -> None:
        if len(primary.calls) == 40:  # the 40th call was served; from now on the primary is down
            primary.rpc_down = True

    primary.after = fail_mid_run
    before = world.dev_transactions()
    for _ in range(20):
        await tick(world, endpoints, primary)
        if len(world.intents()) == ACTIONS_PER_POOL * POOLS:
            break
        world.chain.advance_slots(1)
        world.due_now()
    assert primary.rpc_down  # it did fail in the middle of the work
    assert len(payouts(world)) == POOLS
    assert world.dev_transactions() - before == ACTIONS_PER_POOL * POOLS  # failover never sent twice
    primary_stats, secondary_stats = endpoints.stats()
    assert primary_stats.successes >= 40  # the primary did the first part
    assert secondary_stats.successes > 0  # the rest went on through the secondary
    assert primary_stats.failures >= 2

    primary.rpc_down = False  # it recovers
    calls_while_down = len(primary.calls)
    await asyncio.sleep(0.35)  # past the breaker's cool-down
    world.due_now()
    await tick(world, endpoints, primary)
    assert len(primary.calls) > calls_while_down  # asked again: the breaker let it back in
    assert endpoints.stats()[0].state == "closed"
