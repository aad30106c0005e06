"""Expiry is decided only from answers that have seen the slot the block height was read at, and a status
in the older shape (no `confirmationStatus`) settles.

The nodes are real JSON-RPC endpoints over the same local chain (tests/support/crank_world.py): a node three
slots behind, behind one URL with an up-to-date node (a load balancer), or as the second endpoint a client
fails over to; and a node answering signature statuses without `confirmationStatus`."""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from missout.chain.accounts import PoolStatus
from missout.chain.instructions import build_unlock_pool
from missout.chain.send import DurableSender, OutcomeKind, SendOutcome, SendResult
from tests.chain.send_support import FAST, intents, register_pool
from tests.support.crank_world import (
    PROGRAM_ID,
    Balancer,
    CrankWorld,
    Intercept,
    LaggingNode,
    OlderStatusShape,
    deadline_in,
)
from tests.support.database import TestDatabase

pytestmark = [pytest.mark.integration, pytest.mark.localnet]


@pytest.fixture
def world() -> CrankWorld:
    return CrankWorld(b"send-expiry-test")


@pytest.fixture
def pool(world: CrankWorld) -> Pubkey:
    return world.full_pool()


@pytest.fixture
def pool_id(app_database: TestDatabase, direct_engine: Engine, pool: Pubkey) -> int:
    return register_pool(direct_engine, pool)


def lands_in_the_last_valid_block(world: CrankWorld, app: ASGIApp) -> ASGIApp:
    """In front of `app`: the first send arrives when the chain is at the blockhash's last valid block
    height, so the transaction lands in that very block and the height is past it right after. Every later
    (re)send finds the chain one slot further on: time passes while the sender polls."""
    last_valid: list[int] = []
    sends = 0

    async def before(method: str) -> int | None:
        nonlocal sends
        if method == "getLatestBlockhash":
            last_valid.append(world.chain.clock.last_valid_block_height())
        if method == "sendTransaction":
            sends += 1
            if sends == 1:
                world.warp_to_block_height(last_valid[-1])
            else:
                world.chain.advance_slots(1)
        return None

    return Intercept(app, before)


async def send_unlock(
    world: CrankWorld, pool: Pubkey, pool_id: int, *apps: ASGIApp, failure_threshold: int = 3
) -> SendOutcome:
    async with world.rpc_endpoints(*apps, failure_threshold=failure_threshold) as rpc:
        sender = DurableSender(rpc, world.dev, deadline_in(10), policy=FAST)
        return await sender.send(
            pool_id, "unlock_pool", [build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())]
        )


def assert_landed_once_as_attempt_1(
    outcome: SendOutcome, world: CrankWorld, pool: Pubkey, engine: Engine
) -> None:
    assert (outcome.result, outcome.kind, outcome.attempt) == (SendResult.FINALIZED, OutcomeKind.DONE, 1)
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
    assert [(r["attempt"], r["status"]) for r in intents(engine)] == [(1, "finalized")]
    assert world.landed(world.dev.pubkey()) == [None]


async def test_a_lagging_status_node_behind_a_balancer_does_not_turn_a_landing_into_expiry(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    # One URL: statuses from a node three slots behind, everything else (height included) up to date.
    balancer = Balancer(world.app, {"getSignatureStatuses": LaggingNode(world, lag=3)})
    outcome = await send_unlock(world, pool, pool_id, lands_in_the_last_valid_block(world, balancer))
    assert_landed_once_as_attempt_1(outcome, world, pool, direct_engine)


async def test_a_lagging_failover_endpoint_does_not_turn_a_landing_into_expiry(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    # Two endpoints: the primary fails every status request, so statuses come from the second, which lags.
    # (Its breaker is kept closed: every request tries the primary first, and time moves with its sends.)
    async def primary_cannot_answer_statuses(method: str) -> int | None:
        return 503 if method == "getSignatureStatuses" else None

    primary = lands_in_the_last_valid_block(world, Intercept(world.app, primary_cannot_answer_statuses))
    lagging = LaggingNode(world, lag=3)
    outcome = await send_unlock(world, pool, pool_id, primary, lagging, failure_threshold=1_000_000)
    assert_landed_once_as_attempt_1(outcome, world, pool, direct_engine)


async def test_a_transaction_that_never_landed_still_expires_through_the_lagging_balancer(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    # The guard must not make expiry undecidable: once the lagging node has caught up past the height's
    # slot, an unknown signature is expired and attempt 2 is signed.
    sends = 0

    async def first_send_is_lost(method: str) -> int | None:
        nonlocal sends
        if method == "sendTransaction":
            sends += 1
            if sends == 1:
                world.chain.advance_slots(200)  # dropped, and the network moves past its blockhash
                return 503
        if method == "getSignatureStatuses":
            world.chain.advance_slots(1)
        return None

    balancer = Balancer(world.app, {"getSignatureStatuses": LaggingNode(world, lag=3)})
    outcome = await send_unlock(world, pool, pool_id, Intercept(balancer, first_send_is_lost))
    assert (outcome.result, outcome.attempt) == (SendResult.FINALIZED, 2)
    assert [(r["attempt"], r["status"]) for r in intents(direct_engine)] == [(1, "expired"), (2, "finalized")]
    assert world.landed(world.dev.pubkey()) == [None]


async def test_a_status_without_confirmation_status_and_null_confirmations_settles_as_finalized(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    older = OlderStatusShape(world)
    outcome = await send_unlock(world, pool, pool_id, older)
    assert_landed_once_as_attempt_1(outcome, world, pool, direct_engine)
    assert older.statuses_answered >= 1


async def test_an_older_status_still_counting_confirmations_is_awaited_then_settles(
    world: CrankWorld, pool: Pubkey, pool_id: int, direct_engine: Engine
) -> None:
    # `confirmations: 2` = landed, not yet rooted: no settlement, no resend, no new attempt; then null.
    older = OlderStatusShape(world, unrooted_answers=3)
    outcome = await send_unlock(world, pool, pool_id, older)
    assert_landed_once_as_attempt_1(outcome, world, pool, direct_engine)
    assert older.unrooted_left == 0
    assert older.statuses_answered >= 4
    [row] = intents(direct_engine)
    assert row["send_count"] == 1
