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
KILLS = 12  # runs killed; the runs after them are left to finish the work
CLEAN_RUNS = 30  # at most, after the kills
LEASE_S = 0.3  # short, so the next run may take over the killed one's pools and intents soon
SEND = dataclasses.replace(FAST_SEND, max_lease_s=LEASE_S, lease_margin_s=0.0)
# A kill point: the n-th JSON-RPC call served in that run, n drawn uniformly. The work over the 100 pools
# takes several thousand calls in all, so the kills fall anywhere from the first reads to the last records.
KILL_AFTER_CALLS = (1, 400)


@pytest.fixture
def world(app_database: TestDatabase, direct_engine: Engine) -> Iterator[MonitorWorld]:
    made = MonitorWorld(b"reliability-monitor-kills", direct_engine)
    yield made
    made.close()


def unsettled(world: MonitorWorld) -> list[tuple[Any, ...]]:
    return [(i["pool_id"], i["action"], i["status"]) for i in world.intents() if i["status"] != "finalized"]


async def _run_until_killed(world: MonitorWorld, name: str, kill_after: int | None) -> bool:
    """One monitor run, cancelled once `kill_after` JSON-RPC calls were served (never with None); False if
    it ended first."""
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
    while not all_closed(world, made) and runs < KILLS + CLEAN_RUNS:
        runs += 1
        kill_after = rng.randint(*KILL_AFTER_CALLS) if kills < KILLS else None
        if await _run_until_killed(world, f"run-{runs}", kill_after):
            kills += 1
        world.chain.advance_slots(1)
        await asyncio.sleep(LEASE_S + 0.1)  # a killed run's leases run out
        world.due_now()
    # A run killed between a transaction landing and its settlement leaves that intent `sent`; the pool may
    # already have moved on. Clean runs after the work is done must settle such leftovers.
    for _ in range(5):
        if not unsettled(world):
            break
        runs += 1
        await _run_until_killed(world, f"run-{runs}", None)
        world.chain.advance_slots(1)
        world.due_now()
    left = unsettled(world)
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
    assert kills == KILLS, f"only {kills} runs were killed: the work ended before the kill points"
    assert ended, f"not every pool ended after {runs} runs"
    assert not left, f"intents never settled after the kills: {left}"
    check_records(world, made)  # every pool ended once, every action finalized at its first attempt
    assert sent == len(ACTIONS_PER_POOL) * POOLS  # nothing sent twice
