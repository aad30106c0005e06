"""A refusal is judged for its action and by the state it means: "not yet" (try later), "already done"
(re-read the pool) or "failed" (a person must look), never one for another.

Real PostgreSQL through real pgBouncer for the intent rows; the real solana-py client into the local chain
running the pool program's model (mock-randomness pools: no oracle involved)."""

from __future__ import annotations

import pytest
from solders.instruction import Instruction
from solders.pubkey import Pubkey
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from missout.chain.instructions import (
    MOCK_RANDOMNESS_ACCOUNT,
    build_request_randomness,
    build_select_winner,
    build_unlock_pool,
)
from missout.chain.send import DurableSender, OutcomeKind, SendOutcome, SendResult, prepare_transaction
from missout.chain.send.intents import NewIntent, record_intent
from tests.chain.send_support import FAST, dev_transactions, intents, plenty, register_pool
from tests.support.crank_world import PROGRAM_ID, CrankWorld
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]


@pytest.fixture
def world() -> CrankWorld:
    return CrankWorld(b"send-judging-test")


@pytest.fixture
def pool(world: CrankWorld) -> Pubkey:
    return world.full_pool(allow_mock=True)


@pytest.fixture
def pool_id(app_database: TestDatabase, direct_engine: Engine, pool: Pubkey) -> int:
    return register_pool(direct_engine, pool)


def request(world: CrankWorld, pool: Pubkey) -> list[Instruction]:
    return [build_request_randomness(PROGRAM_ID, pool, MOCK_RANDOMNESS_ACCOUNT, world.dev.pubkey())]


async def send(world: CrankWorld, pool_id: int, action: str, instructions: list[Instruction]) -> SendOutcome:
    async with world.rpc() as rpc:
        sender = DurableSender(rpc, world.dev, plenty, policy=FAST)
        return await sender.send(pool_id, action, instructions)


async def test_requesting_randomness_of_a_pool_still_locked_is_not_yet(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    outcome = await send(world, pool_id, "request_randomness", request(world, pool))
    assert (outcome.result, outcome.kind) == (SendResult.NOT_YET, OutcomeKind.NOT_YET)
    assert "InvalidPoolStatus" in (outcome.error or "")
    assert world.pool_status(pool) is PoolStatus.LOCKED
    assert intents(direct_engine) == []
    assert dev_transactions(world) == 0


async def test_requesting_randomness_of_a_pool_past_the_commit_is_already_done(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    world.submit(world.dev, [build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())])
    world.submit(world.dev, request(world, pool))  # someone else committed
    outcome = await send(world, pool_id, "request_randomness", request(world, pool))
    assert (outcome.result, outcome.kind) == (SendResult.ALREADY_DONE, OutcomeKind.ALREADY_DONE)
    assert world.pool_status(pool) is PoolStatus.RANDOMNESS_COMMITTED
    assert intents(direct_engine) == []


async def test_selecting_a_winner_before_the_randomness_is_committed_is_not_yet(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    world.submit(world.dev, [build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())])
    select = [build_select_winner(PROGRAM_ID, pool, MOCK_RANDOMNESS_ACCOUNT, world.dev.pubkey())]

    outcome = await send(world, pool_id, "select_winner", select)
    assert (outcome.result, outcome.kind) == (SendResult.NOT_YET, OutcomeKind.NOT_YET)
    assert "RandomnessNotCommitted" in (outcome.error or "")
    assert intents(direct_engine) == []

    # Once committed, the same action goes through.
    assert (await send(world, pool_id, "request_randomness", request(world, pool))).kind is OutcomeKind.DONE
    assert (await send(world, pool_id, "select_winner", select)).kind is OutcomeKind.DONE
    assert world.pool_status(pool) is PoolStatus.WINNER_SELECTED


async def test_a_landed_status_guard_on_a_pool_past_the_action_settles_as_already_done(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    # A run recorded its request and crashed before sending; someone else committed meanwhile; the next
    # run's resume sends the recorded bytes, which land with the program's status guard.
    world.submit(world.dev, [build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())])
    async with world.rpc() as rpc:
        prepared = await prepare_transaction(rpc, request(world, pool), world.dev, FAST)
    new = NewIntent(
        pool_id, "request_randomness", prepared.signature, prepared.raw, prepared.last_valid_block_height
    )
    record_intent(None, new, 1, lease_s=0)
    world.chain.advance_slots(1)
    world.submit(world.dev, request(world, pool))

    async with world.rpc() as rpc:
        [outcome] = await DurableSender(rpc, world.dev, plenty, policy=FAST).resume()
    assert (outcome.result, outcome.kind) == (SendResult.ALREADY_DONE, OutcomeKind.ALREADY_DONE)
    [row] = intents(direct_engine)
    assert row["status"] == "already_done"
    assert row["landed_slot"] is not None
    assert world.landed(world.dev.pubkey())[-1] is not None  # ours landed, refused by the guard


async def test_an_error_no_state_explains_is_failed_for_good(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    # Signed by a wallet that is not the pool's DEV wallet: Unauthorized, whatever the pool's state.
    stranger = world.wallet()
    async with world.rpc() as rpc:
        sender = DurableSender(rpc, stranger, plenty, policy=FAST)
        outcome = await sender.send(
            pool_id, "unlock_pool", [build_unlock_pool(PROGRAM_ID, pool, stranger.pubkey())]
        )
    assert (outcome.result, outcome.kind) == (SendResult.FAILED, OutcomeKind.FAILED)
    assert "Unauthorized" in (outcome.error or "")
    assert world.pool_status(pool) is PoolStatus.LOCKED
    assert intents(direct_engine) == []


async def test_a_crank_over_the_packet_limit_fails_before_anything_is_recorded_or_sent(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    # Every node refuses it before parsing: retrying, or trying another endpoint, can never help.
    padding = Instruction(Pubkey.new_unique(), bytes(1_100), [])
    outcome = await send(world, pool_id, "request_randomness", [*request(world, pool), padding])
    assert (outcome.result, outcome.kind) == (SendResult.FAILED, OutcomeKind.FAILED)
    assert "over the 1232-byte limit" in (outcome.error or "")
    assert intents(direct_engine) == []
    assert dev_transactions(world) == 0
    assert world.pool_status(pool) is PoolStatus.LOCKED
