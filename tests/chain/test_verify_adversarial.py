"""Reports that an adversarial review found accepted while they record something false, or raising
instead of being refused; each built from real signed transactions on the local chain (the program model
accepts every one of them), then reported to the verifier the way the API does: with the registered
pool's keys, entry amount and creator as the record holds them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.spl_token import TOKEN_PROGRAM_ID, unpack_token_account
from missout.chain.accounts import PoolStatus, decode_pool
from missout.chain.instructions import build_cancel_pool, build_set_lock_duration
from missout.chain.pda import find_pool_address, vault_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.verify import (
    ConfigRejectReason,
    RejectReason,
    VerificationFailed,
    check_pool_config,
    parse_signature,
    verify_cancel_pool,
    verify_claim_refund,
    verify_claim_rent,
    verify_create_pool,
    verify_donate,
    verify_join_pool,
)
from missout.pools.payability import UnpayableReason, unpayable_reason
from tests.support.runtime_support import make_mint, make_token_account, token_transfer
from tests.support.verify_world import (
    ENTRY,
    POLICY,
    RewritingFetcher,
    VerifyWorld,
    rejection,
    verify_world,
)

DONATION = 2 * ENTRY


@pytest.fixture
async def world() -> AsyncIterator[VerifyWorld]:
    async with verify_world() as opened:
        yield opened


# -- reports as the API makes them ---------------------------------------------------------------------


def _call(
    verifier: Callable[..., Awaitable[Any]],
    world: VerifyWorld,
    signature: str,
    claim: dict[str, Any],
    over: dict[str, Any],
) -> Awaitable[Any]:
    """`verifier` with the honest claim, the world's node and clock, and `over` replacing any of them."""
    honest = {"config": world.config, "fetcher": world.fetcher, "clock": world.now, **claim}
    return verifier(signature, **{**honest, **over})


def report_create(world: VerifyWorld, signature: str, pool: Pubkey, **over: Any) -> Awaitable[Any]:
    claim: dict[str, Any] = {"pool": pool, "wallet": world.creator.pubkey(), "amount": None}
    return _call(verify_create_pool, world, signature, claim, over)


def report_join(
    world: VerifyWorld, signature: str, pool: Pubkey, wallet: Keypair, **over: Any
) -> Awaitable[Any]:
    claim: dict[str, Any] = {"pool": world.keys(pool), "wallet": wallet.pubkey(), "amount": ENTRY}
    return _call(verify_join_pool, world, signature, claim, over)


def report_donate(
    world: VerifyWorld, signature: str, pool: Pubkey, wallet: Keypair, amount: int, **over: Any
) -> Awaitable[Any]:
    claim: dict[str, Any] = {"pool": world.keys(pool), "wallet": wallet.pubkey(), "amount": amount}
    return _call(verify_donate, world, signature, claim, over)


def report_cancel(world: VerifyWorld, signature: str, pool: Pubkey, **over: Any) -> Awaitable[Any]:
    claim: dict[str, Any] = {"pool": world.keys(pool), "wallet": world.creator.pubkey()}
    return _call(verify_cancel_pool, world, signature, claim, over)


def report_refund(
    world: VerifyWorld, signature: str, pool: Pubkey, wallet: Pubkey, **over: Any
) -> Awaitable[Any]:
    claim: dict[str, Any] = {
        "pool": world.keys(pool),
        "wallet": wallet,
        "entry": ENTRY,
        "creator": world.creator.pubkey(),
    }
    return _call(verify_claim_refund, world, signature, claim, over)


def report_rent(world: VerifyWorld, signature: str, pool: Pubkey, **over: Any) -> Awaitable[Any]:
    claim: dict[str, Any] = {"pool": world.keys(pool), "wallet": world.creator.pubkey()}
    return _call(verify_claim_rent, world, signature, claim, over)


# -- set-ups -------------------------------------------------------------------------------------------


def cancelled_pool_with_donation(world: VerifyWorld) -> Pubkey:
    _, pool = world.create_pool()
    world.join(pool, world.player)
    world.donate(pool, world.other, DONATION)
    world.cancel(pool)
    return pool


def vault_balance(world: VerifyWorld, vault: Pubkey) -> int | None:
    account = world.chain.get_account(vault)
    return None if account is None else unpack_token_account(bytes(account.data)).amount


def look_alike_vault(world: VerifyWorld, pool: Pubkey) -> PoolKeys:
    """The pool PDA's token account for an unrelated mint (anyone can create it)."""
    other_mint = make_mint(world.chain)
    world.fund_ata(pool, 0, mint=other_mint)
    return PoolKeys(pool, other_mint, TOKEN_PROGRAM_ID)


# -- 1. claim_rent closing a look-alike vault ------------------------------------------------------------


async def test_claim_rent_closing_a_look_alike_vault_is_refused(world: VerifyWorld) -> None:
    pool = cancelled_pool_with_donation(world)
    world.refund(pool, world.player)
    world.refund(pool, world.creator)
    signature = world.send([world.claim_rent_ix(pool, look_alike_vault(world, pool))], [world.creator])

    failure = await rejection(report_rent(world, signature, pool))

    assert failure.reason is RejectReason.WRONG_MINT
    # What the report would have hidden: the Pool is gone, the real vault still holds the donation.
    assert world.chain.get_account(pool) is None
    assert vault_balance(world, world.keys(pool).vault) == DONATION


async def test_claim_rent_closing_another_token_account_of_the_same_mint_is_refused(
    world: VerifyWorld,
) -> None:
    pool = cancelled_pool_with_donation(world)
    world.refund(pool, world.player)
    world.refund(pool, world.creator)
    # Not the ATA: any token account of the pool's mint owned by the pool PDA passes the program's checks.
    other = make_token_account(world.chain, world.mint, pool, 0)
    keys = world.keys(pool)
    ix = world.claim_rent_ix(pool)
    ix = Instruction(
        ix.program_id,
        bytes(ix.data),
        [
            AccountMeta(other, meta.is_signer, meta.is_writable) if meta.pubkey == keys.vault else meta
            for meta in ix.accounts
        ],
    )
    signature = world.send([ix], [world.creator])

    failure = await rejection(report_rent(world, signature, pool))

    assert failure.reason is RejectReason.WRONG_VAULT
    assert vault_balance(world, keys.vault) == DONATION


# -- 2. inflated refunds -------------------------------------------------------------------------------


async def test_creator_refund_with_a_side_payment_is_recorded_as_what_the_program_paid(
    world: VerifyWorld,
) -> None:
    pool = world.cancelled_pool_with_player()
    creator = world.creator.pubkey()
    side = token_transfer(
        world.ata(world.other.pubkey()), world.mint, world.ata(creator), world.other.pubkey(), ENTRY // 20
    )
    signature = world.send([world.refund_ix(pool, creator), side], [world.creator, world.other])

    verified = await report_refund(world, signature, pool, creator)

    assert verified.amount == ENTRY - ENTRY // 20  # 95 %: the 5 % came from `other`, not the vault


async def test_participant_refund_with_rent_and_top_up_is_recorded_as_the_entry(world: VerifyWorld) -> None:
    pool = cancelled_pool_with_donation(world)
    world.refund(pool, world.creator)
    player = world.player.pubkey()
    top_up = token_transfer(
        world.ata(world.creator.pubkey()), world.mint, world.ata(player), world.creator.pubkey(), DONATION
    )
    signature = world.send(
        [world.refund_ix(pool, player), world.claim_rent_ix(pool), top_up], [world.player, world.creator]
    )

    verified = await report_refund(world, signature, pool, player)

    assert verified.amount == ENTRY


async def test_refund_reported_by_a_creator_as_a_participant_is_a_refund_mismatch(world: VerifyWorld) -> None:
    # The record says someone else created the pool: the program paid 95 %, a participant is owed 100 %.
    pool = world.cancelled_pool_with_player()
    signature = world.refund(pool, world.creator)

    failure = await rejection(
        report_refund(world, signature, pool, world.creator.pubkey(), creator=world.other.pubkey())
    )

    assert failure.reason is RejectReason.REFUND_MISMATCH


async def test_the_dev_forfeit_branch_is_not_a_refund(world: VerifyWorld) -> None:
    pool = world.cancelled_pool_with_player()
    world.chain.advance_time(2_592_001)  # the dev branch opens 30 days after the cancel
    dev = world.dev.pubkey()
    world.chain.set_account(dev, Account(10**10, b"", Pubkey.default()))  # lamports for the fee
    world.fund_ata(dev, 0)
    # The dev branch forfeits the vault to the treasury ATA; the dev's own token account gets nothing.
    signature = world.send([world.refund_ix(pool, dev)], [world.dev])

    failure = await rejection(report_refund(world, signature, pool, dev))

    assert failure.reason is RejectReason.REFUND_MISMATCH


# -- 3. create over a vault funded beforehand -------------------------------------------------------------


async def test_create_over_a_vault_funded_beforehand_is_refused(world: VerifyWorld) -> None:
    args = world.create_args()
    pool, _ = find_pool_address(world.program_id, world.mint, args.salt)
    vault = vault_address(pool, world.mint, TOKEN_PROGRAM_ID)
    world.fund_ata(pool, 0)  # the vault (the pool PDA's ATA), created ahead of the pool
    creator = world.creator.pubkey()
    world.send([token_transfer(world.ata(creator), world.mint, vault, creator, 1)], [world.creator])
    ix, _ = world.create_pool_ix(world.creator, args)
    signature = world.send([ix], [world.creator])

    failure = await rejection(report_create(world, signature, pool))

    assert failure.reason is RejectReason.VAULT_NOT_EMPTY
    assert vault_balance(world, vault) == ENTRY + 1  # adopted: it can never pay out (docs/program.md §5.2)


async def test_create_over_an_existing_empty_vault_is_accepted(world: VerifyWorld) -> None:
    args = world.create_args()
    pool, _ = find_pool_address(world.program_id, world.mint, args.salt)
    world.fund_ata(pool, 0)
    ix, _ = world.create_pool_ix(world.creator, args)
    signature = world.send([ix], [world.creator])

    verified = await report_create(world, signature, pool)

    assert (verified.amount, verified.vault_delta) == (ENTRY, ENTRY)


# -- 4. create plus another instruction of our program ------------------------------------------------------


async def test_create_and_cancel_in_one_transaction_is_refused(world: VerifyWorld) -> None:
    ix, pool = world.create_pool_ix(world.creator, world.create_args())
    cancel = build_cancel_pool(world.program_id, world.keys(pool), world.creator.pubkey())
    signature = world.send([ix, cancel], [world.creator])

    failure = await rejection(report_create(world, signature, pool))

    assert failure.reason is RejectReason.CREATE_NOT_ALONE
    account = world.chain.get_account(pool)
    assert account is not None
    assert decode_pool(bytes(account.data)).status is PoolStatus.CANCELLED


async def test_create_and_set_lock_duration_in_one_transaction_is_refused(world: VerifyWorld) -> None:
    ix, pool = world.create_pool_ix(world.creator, world.create_args())
    longer = build_set_lock_duration(world.program_id, pool, 1_200, world.creator.pubkey())
    signature = world.send([ix, longer], [world.creator])

    failure = await rejection(report_create(world, signature, pool))

    assert failure.reason is RejectReason.CREATE_NOT_ALONE


async def test_create_next_to_our_program_called_through_a_cpi_is_refused(world: VerifyWorld) -> None:
    ix, pool = world.create_pool_ix(world.creator, world.create_args())
    cancel = build_cancel_pool(world.program_id, world.keys(pool), world.creator.pubkey())
    signature = world.send([ix, world.relay.wrap(cancel, callee=world.program_id)], [world.creator])

    failure = await rejection(report_create(world, signature, pool))

    assert failure.reason is RejectReason.CREATE_NOT_ALONE
    assert "inner instruction 1.0" in failure.detail


# -- 5. overflowing configuration ------------------------------------------------------------------------


async def test_pool_whose_full_pot_overflows_the_payout_is_refused_by_the_config_check(
    world: VerifyWorld,
) -> None:
    big = 2 * 10**16  # 2 seats: a pot of 4e16, and 4e16 x 500 bps > 2^64 - 1
    world.fund_ata(world.creator.pubkey(), big)
    signature, pool = world.create_pool(amount=big, max_participants=2)
    verified = await report_create(world, signature, pool)

    violations = check_pool_config(verified.instruction.args, world.config, POLICY)

    assert [violation.reason for violation in violations] == [ConfigRejectReason.POT_OVERFLOW]


async def test_donation_that_makes_the_pot_unpayable_is_recorded_and_marks_the_pool(
    world: VerifyWorld,
) -> None:
    signature, pool = world.create_pool(max_participants=2)
    world.join(pool, world.player)  # full: Locked
    big = 4 * 10**16
    world.fund_ata(world.other.pubkey(), big)
    signature = world.donate(pool, world.other, big)

    verified = await report_donate(world, signature, pool, world.other, big)

    assert verified.amount == big
    account = world.chain.get_account(pool)
    assert account is not None
    on_chain = decode_pool(bytes(account.data))
    assert on_chain.status is PoolStatus.LOCKED
    balance = vault_balance(world, world.keys(pool).vault)
    assert balance is not None
    assert (
        unpayable_reason(on_chain, vault_balance=balance, slot=verified.slot) is UnpayableReason.POT_OVERFLOW
    )


# -- 6. no balance evidence -------------------------------------------------------------------------------


def _null_token_balances(result: dict[str, Any]) -> None:
    result["meta"]["preTokenBalances"] = None
    result["meta"]["postTokenBalances"] = None


def _null_inner_instructions(result: dict[str, Any]) -> None:
    result["meta"]["innerInstructions"] = None


async def _every_action(world: VerifyWorld) -> dict[str, tuple[str, Any]]:
    """One honest transaction per action, with the report that verifies it (given a fetcher)."""
    create, pool = world.create_pool()
    join = world.join(pool, world.player)
    donate = world.donate(pool, world.other, ENTRY)
    _, cancelled = world.create_pool()
    cancel = world.cancel(cancelled)
    refunded = world.cancelled_pool_with_player()
    refund = world.refund(refunded, world.player)
    world.refund(refunded, world.creator)
    rent = world.claim_rent(refunded)
    return {
        "create_pool": (create, lambda f: report_create(world, create, pool, fetcher=f)),
        "join_pool": (join, lambda f: report_join(world, join, pool, world.player, fetcher=f)),
        "donate": (donate, lambda f: report_donate(world, donate, pool, world.other, ENTRY, fetcher=f)),
        "cancel_pool": (cancel, lambda f: report_cancel(world, cancel, cancelled, fetcher=f)),
        "claim_refund": (
            refund,
            lambda f: report_refund(world, refund, refunded, world.player.pubkey(), fetcher=f),
        ),
        "claim_rent": (rent, lambda f: report_rent(world, rent, refunded, fetcher=f)),
    }


ACTIONS = ["create_pool", "join_pool", "donate", "cancel_pool", "claim_refund", "claim_rent"]


@pytest.mark.parametrize("action", ACTIONS)
async def test_missing_token_balances_are_refused_for_every_action(world: VerifyWorld, action: str) -> None:
    _, report = (await _every_action(world))[action]
    assert await report(world.fetcher) is not None  # the honest answer verifies

    failure = await rejection(report(RewritingFetcher(world.fetcher, _null_token_balances)))

    assert failure.reason is RejectReason.MISSING_TOKEN_BALANCES


@pytest.mark.parametrize("action", ACTIONS)
async def test_missing_inner_instructions_are_refused_for_every_action(
    world: VerifyWorld, action: str
) -> None:
    _, report = (await _every_action(world))[action]

    failure = await rejection(report(RewritingFetcher(world.fetcher, _null_inner_instructions)))

    assert failure.reason is RejectReason.MISSING_INNER_INSTRUCTIONS


# -- 7. a pool address used twice ------------------------------------------------------------------------


async def test_a_pool_recreated_at_a_closed_pools_address_is_verifiable_as_a_new_create(
    world: VerifyWorld,
) -> None:
    args = world.create_args()
    ix, pool = world.create_pool_ix(world.creator, args)
    first = world.send([ix], [world.creator])
    world.cancel(pool)
    world.refund(pool, world.creator)
    world.claim_rent(pool)
    assert world.chain.get_account(pool) is None
    world.chain.advance_slots(1)  # a later slot: a new pool_id
    second = world.send([world.create_pool_ix(world.creator, args)[0]], [world.creator])

    earlier = await report_create(world, first, pool)
    later = await report_create(world, second, pool)

    assert (earlier.instruction.pool, later.instruction.pool) == (pool, pool)
    assert earlier.signature != later.signature
    assert later.vault_delta == ENTRY


async def test_a_recreate_over_the_vault_a_look_alike_claim_rent_left_funded_is_refused(
    world: VerifyWorld,
) -> None:
    args = world.create_args()
    ix, pool = world.create_pool_ix(world.creator, args)
    world.send([ix], [world.creator])
    world.join(pool, world.player)
    world.donate(pool, world.other, DONATION)
    world.cancel(pool)
    world.refund(pool, world.player)
    world.refund(pool, world.creator)
    world.send([world.claim_rent_ix(pool, look_alike_vault(world, pool))], [world.creator])
    world.chain.advance_slots(1)
    signature = world.send([world.create_pool_ix(world.creator, args)[0]], [world.creator])

    failure = await rejection(report_create(world, signature, pool))

    assert failure.reason is RejectReason.VAULT_NOT_EMPTY
    assert vault_balance(world, world.keys(pool).vault) == DONATION + ENTRY


# -- 8. two real actions under one signature --------------------------------------------------------------


async def test_join_a_and_donate_b_in_one_transaction_are_each_verified(world: VerifyWorld) -> None:
    _, pool_a = world.create_pool()
    _, pool_b = world.create_pool()
    player = world.player.pubkey()
    signature = world.send(
        [world.join_ix(pool_a, player), world.donate_ix(pool_b, player, DONATION)], [world.player]
    )

    joined = await report_join(world, signature, pool_a, world.player)
    donated = await report_donate(world, signature, pool_b, world.player, DONATION)

    assert (joined.amount, joined.vault_delta, joined.instruction.pool) == (ENTRY, ENTRY, pool_a)
    assert (donated.amount, donated.vault_delta, donated.instruction.pool) == (DONATION, DONATION, pool_b)
    assert joined.signature == donated.signature


async def test_join_and_donate_to_the_same_pool_in_one_transaction_are_each_verified(
    world: VerifyWorld,
) -> None:
    _, pool = world.create_pool()
    player = world.player.pubkey()
    signature = world.send(
        [world.join_ix(pool, player), world.donate_ix(pool, player, DONATION)], [world.player]
    )

    joined = await report_join(world, signature, pool, world.player)
    donated = await report_donate(world, signature, pool, world.player, DONATION)

    assert (joined.amount, donated.amount) == (ENTRY, DONATION)
    assert joined.vault_delta == donated.vault_delta == ENTRY + DONATION


async def test_a_join_with_a_side_transfer_into_the_vault_is_still_refused(world: VerifyWorld) -> None:
    # Counting other deposits of ours into the vault must not let a plain transfer ride along.
    _, pool = world.create_pool()
    player = world.player.pubkey()
    stray = token_transfer(world.ata(player), world.mint, world.keys(pool).vault, player, 1)
    signature = world.send(
        [world.join_ix(pool, player), world.donate_ix(pool, player, DONATION), stray], [world.player]
    )

    failure = await rejection(report_join(world, signature, pool, world.player))

    assert failure.reason is RejectReason.BALANCE_MISMATCH


# -- raised today: typed rejections -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block_time", "reason"), [(10**12, RejectReason.IN_THE_FUTURE), (-(10**13), RejectReason.TOO_OLD)]
)
async def test_a_block_time_outside_the_datetime_range_is_refused(
    world: VerifyWorld, block_time: int, reason: RejectReason
) -> None:
    _, pool = world.create_pool()
    signature = world.join(pool, world.player)

    def rewrite(result: dict[str, Any]) -> None:
        result["blockTime"] = block_time

    failure = await rejection(
        report_join(world, signature, pool, world.player, fetcher=RewritingFetcher(world.fetcher, rewrite))
    )

    assert failure.reason is reason


def _unparseable_mint(result: dict[str, Any]) -> None:
    result["meta"]["postTokenBalances"][0]["mint"] = "not a key"


def _undeserializable_transaction(result: dict[str, Any]) -> None:
    result["transaction"][0] = "AAAA"  # valid base64, three zero bytes: no transaction


@pytest.mark.parametrize("rewrite", [_unparseable_mint, _undeserializable_transaction])
async def test_answers_solders_would_panic_on_are_malformed_not_a_panic(
    world: VerifyWorld, rewrite: Callable[[dict[str, Any]], None]
) -> None:
    # solders parses these lazily and panics (pyo3 PanicException: a BaseException, not an Exception).
    _, pool = world.create_pool()
    signature = world.join(pool, world.player)

    failure = await rejection(
        report_join(world, signature, pool, world.player, fetcher=RewritingFetcher(world.fetcher, rewrite))
    )

    assert failure.reason is RejectReason.MALFORMED_TRANSACTION


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["list"]])
async def test_a_signature_that_is_not_a_string_is_malformed(world: VerifyWorld, value: object) -> None:
    with pytest.raises(VerificationFailed) as direct:
        parse_signature(value)
    _, pool = world.create_pool()

    failure = await rejection(report_join(world, value, pool, world.player))  # type: ignore[arg-type]

    assert direct.value.reason is failure.reason is RejectReason.MALFORMED_SIGNATURE
