"""The durable sender end to end: intent rows in real PostgreSQL through real pgBouncer, transactions through
the real solana-py `AsyncClient` into the local chain. Each test checks the effect on chain (the pool's
status, how many transactions the DEV wallet landed) and the intent rows left behind."""

from __future__ import annotations

import asyncio

import pytest
from solders.pubkey import Pubkey
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from missout.chain.accounts import PoolStatus
from missout.chain.instructions import build_unlock_pool
from missout.chain.send import DurableSender, SendPolicy, SendResult, prepare_transaction
from missout.chain.send.intents import NewIntent, record_intent
from tests.chain.send_support import FAST, dev_transactions, intents, plenty, register_pool
from tests.support.crank_world import PROGRAM_ID, CrankWorld, Intercept
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]


@pytest.fixture
def world() -> CrankWorld:
    return CrankWorld(b"durable-sender-test")


@pytest.fixture
def pool(world: CrankWorld) -> Pubkey:
    return world.full_pool()


@pytest.fixture
def pool_id(app_database: TestDatabase, direct_engine: Engine, pool: Pubkey) -> int:
    return register_pool(direct_engine, pool)


async def send_unlock(
    world: CrankWorld, pool: Pubkey, pool_id: int, app: ASGIApp | None = None
) -> SendResult:
    async with world.rpc(app) as rpc:
        sender = DurableSender(rpc, world.dev, plenty, policy=FAST)
        ix = build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())
        return (await sender.send(pool_id, "unlock_pool", [ix])).result


async def test_unlock_is_finalized_once_and_recorded(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    assert await send_unlock(world, pool, pool_id) is SendResult.FINALIZED
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
    [row] = intents(direct_engine)
    assert (row["action"], row["attempt"], row["status"], row["send_count"]) == (
        "unlock_pool",
        1,
        "finalized",
        1,
    )
    assert row["landed_slot"] is not None
    assert row["settled_at"] is not None
    assert row["first_sent_at"] is not None
    assert dev_transactions(world) == 1

    # A second run for the same action: the finalized attempt 1 refuses a new one, nothing is sent.
    assert await send_unlock(world, pool, pool_id) is SendResult.ALREADY_DONE
    assert len(intents(direct_engine)) == 1
    assert dev_transactions(world) == 1


async def test_unlocking_an_unlocked_pool_is_already_done(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    world.submit(world.dev, [build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())])  # someone else did it
    assert await send_unlock(world, pool, pool_id) is SendResult.ALREADY_DONE
    assert intents(direct_engine) == []
    assert dev_transactions(world) == 1


@pytest.mark.parametrize("sent_before_crash", [True, False])
async def test_resume_after_a_crash_finishes_the_action_exactly_once(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine, sent_before_crash: bool
) -> None:
    crashed_policy = SendPolicy(max_lease_s=0)  # a crashed run's lease has run out by the time we look
    async with world.rpc() as rpc:
        ix = build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())
        prepared = await prepare_transaction(rpc, [ix], world.dev, crashed_policy)
        new = NewIntent(
            pool_id, "unlock_pool", prepared.signature, prepared.raw, prepared.last_valid_block_height
        )
        record_intent(None, new, 1, crashed_policy.max_lease_s)
        if sent_before_crash:
            await rpc.send_raw_transaction(prepared.raw)  # ... and the process dies before noting it
    assert intents(direct_engine)[0]["status"] == "prepared"

    async with world.rpc() as rpc:
        outcomes = await DurableSender(rpc, world.dev, plenty, policy=FAST).resume()
    assert [(o.result, o.signature) for o in outcomes] == [(SendResult.FINALIZED, prepared.signature)]
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
    [row] = intents(direct_engine)
    assert (row["status"], row["signature"]) == ("finalized", prepared.signature)
    assert dev_transactions(world) == 1

    async with world.rpc() as rpc:  # nothing left to resume
        assert await DurableSender(rpc, world.dev, plenty, policy=FAST).resume() == []


async def test_expired_blockhash_leads_to_a_resigned_second_attempt(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    sends = 0

    async def first_send_is_lost(method: str) -> int | None:
        nonlocal sends
        if method == "sendTransaction":
            sends += 1
            if sends == 1:  # the leader drops it and the network moves past its blockhash
                world.chain.advance_slots(200)
        return None

    result = await send_unlock(world, pool, pool_id, Intercept(world.app, first_send_is_lost))
    assert result is SendResult.FINALIZED
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
    first, second = intents(direct_engine)
    assert (first["attempt"], first["status"], first["landed_slot"]) == (1, "expired", None)
    assert (second["attempt"], second["status"]) == (2, "finalized")
    assert first["signature"] != second["signature"]
    assert second["last_valid_block_height"] > first["last_valid_block_height"]
    assert dev_transactions(world) == 1


async def test_overlapping_senders_create_one_intent_and_one_transaction(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    both_simulated = asyncio.Event()
    simulations = 0

    async def pass_through(method: str) -> int | None:
        return None

    async def answer_once_both_simulated(method: str) -> None:
        # Neither run learns its simulation result before both simulated: they race to record an intent.
        nonlocal simulations
        if method == "simulateTransaction":
            simulations += 1
            if simulations == 2:
                both_simulated.set()
            await asyncio.wait_for(both_simulated.wait(), timeout=5)

    app = Intercept(world.app, pass_through, answer_once_both_simulated)
    results = await asyncio.gather(
        send_unlock(world, pool, pool_id, app), send_unlock(world, pool, pool_id, app)
    )
    assert sorted(r.value for r in results) == ["busy", "finalized"]
    [row] = intents(direct_engine)
    assert row["status"] == "finalized"
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
    assert dev_transactions(world) == 1


async def test_a_live_intent_held_by_another_run_is_left_alone(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    async with world.rpc() as rpc:
        ix = build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())
        prepared = await prepare_transaction(rpc, [ix], world.dev, FAST)
    new = NewIntent(
        pool_id, "unlock_pool", prepared.signature, prepared.raw, prepared.last_valid_block_height
    )
    record_intent(None, new, 1, lease_s=300)  # a live run owns it for five more minutes

    assert await send_unlock(world, pool, pool_id) is SendResult.BUSY
    assert [row["status"] for row in intents(direct_engine)] == ["prepared"]
    assert dev_transactions(world) == 0


async def test_an_rpc_500_on_send_is_retried_with_the_same_bytes(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    failed = False

    async def first_send_answers_500(method: str) -> int | None:
        nonlocal failed
        if method == "sendTransaction" and not failed:
            failed = True
            return 500
        return None

    result = await send_unlock(world, pool, pool_id, Intercept(world.app, first_send_answers_500))
    assert result is SendResult.FINALIZED
    assert failed
    [row] = intents(direct_engine)
    assert (row["attempt"], row["status"], row["send_count"]) == (1, "finalized", 2)
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
    assert dev_transactions(world) == 1


async def test_no_time_left_leaves_the_intent_live_for_the_next_run(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    async def sends_never_arrive(method: str) -> int | None:
        return 503 if method == "sendTransaction" else None

    budget = iter([60_000, 60_000] + [100] * 100)  # enough to record, then the Lambda is nearly out of time
    async with world.rpc(Intercept(world.app, sends_never_arrive)) as rpc:
        sender = DurableSender(rpc, world.dev, lambda: next(budget), policy=FAST)
        ix = build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())
        outcome = await sender.send(pool_id, "unlock_pool", [ix])
    assert outcome.result is SendResult.IN_FLIGHT
    [row] = intents(direct_engine)
    assert row["status"] in ("prepared", "sent")

    async with world.rpc() as rpc:  # the next run resumes it through a healthy endpoint
        [resumed] = await DurableSender(rpc, world.dev, plenty, policy=FAST).resume()
    assert (resumed.result, resumed.signature) == (SendResult.FINALIZED, row["signature"])
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
