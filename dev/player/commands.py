"""One async function per CLI command. Each prints one or two lines per thing that happened (through
`Player.say`) and raises `ActionFailed`, `UnknownName` or `PoolNotFound` when it cannot do its job."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from solana.rpc.async_api import AsyncClient
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from local_wallets import existing_pubkey
from localnet.spl_token import MINT_LEN, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, get_associated_token_address
from player import instructions
from player.api_report import post_report
from player.instructions import PoolAccounts, PoolTerms
from player.pool_account import PoolView, fetch_pool
from player.sending import ActionFailed, send_and_confirm
from player.state import PlayerState, TestMint, UnknownName
from player.tokens import create_funded_mint, ensure_token_accounts

LAMPORTS_PER_SOL = 1_000_000_000
# Wallets are topped up to this when below FUNDED_FLOOR: enough for rent of a few pools and many fees.
AIRDROP_LAMPORTS = 10 * LAMPORTS_PER_SOL
FUNDED_FLOOR = LAMPORTS_PER_SOL


@dataclass
class Player:
    client: AsyncClient
    control: httpx.AsyncClient  # the local chain's own endpoints (/localnet/...), same base URL as the RPC
    api: httpx.AsyncClient
    state: PlayerState
    say: Callable[[str], None] = print
    dev_wallet: Pubkey | None = None  # None: the made-up "dev" wallet of the state file
    treasury_wallet: Pubkey | None = None

    def name_of(self, key: Pubkey) -> str:
        names = {wallet.pubkey(): name for name, wallet in self.state.wallets.items()}
        return names.get(key, str(key))

    async def report(self, path: str, body: dict[str, Any]) -> None:
        self.say(f"  {await post_report(self.api, path, body)}")


def format_tokens(amount: int, decimals: int) -> str:
    """Base units as the integer they are, with the whole-token reading beside it."""
    whole = Decimal(amount).scaleb(-decimals).normalize()
    return f"{amount} ({whole:f} tokens)"


async def wallets(player: Player, count: int) -> None:
    for index in range(1, count + 1):
        name = f"w{index}"
        wallet = player.state.wallets.setdefault(name, Keypair())
        player.state.save()  # before funding: a failed airdrop must not lose a key the chain may know
        balance = (await player.client.get_balance(wallet.pubkey())).value
        if balance < FUNDED_FLOOR:
            airdrop = await player.client.request_airdrop(wallet.pubkey(), AIRDROP_LAMPORTS)
            await player.client.confirm_transaction(airdrop.value)
            balance = (await player.client.get_balance(wallet.pubkey())).value
        player.say(f"{name} {wallet.pubkey()} {Decimal(balance).scaleb(-9).normalize():f} SOL")


async def mint(player: Player, decimals: int, token_2022: bool, whole_tokens: int) -> None:
    if not player.state.wallets:
        raise UnknownName("no wallets yet; run `wallets N` first")
    token_program = TOKEN_2022_PROGRAM_ID if token_2022 else TOKEN_PROGRAM_ID
    authority, new_mint = Keypair(), Keypair()
    airdrop = await player.client.request_airdrop(authority.pubkey(), LAMPORTS_PER_SOL)
    await player.client.confirm_transaction(airdrop.value)
    rent = (await player.client.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
    amount = whole_tokens * 10**decimals
    owners = {wallet.pubkey(): amount for wallet in player.state.wallets.values()}
    batches = create_funded_mint(
        authority=authority.pubkey(),
        mint=new_mint.pubkey(),
        decimals=decimals,
        token_program=token_program,
        mint_rent=rent,
        amounts=owners,
    )
    signature = await send_and_confirm(player.client, "creating the mint", authority, batches[0], [new_mint])
    for batch in batches[1:]:
        await send_and_confirm(player.client, "minting", authority, batch)
    player.state.mint = TestMint(new_mint.pubkey(), decimals, token_program)
    player.state.save()
    program = "token-2022" if token_2022 else "token"
    player.say(
        f"mint {new_mint.pubkey()} ({decimals} decimals, {program} program), mint authority revoked "
        f"after minting (create_pool needs a fixed supply); sig {signature}"
    )
    for name, wallet in player.state.wallets.items():
        account = get_associated_token_address(wallet.pubkey(), new_mint.pubkey(), token_program)
        balance = int((await player.client.get_token_account_balance(account)).value.amount)
        player.say(f"{name} {format_tokens(balance, decimals)}")


async def create(
    player: Player, *, entry: int | None, max_participants: int, lock: int, creator: str, allow_mock: bool
) -> None:
    test_mint = player.state.require_mint()
    user = player.state.wallet(creator)
    # Prefer the wallets `make dev` runs the monitor with, so the local monitor can crank this pool.
    dev = player.dev_wallet or existing_pubkey("dev") or player.state.fee_wallet("dev").pubkey()
    treasury = (
        player.treasury_wallet or existing_pubkey("treasury") or player.state.fee_wallet("treasury").pubkey()
    )
    # Refunds and payouts need the fee wallets' token accounts to exist (docs/program.md §3.8, §3.13).
    await send_and_confirm(
        player.client,
        "preparing the fee wallets' token accounts",
        user,
        ensure_token_accounts(user.pubkey(), [dev, treasury], test_mint.address, test_mint.token_program),
    )
    salt = secrets.token_bytes(32)
    accounts = PoolAccounts.derive(test_mint.address, salt, test_mint.token_program)
    terms = PoolTerms(
        max_participants=max_participants,
        lock_duration=lock,
        # The program's minimum entry is 20 whole tokens (docs/program.md §3.1, check 10).
        entry_amount=entry if entry is not None else 20 * 10**test_mint.decimals,
        dev_wallet=dev,
        treasury_wallet=treasury,
        allow_mock=allow_mock,
    )
    create_ix = instructions.create_pool(accounts, user.pubkey(), salt, terms)
    signature = await send_and_confirm(player.client, f"{creator} creating a pool", user, [create_ix])
    name = player.state.add_pool(accounts.pool)
    player.state.save()
    player.say(f"created pool {name} {accounts.pool} by {creator}; sig {signature}")
    player.say(f"  participants {accounts.participants}  vault {accounts.vault}")
    player.say(f"  dev wallet {dev}  treasury {treasury}")
    view = await fetch_pool(player.client, accounts.pool)
    player.say(f"  {view.summary()}")
    await player.report(
        "/api/pools", {"pool": str(accounts.pool), "signature": str(signature), "wallet": str(user.pubkey())}
    )


async def join(player: Player, pool: str, names: list[str]) -> None:
    view = await fetch_pool(player.client, player.state.pool(pool))
    for name in names:
        user = player.state.wallet(name)
        ix = instructions.join_pool(view.accounts, user.pubkey(), view.entry_amount)
        signature = await send_and_confirm(player.client, f"{name} joining {pool}", user, [ix])
        view = await fetch_pool(player.client, view.address)
        player.say(f"{name} joined {pool}; sig {signature}")
        player.say(f"  {view.summary()}")
        await _report_action(player, view, "join", user, signature)


async def donate(player: Player, pool: str, name: str, amount: int) -> None:
    view = await fetch_pool(player.client, player.state.pool(pool))
    user = player.state.wallet(name)
    ix = instructions.donate(view.accounts, user.pubkey(), amount)
    signature = await send_and_confirm(player.client, f"{name} donating to {pool}", user, [ix])
    view = await fetch_pool(player.client, view.address)
    player.say(f"{name} donated {format_tokens(amount, view.decimals)} to {pool}; sig {signature}")
    player.say(f"  {view.summary()}")
    await _report_action(player, view, "donate", user, signature, amount=str(amount))


async def cancel(player: Player, pool: str, name: str) -> None:
    view = await fetch_pool(player.client, player.state.pool(pool))
    user = player.state.wallet(name)
    ix = instructions.cancel_pool(view.accounts, user.pubkey())
    signature = await send_and_confirm(player.client, f"{name} cancelling {pool}", user, [ix])
    view = await fetch_pool(player.client, view.address)
    player.say(f"{name} cancelled {pool}; sig {signature}")
    player.say(f"  {view.summary()}")
    await _report_action(player, view, "cancel", user, signature)


async def claim_refund(player: Player, pool: str, name: str) -> None:
    view = await fetch_pool(player.client, player.state.pool(pool))
    user = player.state.wallet(name)
    account = view.accounts.token_account(user.pubkey())
    before = int((await player.client.get_token_account_balance(account)).value.amount)
    ix = instructions.claim_refund(view.accounts, user.pubkey(), view.treasury_wallet)
    signature = await send_and_confirm(player.client, f"{name} claiming a refund from {pool}", user, [ix])
    after = int((await player.client.get_token_account_balance(account)).value.amount)
    burned = view.entry_amount - (after - before)
    player.say(
        f"{name} got a refund of {format_tokens(after - before, view.decimals)} from {pool}, "
        f"{burned} burned; sig {signature}"
    )
    await _report_action(player, view, "claim-refund", user, signature)


async def status(player: Player, pool: str) -> None:
    view = await fetch_pool(player.client, player.state.pool(pool))
    player.say(f"pool {pool} {view.address}: {view.summary()}")
    roster = ", ".join(player.name_of(key) for key in view.participants) or "nobody"
    player.say(f"  participants: {roster}")


async def advance(player: Player, seconds: int, slots: int) -> None:
    try:
        response = await player.control.post("/localnet/advance", json={"seconds": seconds, "slots": slots})
    except httpx.TransportError as exc:
        raise ActionFailed(f"cannot reach the local chain's clock control: {exc}") from None
    if not response.is_success:
        raise ActionFailed(f"clock control answered {response.status_code}: {response.text[:200]}")
    clock = response.json()
    player.say(
        f"clock advanced by {seconds} s and {slots} slots: slot {clock['slot']}, "
        f"unix time {clock['unixTimestamp']}"
    )


async def _report_action(
    player: Player, view: PoolView, action: str, user: Keypair, signature: Signature, **extra: str
) -> None:
    body = {"signature": str(signature), "wallet": str(user.pubkey()), **extra}
    await player.report(f"/api/pools/{view.address}/{action}", body)
