"""One effect per (pool, action): attempt N is inserted only after attempt N - 1 provably had no effect, and a
(pool, action) whose transaction finalized is done for good, whatever the program would still allow.

Real PostgreSQL through real pgBouncer for the intent rows; the real solana-py client into the local chain."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from solders.pubkey import Pubkey
from sqlalchemy import update
from sqlalchemy.engine import Engine

import missout.chain.send.intents as intents_module
import missout.chain.send.sender as sender_module
from missout.chain.accounts import PoolStatus
from missout.chain.instructions import build_claim_refund_forfeit, build_unlock_pool
from missout.chain.pool_keys import PoolKeys
from missout.chain.send import DurableSender, IntentStatus, OutcomeKind, SendOutcome, SendResult
from missout.chain.send.intents import AttemptRefused, CrankIntent, NewIntent, record_intent
from missout.db.tables import crank_intents
from tests.chain.send_support import FAST, intents, plenty, register_pool
from tests.support.crank_world import ENTRY, PROGRAM_ID, CrankWorld, Intercept
from tests.support.database import TestDatabase
from tests.support.factories import SIG

pytestmark = [pytest.mark.integration, pytest.mark.localnet]


def _new(pool_id: int, n: int) -> NewIntent:
    return NewIntent(pool_id, "unlock_pool", SIG(n), bytes([n]) * 8, 1_000 + n)


def _set_status(engine: Engine, intent: CrankIntent, status: IntentStatus) -> None:
    with engine.begin() as conn:
        conn.execute(update(crank_intents).where(crank_intents.c.id == intent.id).values(status=status.value))


@pytest.mark.parametrize(
    ("previous", "refused_because"),
    [
        (IntentStatus.FINALIZED, IntentStatus.FINALIZED),
        (IntentStatus.ALREADY_DONE, IntentStatus.ALREADY_DONE),
        (IntentStatus.SENT, IntentStatus.SENT),
        (IntentStatus.EXPIRED, None),
        (IntentStatus.FAILED, None),
    ],
)
def test_attempt_n_is_inserted_only_after_attempt_n_minus_1_expired_or_failed(
    app_database: TestDatabase,
    direct_engine: Engine,
    previous: IntentStatus,
    refused_because: IntentStatus | None,
) -> None:
    pool_id = register_pool(direct_engine, Pubkey.new_unique())
    first = record_intent(None, _new(pool_id, 1), 1, lease_s=30)
    _set_status(direct_engine, first, previous)

    if refused_because is None:
        second = record_intent(None, _new(pool_id, 2), 2, lease_s=30)
        assert (second.attempt, second.status) == (2, IntentStatus.PREPARED)
    else:
        with pytest.raises(AttemptRefused) as refused:
            record_intent(None, _new(pool_id, 2), 2, lease_s=30)
        assert refused.value.status is refused_because
        assert [row["attempt"] for row in intents(direct_engine)] == [1]


def test_attempt_1_is_refused_once_the_action_has_any_history(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    pool_id = register_pool(direct_engine, Pubkey.new_unique())
    first = record_intent(None, _new(pool_id, 1), 1, lease_s=30)
    _set_status(direct_engine, first, IntentStatus.FINALIZED)
    with pytest.raises(AttemptRefused):
        record_intent(None, _new(pool_id, 2), 1, lease_s=30)  # a run that numbered before the first existed


async def test_a_run_that_checked_before_another_recorded_does_not_send_a_second_time(
    app_database: TestDatabase, direct_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving of the adversarial run: B finds no live intent; A records attempt 1; B goes on (on
    the old code: numbered attempt 2 and simulated it, which passed, A's transaction not having landed);
    A lands and settles; B records and sends. A runs in a thread of its own (its own event loop and RPC
    client); the interleaving is forced by holding B right after its real `find_live_intent` returned
    until A has recorded, and A before its first send until B has simulated (or given up)."""
    world = CrankWorld(b"send-attempts-interleaving")
    pool = world.full_pool()
    pool_id = register_pool(direct_engine, pool)
    ix = build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())
    a_may_send = threading.Event()

    async def a_waits_before_sending(method: str) -> int | None:
        if method == "sendTransaction":
            await until(a_may_send.is_set)
        return None

    async def run_a() -> SendOutcome:
        async with world.rpc(Intercept(world.app, a_waits_before_sending)) as rpc:
            return await DurableSender(rpc, world.dev, plenty, policy=FAST).send(pool_id, "unlock_pool", [ix])

    a_thread = ThreadPoolExecutor(max_workers=1)
    a_result: Future[SendOutcome] | None = None
    real_find_live_intent = intents_module.find_live_intent

    def find_then_let_a_record(engine: Engine | None, pool_id: int, action: str) -> CrankIntent | None:
        nonlocal a_result
        found = real_find_live_intent(engine, pool_id, action)
        if a_result is None:  # B's check is done: A records attempt 1 now, before B goes on
            a_result = a_thread.submit(asyncio.run, run_a())
            deadline = time.monotonic() + 10
            while not intents(direct_engine):
                assert time.monotonic() < deadline, "A never recorded"
                time.sleep(0.01)
            # A slot passes: B's blockhash is a newer one, so its transaction is not A's very bytes.
            world.chain.advance_slots(1)
        return found

    async def b_lets_a_land_after_simulating(method: str) -> None:
        if method == "simulateTransaction":
            a_may_send.set()
            await until(lambda: [r["status"] for r in intents(direct_engine)][:1] == ["finalized"])

    async def pass_through(method: str) -> int | None:
        return None

    monkeypatch.setattr(sender_module, "find_live_intent", find_then_let_a_record)
    try:
        async with world.rpc(Intercept(world.app, pass_through, b_lets_a_land_after_simulating)) as rpc:
            b = await DurableSender(rpc, world.dev, plenty, policy=FAST).send(pool_id, "unlock_pool", [ix])
    finally:
        a_may_send.set()  # B may have answered without simulating: A goes on either way
        a_thread.shutdown(wait=True)
    assert a_result is not None
    a = a_result.result()

    assert a.kind is OutcomeKind.DONE
    assert b.kind in (OutcomeKind.NOT_YET, OutcomeKind.ALREADY_DONE), b
    assert world.pool_status(pool) is PoolStatus.UNLOCKED
    assert world.landed(world.dev.pubkey()) == [None]  # one transaction, no fee-paying duplicate
    assert [(r["attempt"], r["status"]) for r in intents(direct_engine)] == [(1, "finalized")]


async def until(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def send_forfeit(world: CrankWorld, keys: PoolKeys, pool_id: int) -> SendOutcome:
    ix = build_claim_refund_forfeit(PROGRAM_ID, keys, world.treasury.pubkey(), world.dev.pubkey())
    async with world.rpc() as rpc:
        sender = DurableSender(rpc, world.dev, plenty, policy=FAST)
        return await sender.send(pool_id, "claim_refund_forfeit", [ix])


async def test_a_repeatable_action_sent_twice_in_sequence_lands_once(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    world = CrankWorld(b"send-attempts-forfeit-sequential")
    keys = world.cancelled_pool(participants=2)
    pool_id = register_pool(direct_engine, keys.address, status="cancelled")

    first = await send_forfeit(world, keys, pool_id)
    assert (first.result, first.kind) == (SendResult.FINALIZED, OutcomeKind.DONE)
    assert world.token_balance(world.treasury.pubkey()) == 2 * ENTRY
    # The program would run the DEV branch again (an empty vault moves nothing, and it succeeds).
    second = await send_forfeit(world, keys, pool_id)
    assert (second.result, second.kind) == (SendResult.ALREADY_DONE, OutcomeKind.ALREADY_DONE)

    assert world.landed(world.dev.pubkey()) == [None]
    assert [(r["attempt"], r["status"]) for r in intents(direct_engine)] == [(1, "finalized")]


async def test_ten_overlapping_senders_of_a_repeatable_action_give_one_transaction(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    world = CrankWorld(b"send-attempts-forfeit-overlap")
    keys = world.cancelled_pool(participants=3)
    pool_id = register_pool(direct_engine, keys.address, status="cancelled")

    async def staggered(delay_s: float) -> SendOutcome:
        await asyncio.sleep(delay_s)
        return await send_forfeit(world, keys, pool_id)

    # Starts 0-900 ms apart: the first ones overlap the first send, the later ones come after it finalized.
    outcomes = await asyncio.gather(*(staggered(0.1 * n) for n in range(10)))

    kinds = sorted(o.kind.value for o in outcomes)
    assert kinds.count(OutcomeKind.DONE.value) == 1, kinds
    assert set(kinds) <= {"done", "already_done", "not_yet"}
    assert world.landed(world.dev.pubkey()) == [None]  # one success, and no refused duplicate paid a fee
    assert world.token_balance(world.treasury.pubkey()) == 3 * ENTRY
    assert [r["status"] for r in intents(direct_engine)] == ["finalized"]
