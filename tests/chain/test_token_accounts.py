"""`missout.chain.token_accounts`: the `CreateIdempotent` instruction, which recipient ATAs are missing, and
that a crank carrying the most creations the monitor ever adds still fits one transaction."""

from __future__ import annotations

import dataclasses

import pytest
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.instructions import create_idempotent_associated_token_account

from missout.chain.accounts import PoolStatus
from missout.chain.addresses import SYSTEM_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from missout.chain.instructions import build_payout_winner
from missout.chain.pda import associated_token_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.send.policy import MAX_COMPUTE_UNITS, PACKET_DATA_SIZE
from missout.chain.send.prepare import sign_transaction
from missout.chain.token_accounts import create_ata_idempotent, missing_ata_creations, needs_creating
from tests.support.crank_world import PROGRAM_ID, CrankWorld

from .conftest import key
from .test_accounts import sample_pool


@pytest.mark.parametrize("token_program", [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID])
def test_create_idempotent_is_the_ata_program_instruction_solana_py_builds(token_program: Pubkey) -> None:
    payer, owner, mint = key(1), key(2), key(3)
    assert create_ata_idempotent(payer, owner, mint, token_program) == (
        create_idempotent_associated_token_account(payer, owner, mint, token_program)
    )


def test_only_an_absent_or_merely_funded_address_needs_creating() -> None:
    assert needs_creating(None)
    assert needs_creating(Account(2_039_280, b"", SYSTEM_PROGRAM_ID))  # lamports someone sent there
    assert not needs_creating(Account(2_039_280, bytes(165), TOKEN_PROGRAM_ID))
    # Owned by another program: not ours to fix; the crank then fails with the program's own error.
    assert not needs_creating(Account(2_039_280, bytes(165), key(9)))


async def test_missing_creations_cover_each_absent_owner_once() -> None:
    world = CrankWorld(b"token-accounts-missing")
    payer, absent, present = world.dev.pubkey(), world.wallet().pubkey(), world.wallet().pubkey()
    world.token_account(present)
    async with world.rpc() as rpc:
        creations = await missing_ata_creations(
            rpc, payer, [absent, present, absent], world.mint, TOKEN_PROGRAM_ID
        )
        assert creations == [create_ata_idempotent(payer, absent, world.mint, TOKEN_PROGRAM_ID)]
        world.token_account(absent)
        assert await missing_ata_creations(rpc, payer, [absent, present], world.mint, TOKEN_PROGRAM_ID) == []


def test_a_payout_with_both_fee_accounts_created_fits_one_transaction() -> None:
    """The largest payout the monitor sends: Token-2022, DEV, treasury and winner all different wallets,
    both fee accounts created first, the compute-budget instructions in front."""
    dev = Keypair()
    mint, address = key(10), key(20)
    pool = dataclasses.replace(
        sample_pool(status=PoolStatus.WINNER_SELECTED),
        dev_wallet=dev.pubkey(),
        treasury_wallet=key(2),
        winner=key(15),
        mint=mint,
        pool_token=associated_token_address(address, mint, TOKEN_2022_PROGRAM_ID),
    )
    keys = PoolKeys.of(address, pool)
    assert keys.token_program == TOKEN_2022_PROGRAM_ID
    creations = [
        create_ata_idempotent(dev.pubkey(), owner, mint, TOKEN_2022_PROGRAM_ID)
        for owner in (pool.dev_wallet, pool.treasury_wallet)
    ]
    payout = build_payout_winner(PROGRAM_ID, keys, pool, dev.pubkey())
    transaction = sign_transaction([*creations, payout], MAX_COMPUTE_UNITS, 10**6, Hash.new_unique(), dev)
    size = len(bytes(transaction))
    assert size <= PACKET_DATA_SIZE
    # What the two creations add: the treasury wallet's key and two short instructions.
    bare = len(bytes(sign_transaction([payout], MAX_COMPUTE_UNITS, 10**6, Hash.new_unique(), dev)))
    assert size - bare < 100
