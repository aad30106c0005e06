"""Adversarial reports against the local chain, each refused for its own reason. Every transaction here is
real and signed; most of them succeeded on chain and are simply not what the client claims."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any

import pytest
from solders.keypair import Keypair
from solders.rpc.responses import GetTransactionResp
from solders.signature import Signature

from missout.chain.instructions import build_cancel_pool
from missout.chain.verify import (
    RejectReason,
    TransactionNotFound,
    verify_cancel_pool,
    verify_create_pool,
    verify_join_pool,
)
from tests.support.runtime_support import token_transfer
from tests.support.verify_world import ENTRY, VerifyWorld, rejection, verify_world


@pytest.fixture
async def world() -> AsyncIterator[VerifyWorld]:
    async with verify_world() as opened:
        yield opened


def verify_join(world: VerifyWorld, signature: str, **claim: Any) -> Awaitable[Any]:
    """A join report; `claim` overrides the honest pool/wallet/amount/clock."""
    defaults: dict[str, Any] = {"wallet": world.player.pubkey(), "amount": ENTRY, "clock": world.now}
    merged = {**defaults, **claim}
    merged["pool"] = world.keys(merged["pool"])  # the registered pool's keys
    return verify_join_pool(signature, config=world.config, fetcher=world.fetcher, **merged)


async def test_instruction_sent_to_another_program(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    # The exact bytes and accounts of a join, addressed to a program that accepts anything.
    join = world.join_ix(pool, world.player.pubkey())
    spoof = type(join)(world.relay.program_id, bytes(join.data), list(join.accounts))
    signature = world.send([spoof], [world.player])

    failure = await rejection(verify_join(world, signature, pool=pool))

    assert failure.reason is RejectReason.WRONG_PROGRAM


async def test_spoofed_inner_instruction_from_another_program(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    # A CPI carrying our join bytes, but to the relay itself: nothing of ours runs, no token moves.
    spoof = world.relay.wrap(world.join_ix(pool, world.player.pubkey()), callee=world.relay.program_id)
    signature = world.send([spoof], [world.player])

    failure = await rejection(verify_join(world, signature, pool=pool))

    assert failure.reason is RejectReason.WRONG_PROGRAM
    assert "inner instruction 0.0" in failure.detail


async def test_spoof_naming_the_claimed_pool_next_to_a_real_join_elsewhere(world: VerifyWorld) -> None:
    _, real_pool = world.create_pool()
    _, claimed_pool = world.create_pool()
    real = world.join_ix(real_pool, world.player.pubkey())
    spoof = world.relay.wrap(
        world.join_ix(claimed_pool, world.player.pubkey()), callee=world.relay.program_id
    )
    signature = world.send([real, spoof], [world.player])

    failure = await rejection(verify_join(world, signature, pool=claimed_pool))

    assert failure.reason is RejectReason.WRONG_POOL


async def test_donation_reported_as_a_join(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.send([world.donate_ix(pool, world.player.pubkey(), ENTRY)], [world.player])

    failure = await rejection(verify_join(world, signature, pool=pool))

    assert failure.reason is RejectReason.NO_MATCHING_INSTRUCTION
    assert "donate" in failure.detail


async def test_join_reported_for_another_pool(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    _, other_pool = world.create_pool()
    signature = world.join(pool, world.player)

    failure = await rejection(verify_join(world, signature, pool=other_pool))

    assert failure.reason is RejectReason.WRONG_POOL


async def test_valid_signature_reused_for_another_pool(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    _, other_pool = world.create_pool()
    signature = world.join(pool, world.player)
    accepted = await verify_join(world, signature, pool=pool)

    failure = await rejection(verify_join(world, signature, pool=other_pool))

    assert accepted.instruction.pool == pool
    assert failure.reason is RejectReason.WRONG_POOL


async def test_join_claimed_by_another_wallet(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.join(pool, world.player)

    failure = await rejection(verify_join(world, signature, pool=pool, wallet=world.other.pubkey()))

    assert failure.reason is RejectReason.WRONG_WALLET


async def test_wallet_in_the_user_slot_that_did_not_sign(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    # A smart wallet (the relay's PDA) joins through invoke_signed: the program accepts it, but no
    # transaction signature of that wallet exists; `other` only pays the fee.
    pda = world.relay.pda
    signature = world.send(
        [world.relay.wrap(world.join_ix(pool, pda), callee=world.program_id)], [world.other]
    )

    failure = await rejection(verify_join(world, signature, pool=pool, wallet=pda))

    assert failure.reason is RejectReason.WALLET_NOT_SIGNER


async def test_cancel_claimed_by_the_fee_payer_not_the_creator(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    ix = build_cancel_pool(world.program_id, world.keys(pool), world.creator.pubkey())
    signature = world.send([ix], [world.other, world.creator])  # `other` pays: it is key 0

    failure = await rejection(
        verify_cancel_pool(
            signature,
            pool=world.keys(pool),
            wallet=world.other.pubkey(),
            config=world.config,
            fetcher=world.fetcher,
            clock=world.now,
        )
    )

    assert failure.reason is RejectReason.WRONG_WALLET


async def test_failed_transaction(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    # Wrong entry amount: the program refuses (6029) and the failed transaction lands, fee paid.
    wrong = world.join_ix(pool, world.player.pubkey(), amount=ENTRY + 1)
    signature = world.send([wrong], [world.player], preflight=False)

    failure = await rejection(verify_join(world, signature, pool=pool, amount=ENTRY + 1))

    assert failure.reason is RejectReason.TRANSACTION_FAILED
    assert "InvalidAmount" in failure.detail


async def test_unknown_signature_is_not_found_and_retryable(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    never_sent = str(Keypair().sign_message(b"not a transaction"))

    failure = await rejection(verify_join(world, never_sent, pool=pool))

    assert isinstance(failure, TransactionNotFound)
    assert failure.reason is RejectReason.NOT_FOUND
    assert failure.retryable


async def test_transaction_older_than_the_window(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.join(pool, world.player)
    world.chain.advance_time(3_600)

    failure = await rejection(verify_join(world, signature, pool=pool))

    assert failure.reason is RejectReason.TOO_OLD
    assert not failure.retryable


async def test_transaction_from_the_future(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.join(pool, world.player)

    failure = await rejection(
        verify_join(world, signature, pool=pool, clock=lambda: world.now() - timedelta(hours=1))
    )

    assert failure.reason is RejectReason.IN_THE_FUTURE


async def test_claimed_amount_differs_from_the_instruction(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.join(pool, world.player)

    failure = await rejection(verify_join(world, signature, pool=pool, amount=2 * ENTRY))

    assert failure.reason is RejectReason.AMOUNT_MISMATCH


async def test_vault_moved_by_more_than_the_instruction(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    vault = world.keys(pool).vault
    extra = token_transfer(world.ata(world.player.pubkey()), world.mint, vault, world.player.pubkey(), 5)
    signature = world.send([world.join_ix(pool, world.player.pubkey()), extra], [world.player])

    failure = await rejection(verify_join(world, signature, pool=pool))

    assert failure.reason is RejectReason.BALANCE_MISMATCH
    assert "vault" in failure.detail


async def test_two_joins_in_one_transaction(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    joins = [world.join_ix(pool, world.player.pubkey()), world.join_ix(pool, world.other.pubkey())]
    signature = world.send(joins, [world.player, world.other])

    failure = await rejection(verify_join(world, signature, pool=pool))

    assert failure.reason is RejectReason.MULTIPLE_MATCHING_INSTRUCTIONS


async def test_create_reported_with_another_entry_amount(world: VerifyWorld) -> None:
    signature, pool = world.create_pool()

    failure = await rejection(
        verify_create_pool(
            signature,
            pool=pool,
            wallet=world.creator.pubkey(),
            amount=ENTRY * 10,
            config=world.config,
            fetcher=world.fetcher,
            clock=world.now,
        )
    )

    assert failure.reason is RejectReason.AMOUNT_MISMATCH


class _NoNetwork:
    """A fetcher that must never be reached."""

    calls = 0

    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        self.calls += 1
        raise AssertionError("the signature format is checked before any RPC")


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not base58: 0OIl",
        "1" * 89,
        str(Keypair().pubkey()),  # valid base58, but 32 bytes
    ],
)
async def test_malformed_signature_never_reaches_the_rpc(world: VerifyWorld, signature: str) -> None:
    fetcher = _NoNetwork()

    failure = await rejection(
        verify_join_pool(
            signature,
            pool=world.keys(world.creator.pubkey()),
            wallet=world.player.pubkey(),
            amount=ENTRY,
            config=world.config,
            fetcher=fetcher,
        )
    )

    assert failure.reason is RejectReason.MALFORMED_SIGNATURE
    assert fetcher.calls == 0
