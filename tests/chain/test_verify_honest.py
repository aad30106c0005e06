"""Every honest report is accepted: real signed transactions on the local chain, fetched through the real
solana-py AsyncClient, verified by the backend's verifiers; the result carries what the chain proves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from missout.chain.pda import vault_address
from missout.chain.verify import (
    check_pool_config,
    verify_cancel_pool,
    verify_claim_refund,
    verify_claim_rent,
    verify_create_pool,
    verify_donate,
    verify_join_pool,
)
from tests.support.verify_world import ENTRY, POLICY, START, VerifyWorld, verify_world


@pytest.fixture
async def world() -> AsyncIterator[VerifyWorld]:
    async with verify_world() as opened:
        yield opened


async def test_create_pool_is_proven_with_its_config(world: VerifyWorld) -> None:
    signature, pool = world.create_pool()

    verified = await verify_create_pool(
        signature,
        pool=pool,
        wallet=world.creator.pubkey(),
        amount=ENTRY,
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    vault = vault_address(pool, world.mint, world.keys(pool).token_program)
    assert (verified.mint, verified.vault, verified.amount, verified.vault_delta) == (
        world.mint,
        vault,
        ENTRY,
        ENTRY,
    )
    assert str(verified.signature) == signature
    assert verified.block_time.timestamp() == START
    assert verified.block_time.tzinfo is not None
    assert verified.instruction.user == world.creator.pubkey()
    assert check_pool_config(verified.instruction.args, world.config, POLICY) == ()


async def test_join_is_proven_by_the_vault_and_wallet_deltas(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.join(pool, world.player)

    verified = await verify_join_pool(
        signature,
        pool=world.keys(pool),
        wallet=world.player.pubkey(),
        amount=ENTRY,
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    assert (verified.amount, verified.vault_delta) == (ENTRY, ENTRY)
    assert verified.instruction.user_token == world.ata(world.player.pubkey())
    assert verified.slot > 0


async def test_join_whose_pool_key_comes_from_a_lookup_table(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    keys = world.keys(pool)
    table = world.lookup_table([pool, keys.vault, keys.participants(world.program_id)])
    signature = world.send(
        [world.join_ix(pool, world.player.pubkey())], [world.player], lookup_tables=[table]
    )

    verified = await verify_join_pool(
        signature,
        pool=world.keys(pool),
        wallet=world.player.pubkey(),
        amount=ENTRY,
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    assert verified.instruction.pool == pool
    assert verified.vault == keys.vault
    fetched = (await world.fetcher.get_transaction(verified.signature)).value
    assert fetched is not None
    assert fetched.transaction.meta is not None
    loaded = fetched.transaction.meta.loaded_addresses
    assert loaded is not None
    assert pool in loaded.writable  # the pool key really came from the table


async def test_join_made_through_a_cpi_of_a_signing_wallet(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    ix = world.relay.wrap(world.join_ix(pool, world.player.pubkey()), callee=world.program_id)
    signature = world.send([ix], [world.player])

    verified = await verify_join_pool(
        signature,
        pool=world.keys(pool),
        wallet=world.player.pubkey(),
        amount=ENTRY,
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    assert (verified.amount, verified.vault_delta) == (ENTRY, ENTRY)


async def test_donation_from_any_wallet_is_proven(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.send([world.donate_ix(pool, world.other.pubkey(), 3 * ENTRY)], [world.other])

    verified = await verify_donate(
        signature,
        pool=world.keys(pool),
        wallet=world.other.pubkey(),
        amount=3 * ENTRY,
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    assert (verified.amount, verified.vault_delta) == (3 * ENTRY, 3 * ENTRY)


async def test_cancel_by_the_creator_moves_nothing(world: VerifyWorld) -> None:
    _, pool = world.create_pool()
    signature = world.cancel(pool)

    verified = await verify_cancel_pool(
        signature,
        pool=world.keys(pool),
        wallet=world.creator.pubkey(),
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    assert (verified.amount, verified.vault_delta) == (0, 0)


async def test_refunds_prove_what_each_wallet_received(world: VerifyWorld) -> None:
    pool = world.cancelled_pool_with_player()
    player_refund = world.refund(pool, world.player)
    creator_refund = world.refund(pool, world.creator)

    player = await verify_claim_refund(
        player_refund,
        pool=world.keys(pool),
        wallet=world.player.pubkey(),
        entry=ENTRY,
        creator=world.creator.pubkey(),
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )
    creator = await verify_claim_refund(
        creator_refund,
        pool=world.keys(pool),
        wallet=world.creator.pubkey(),
        entry=ENTRY,
        creator=world.creator.pubkey(),
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    assert (player.amount, player.vault_delta) == (ENTRY, -ENTRY)
    # The creator's refund burns 5 %: the vault loses the whole entry, the creator gets 95 %.
    assert (creator.amount, creator.vault_delta) == (ENTRY - ENTRY // 20, -ENTRY)


async def test_claim_rent_proves_the_vault_was_closed(world: VerifyWorld) -> None:
    pool = world.cancelled_pool_with_player()
    world.refund(pool, world.player)
    world.refund(pool, world.creator)
    signature = world.claim_rent(pool)

    verified = await verify_claim_rent(
        signature,
        pool=world.keys(pool),
        wallet=world.creator.pubkey(),
        config=world.config,
        fetcher=world.fetcher,
        clock=world.now,
    )

    assert verified.amount == 0
    assert verified.instruction.close_target == world.creator.pubkey()
    assert world.chain.get_account(verified.vault) is None
