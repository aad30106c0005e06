"""The pool lifecycle end to end through solana-py's AsyncClient (in process, over the local chain's
JSON-RPC): real signed transactions built from the IDL by the player's builders, results read back as raw
account bytes and decoded here from docs/program.md's offsets, independently of any decoder under test."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from solana.rpc.async_api import AsyncClient
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from localnet.default_programs import register_default_programs
from localnet.runtime import LocalChain
from localnet.server import create_rpc_app
from localnet.spl_token import TOKEN_PROGRAM_ID, get_associated_token_address
from localnet.transport import in_process_client
from player import instructions
from player.instructions import PoolAccounts, PoolTerms
from player.sending import send_and_confirm
from player.tokens import create_funded_mint, ensure_token_accounts

ENTRY = 20_000_000  # the program's minimum at 6 decimals
STARTING_TOKENS = 1_000_000_000
# docs/program.md §2.1 (offsets include the discriminator) and §2.3.
STATUS_OFFSET, REASON_OFFSET, TOTAL_AMOUNT_OFFSET = 368, 422, 217
OPEN, LOCKED, CANCELLED = 0, 1, 7
REASON_MAX_REACHED, REASON_CANCELLED = 4, 5


@dataclass
class World:
    client: AsyncClient
    mint: Pubkey
    players: list[Keypair]  # players[0] creates the pools
    dev: Pubkey
    treasury: Pubkey


@pytest.fixture
async def world() -> AsyncIterator[World]:
    chain = LocalChain(seed=b"player-lifecycle-e2e", unix_timestamp=1_750_000_000)
    register_default_programs(chain, gateway_url="http://127.0.0.1:9")
    client = in_process_client(create_rpc_app(chain))
    try:
        players = [Keypair() for _ in range(3)]
        authority, mint = Keypair(), Keypair()
        for wallet in (authority, *players):
            await client.confirm_transaction((await client.request_airdrop(wallet.pubkey(), 10**10)).value)
        batches = create_funded_mint(
            authority=authority.pubkey(),
            mint=mint.pubkey(),
            decimals=6,
            token_program=TOKEN_PROGRAM_ID,
            mint_rent=(await client.get_minimum_balance_for_rent_exemption(82)).value,
            amounts={player.pubkey(): STARTING_TOKENS for player in players},
        )
        await send_and_confirm(client, "create mint", authority, batches[0], [mint])
        for batch in batches[1:]:
            await send_and_confirm(client, "fund", authority, batch)
        dev, treasury = Keypair().pubkey(), Keypair().pubkey()
        fee_accounts = ensure_token_accounts(
            authority.pubkey(), [dev, treasury], mint.pubkey(), TOKEN_PROGRAM_ID
        )
        await send_and_confirm(client, "fee accounts", authority, fee_accounts)
        yield World(client, mint.pubkey(), players, dev, treasury)
    finally:
        await client.close()


async def _create_pool(world: World, salt: bytes) -> PoolAccounts:
    accounts = PoolAccounts.derive(world.mint, salt, TOKEN_PROGRAM_ID)
    terms = PoolTerms(
        max_participants=3,
        lock_duration=60,
        entry_amount=ENTRY,
        dev_wallet=world.dev,
        treasury_wallet=world.treasury,
    )
    creator = world.players[0]
    ix = instructions.create_pool(accounts, creator.pubkey(), salt, terms)
    await send_and_confirm(world.client, "create", creator, [ix])
    return accounts


async def _join(world: World, accounts: PoolAccounts, player: Keypair) -> None:
    await send_and_confirm(
        world.client, "join", player, [instructions.join_pool(accounts, player.pubkey(), ENTRY)]
    )


async def _pool_bytes(world: World, pool: Pubkey) -> bytes:
    account = (await world.client.get_account_info(pool)).value
    assert account is not None
    return bytes(account.data)


async def _token_balance(world: World, owner: Pubkey) -> int:
    account = get_associated_token_address(owner, world.mint, TOKEN_PROGRAM_ID)
    return int((await world.client.get_token_account_balance(account)).value.amount)


async def test_a_full_pool_locks(world: World) -> None:
    accounts = await _create_pool(world, bytes([1]) * 32)
    opened = await _pool_bytes(world, accounts.pool)
    for joiner in world.players[1:]:
        await _join(world, accounts, joiner)

    data = await _pool_bytes(world, accounts.pool)
    vault = await world.client.get_token_account_balance(accounts.vault)
    assert opened[STATUS_OFFSET] == OPEN
    assert (data[STATUS_OFFSET], data[REASON_OFFSET]) == (LOCKED, REASON_MAX_REACHED)
    assert struct.unpack_from("<Q", data, TOTAL_AMOUNT_OFFSET)[0] == 3 * ENTRY
    assert int(vault.value.amount) == 3 * ENTRY


async def test_a_cancelled_pool_refunds_joiners_in_full_and_burns_5_percent_of_the_creators(
    world: World,
) -> None:
    creator, joiner = world.players[0], world.players[1]
    accounts = await _create_pool(world, bytes([2]) * 32)
    await _join(world, accounts, joiner)
    cancel = instructions.cancel_pool(accounts, creator.pubkey())
    await send_and_confirm(world.client, "cancel", creator, [cancel])
    data = await _pool_bytes(world, accounts.pool)
    assert (data[STATUS_OFFSET], data[REASON_OFFSET]) == (CANCELLED, REASON_CANCELLED)

    for player in (joiner, creator):
        refund = instructions.claim_refund(accounts, player.pubkey(), world.treasury)
        await send_and_confirm(world.client, "refund", player, [refund])

    vault = await world.client.get_token_account_balance(accounts.vault)
    assert await _token_balance(world, joiner.pubkey()) == STARTING_TOKENS
    assert await _token_balance(world, creator.pubkey()) == STARTING_TOKENS - ENTRY // 20
    assert int(vault.value.amount) == 0  # the creator's 5 % was burned, not left behind
    assert await _token_balance(world, world.treasury) == 0
