"""The monitor killed at random points over a run of 100 pools (the long tier of `make reliability`): each
run is cancelled right after a randomly chosen JSON-RPC call was served (mid-send, mid-confirmation,
between a landed transaction and its record), leaving its leases behind, as a Lambda timeout or a crash
would; the next run, under another name, takes over once those leases run out. In the end every pool has
ended exactly once: each of its six actions landed once, its payout recorded once, with exact amounts."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.monitor.intercept import Disturbance, disturbed
from tests.monitor.test_many_pools import ACTIONS_PER_POOL, all_closed, check_records, make_pools
from tests.monitor.world import FAST_SEND, MonitorWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet, pytest.mark.long]

POOLS = 100
MAX_RUNS = 80  # killed runs plus the clean ones that finish the work
LEASE_S = 0.3  # short, so the next run may take over the killed one's pools and intents soon
SEND = dataclasses.replace(FAST_SEND, max_lease_s=LEASE_S, lease_margin_s=0.0)
KILL_AFTER_CALLS = (1, 400)  # a kill point: the n-th JSON-RPC call served in that run, n drawn uniformly


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"reliability-monitor-kills", direct_engine)
    yield made
    made.close()


async def _run_until_killed(world: MonitorWorld, name: str, kill_after: int) -> bool:
    """One monitor run, cancelled once `kill_after` JSON-RPC calls were served; False if it ended first."""
    served = 0
    killed = asyncio.Event()

    def after(_method: str) -> None:
        nonlocal served
        served += 1
        if served == kill_after:
            killed.set()

    app = disturbed(world.app, Disturbance(after=after))
    run = asyncio.create_task(world.tick(world.config(name, lease_s=LEASE_S), app=app, send_policy=SEND))
    waiter = asyncio.create_task(killed.wait())
    await asyncio.wait({run, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if not killed.is_set():
        await run  # ended before its kill point: a clean run (its errors would surface here)
        return False
    run.cancel()  # the process dies: no settle, no record, no release of its leases
    with contextlib.suppress(asyncio.CancelledError):
        await run
    return True


async def test_the_monitor_killed_at_random_points_ends_every_pool_exactly_once(
    world: MonitorWorld, fault_report: list[dict[str, Any]]
) -> None:
    rng = random.Random(9)
    made = make_pools(world, POOLS)
    before = world.dev_transactions()
    kills, runs = 0, 0
    while not all_closed(world, made) and runs < MAX_RUNS:
        runs += 1
        if await _run_until_killed(world, f"run-{runs}", rng.randint(*KILL_AFTER_CALLS)):
            kills += 1
        world.chain.advance_slots(1)
        await asyncio.sleep(LEASE_S + 0.1)  # a killed run's leases run out
        world.due_now()
    sent = world.dev_transactions() - before
    ended = all_closed(world, made)
    fault_report.append(
        {
            "fault": "monitor killed at random points",
            "scenario": f"{POOLS} full pools; {runs} monitor runs, {kills} of them killed after a random "
            f"JSON-RPC call ({KILL_AFTER_CALLS[0]}..{KILL_AFTER_CALLS[1]}); counted per pool",
            "test": "tests/reliability/test_monitor_kills.py",
            "tried": POOLS,
            "committed": POOLS if ended else None,
            "failed_cleanly": 0,
            "committed_after_503": 0,
            "lost": 0 if ended else None,
            "half_written": 0 if ended else None,
            "other_errors": sent - len(ACTIONS_PER_POOL) * POOLS,  # transactions sent more than once
            "recovered": ended,
        }
    )
    assert kills >= 5, f"only {kills} runs were killed: the kill points missed the work"
    assert ended, f"not every pool ended after {runs} runs"
    check_records(world, made)  # every pool ended once, every action finalized at its first attempt
    assert sent == len(ACTIONS_PER_POOL) * POOLS  # nothing sent twice
