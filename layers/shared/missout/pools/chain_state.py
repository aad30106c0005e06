"""A pool as the chain holds it: the Pool and Participants accounts, the vault balance and the mint, read
together so a record is written from one consistent view (docs/program.md §2.1, §2.2).

Two `getMultipleAccounts` calls: the pool first (its mint and vault are named inside it), then the mint, the
vault and the mint's Metaplex metadata account. A caller that already knows the mint and vault (a verified
transaction names them) passes them as `expected`, and everything is read in one call; if the pool turns out
to name another mint or vault (its address was re-used), the second call reads the right ones, so the answer
never depends on the guess. Each answer carries the slot it was read at; a view older than the transaction
being recorded is refused (`ChainBehind`), so a lagging node can never make us record state from before the
action we just verified.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.pubkey import Pubkey
from solders.rpc.responses import GetMultipleAccountsResp

from missout.chain.accounts import ParticipantsAccount, PoolAccount, decode_participants, decode_pool
from missout.chain.pda import find_participants_address
from missout.chain.program import AccountDecodeError
from missout.chain.rpc import RpcSession
from missout.pools.mint_info import MintAccount, MintDecodeError, decode_mint, metaplex_metadata_address

_TOKEN_ACCOUNT_LEN = 165
_TOKEN_AMOUNT_OFFSET = 64


class NotAPool(LookupError):
    """No pool account of our program at that address (never created, closed, or another account)."""


class ChainBehind(RuntimeError):
    """The node answered with state older than the slot we need; ask again shortly."""

    def __init__(self, seen: int, wanted: int) -> None:
        super().__init__(f"the node's state is at slot {seen}, the transaction at {wanted}")
        self.seen, self.wanted = seen, wanted


@dataclass(frozen=True, slots=True)
class PoolChainState:
    address: Pubkey
    slot: int  # the older of the reads: everything here is at least this recent
    pool: PoolAccount
    participants: ParticipantsAccount
    vault: Pubkey
    vault_balance: int | None  # None when the vault account no longer exists
    mint: MintAccount


@dataclass(frozen=True, slots=True)
class PoolTokenKeys:
    """The mint and vault a caller expects the pool to name."""

    mint: Pubkey
    vault: Pubkey


async def read_pool_state(
    rpc: RpcSession,
    program_id: Pubkey,
    address: Pubkey,
    *,
    min_slot: int = 0,
    expected: PoolTokenKeys | None = None,
) -> PoolChainState:
    participants_key = find_participants_address(program_id, address)
    keys = [address, participants_key]
    if expected is not None:
        keys += [expected.mint, expected.vault, metaplex_metadata_address(expected.mint)]
    slot_a, accounts = await _accounts(rpc, keys, min_slot)
    pool_account, participants_account = accounts[0], accounts[1]
    if pool_account is None or pool_account.owner != program_id:
        raise NotAPool(f"{address} is not a pool account of {program_id}")
    try:
        pool = decode_pool(bytes(pool_account.data))
    except AccountDecodeError as exc:
        raise NotAPool(f"{address}: {exc}") from None
    if participants_account is None or participants_account.owner != program_id:
        raise NotAPool(f"{address}: its participants account {participants_key} is missing")
    participants = decode_participants(bytes(participants_account.data))
    if pool.pool_token is None:
        raise NotAPool(f"{address}: a seed-era pool without a vault field")
    vault = pool.pool_token
    if expected is not None and (pool.mint, vault) == (expected.mint, expected.vault):
        slot_b, (mint_account, vault_account, metaplex_account) = slot_a, accounts[2:]
    else:
        slot_b, (mint_account, vault_account, metaplex_account) = await _accounts(
            rpc, [pool.mint, vault, metaplex_metadata_address(pool.mint)], min_slot
        )
    if mint_account is None:
        raise NotAPool(f"{address}: its mint {pool.mint} does not exist")
    try:
        mint = decode_mint(
            pool.mint,
            mint_account.owner,
            bytes(mint_account.data),
            (metaplex_account.owner, bytes(metaplex_account.data)) if metaplex_account is not None else None,
        )
    except MintDecodeError as exc:
        raise NotAPool(f"{address}: {exc}") from None
    return PoolChainState(
        address=address,
        slot=min(slot_a, slot_b),
        pool=pool,
        participants=participants,
        vault=vault,
        vault_balance=_token_amount(vault_account),
        mint=mint,
    )


async def _accounts(
    rpc: RpcSession, keys: Sequence[Pubkey], min_slot: int
) -> tuple[int, list[Account | None]]:
    response = await rpc.read(
        "getMultipleAccounts",
        lambda client: client.get_multiple_accounts(list(keys), encoding="base64"),
        GetMultipleAccountsResp,
    )
    if response.context.slot < min_slot:
        raise ChainBehind(response.context.slot, min_slot)
    return response.context.slot, list(response.value)


def _token_amount(account: Account | None) -> int | None:
    if account is None or len(account.data) < _TOKEN_ACCOUNT_LEN:
        return None
    (amount,) = struct.unpack_from("<Q", bytes(account.data), _TOKEN_AMOUNT_OFFSET)
    return int(amount)
