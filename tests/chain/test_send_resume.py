"""Liveness: `resume()` claims a bounded batch, gives each intent a share of the run's time, and releases
whatever it did not drive, however it ends; an intent's lease ends with the run (plus a margin), never later.

Real PostgreSQL through real pgBouncer for the intent rows; the real solana-py client into the local chain."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from missout.chain.instructions import build_unlock_pool
from missout.chain.send import (
    DurableSender,
    SendPolicy,
    SendResult,
    policy_from_settings,
    prepare_transaction,
)
from missout.chain.send.intents import CrankIntent, NewIntent, record_intent
from missout.db.tables import crank_intents
from missout.settings import CrankSettings
from tests.chain.send_support import intents, register_pool
from tests.support.crank_world import PROGRAM_ID, CrankWorld, Intercept, deadline_in
from tests.support.database import TestDatabase
from tests.support.stack import REPO

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

# Resends every 50 ms; each resumed intent is worth at least 400 ms; at most 4 per resume.
POLICY = SendPolicy(
    resend_interval_s=0.05, poll_interval_s=0.01, safety_margin_ms=200, min_slice_ms=400, resume_batch=4
)


def stale_never_landing_intent(engine: Engine, number: int) -> CrankIntent:
    """What a crashed run leaves when its transaction never reaches a leader: bytes no node accepts, a
    signature no node knows, a blockhash that stays valid for as long as the test runs."""
    pool_id = register_pool(engine, Pubkey.new_unique())
    signature = str(Keypair().sign_message(b"never lands %d" % number))
    new = NewIntent(pool_id, "unlock_pool", signature, b"not a transaction", 10**15)
    return record_intent(None, new, 1, lease_s=0)


async def stale_unlock_intent(world: CrankWorld, engine: Engine) -> tuple[Pubkey, CrankIntent]:
    """A crashed run's signed, recorded, never sent unlock of a pool that is ready for it."""
    pool = world.full_pool()
    pool_id = register_pool(engine, pool)
    async with world.rpc() as rpc:
        prepared = await prepare_transaction(
            rpc, [build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())], world.dev, POLICY
        )
    new = NewIntent(
        pool_id, "unlock_pool", prepared.signature, prepared.raw, prepared.last_valid_block_height
    )
    return pool, record_intent(None, new, 1, lease_s=0)


def seconds_leased(engine: Engine) -> dict[int, float]:
    """Per intent id: how long its lease still runs (negative: free to claim)."""
    with engine.begin() as conn:
        rows = conn.execute(
            select(
                crank_intents.c.id, func.extract("epoch", crank_intents.c.lease_until - func.now())
            ).order_by(crank_intents.c.id)
        ).all()
    return {int(row[0]): float(row[1]) for row in rows}


async def test_an_intent_that_never_lands_does_not_hold_up_the_others(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    world = CrankWorld(b"send-resume-slices")
    stuck = stale_never_landing_intent(direct_engine, 1)  # oldest: driven first
    ready = [await stale_unlock_intent(world, direct_engine) for _ in range(3)]

    started = time.monotonic()
    async with world.rpc() as rpc:
        outcomes = await DurableSender(rpc, world.dev, deadline_in(4), policy=POLICY).resume()
    elapsed = time.monotonic() - started

    by_id = {o.signature: o.result for o in outcomes}
    assert by_id[stuck.signature] is SendResult.IN_FLIGHT
    assert [by_id[intent.signature] for _, intent in ready] == [SendResult.FINALIZED] * 3
    assert all(world.pool_status(pool) is PoolStatus.UNLOCKED for pool, _ in ready)
    assert elapsed < 4
    # The stuck one was given its share (about a quarter of the run), not the whole run.
    assert seconds_leased(direct_engine)[stuck.id] <= 0


async def test_resume_claims_a_bounded_batch_and_leaves_the_rest_free(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    world = CrankWorld(b"send-resume-batch")
    stale = [stale_never_landing_intent(direct_engine, n) for n in range(10)]

    async with world.rpc() as rpc:
        outcomes = await DurableSender(rpc, world.dev, deadline_in(3), policy=POLICY).resume()

    assert len(outcomes) == POLICY.resume_batch
    assert [o.signature for o in outcomes] == [intent.signature for intent in stale[: POLICY.resume_batch]]
    assert {o.result for o in outcomes} == {SendResult.IN_FLIGHT}
    # Every intent, driven or not, is free for the next run right away.
    assert all(left <= 0 for left in seconds_leased(direct_engine).values())
    statuses = [row["status"] for row in intents(direct_engine)]
    assert statuses == ["sent"] * POLICY.resume_batch + ["prepared"] * (10 - POLICY.resume_batch)


async def test_resume_claims_only_what_its_time_can_drive(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    world = CrankWorld(b"send-resume-short-run")
    for n in range(4):
        stale_never_landing_intent(direct_engine, n)

    async with world.rpc() as rpc:
        # 1 s left, 200 ms of it the safety margin: room for two slices of 400 ms.
        outcomes = await DurableSender(rpc, world.dev, deadline_in(1.0), policy=POLICY).resume()

    assert 1 <= len(outcomes) <= 2
    assert all(left <= 0 for left in seconds_leased(direct_engine).values())


async def test_a_cancelled_resume_releases_every_intent_it_claimed(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    world = CrankWorld(b"send-resume-cancelled")
    for n in range(4):
        stale_never_landing_intent(direct_engine, n)
    leases_while_running: list[dict[int, float]] = []

    async def look_at_the_leases(method: str) -> int | None:
        if method == "sendTransaction" and not leases_while_running:
            leases_while_running.append(seconds_leased(direct_engine))
        return None

    async with world.rpc(Intercept(world.app, look_at_the_leases)) as rpc:
        sender = DurableSender(rpc, world.dev, deadline_in(20), policy=POLICY)
        run = asyncio.create_task(sender.resume())
        await asyncio.sleep(0.5)  # the Lambda is shut down (or the caller times out) mid-resume
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    [while_running] = leases_while_running
    assert all(left > 0 for left in while_running.values())  # all four were claimed
    assert all(left <= 0 for left in seconds_leased(direct_engine).values())  # and all given back


async def test_a_lease_ends_with_the_run_plus_the_margin(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    world = CrankWorld(b"send-resume-lease")
    stale_never_landing_intent(direct_engine, 1)
    leases: list[float] = []

    async def look_at_the_lease(method: str) -> int | None:
        if method == "sendTransaction" and not leases:
            leases.extend(seconds_leased(direct_engine).values())
        return None

    assert POLICY.lease_margin_s == 5
    async with world.rpc(Intercept(world.app, look_at_the_lease)) as rpc:
        await DurableSender(rpc, world.dev, deadline_in(2), policy=POLICY).resume()

    # Leased for the 2 s the run had left plus the 5 s margin (a little less: time passed since the claim).
    [lease] = leases
    assert 5 < lease <= 7


def test_the_longest_lease_is_the_monitor_timeout_plus_the_margin() -> None:
    template = (REPO / "template.yaml").read_text(encoding="utf-8")
    monitor = template[template.index("  MonitorFunction:") :]
    timeout = int(re.search(r"^      Timeout: (\d+)$", monitor, re.MULTILINE).group(1))  # type: ignore[union-attr]

    defaults = CrankSettings()
    assert defaults.function_timeout_s == timeout
    policy = policy_from_settings(defaults)
    assert policy.max_lease_s == timeout + defaults.lease_margin_s
    assert policy.lease_s(remaining_ms=timeout * 1000) == policy.max_lease_s
    assert (
        policy.lease_s(remaining_ms=10 * 60 * 1000) == policy.max_lease_s
    )  # a wrong clock cannot stretch it
    assert policy.lease_s(remaining_ms=12_000) == 12 + defaults.lease_margin_s
    assert timedelta(seconds=policy.max_lease_s) < timedelta(seconds=2 * timeout)
