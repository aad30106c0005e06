"""Read many pools from the chain in few requests: `getMultipleAccounts` in two rounds.

Round 1: the Clock sysvar and every Pool account (the clock gives the chain's own `unix_timestamp` and slot,
read together with the pools, so every decision uses the program's idea of "now"). Round 2: what the pools
name: Participants, vault and, when one is bound, the Switchboard randomness account. Each round is chunked
by 100 keys inside `RpcSession.get_multiple_accounts`, with failover per chunk.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.pubkey import Pubkey
from solders.sysvar import CLOCK

from missout.chain.accounts import (
    ParticipantsAccount,
    PoolAccount,
    decode_participants,
    decode_pool,
)
from missout.chain.addresses import ZERO_PUBKEY
from missout.chain.pool_keys import PoolKeys
from missout.chain.program import AccountDecodeError
from missout.chain.rpc import RpcSession
from missout.chain.switchboard import RandomnessAccount, SwitchboardAccountError
from missout.lifecycle import ObservedPool, RandomnessState

_TOKEN_AMOUNT = struct.Struct("<Q")  # SPL token account: mint 0..32, owner 32..64, amount 64..72
_CLOCK_SLOT, _CLOCK_UNIX = 0, 32


class ChainReadError(RuntimeError):
    """The chain answered with something that is not what the address must hold."""


@dataclass(frozen=True, slots=True)
class ChainClock:
    slot: int
    unix_timestamp: int


@dataclass(frozen=True, slots=True)
class PoolRead:
    """One pool as read: `observed` is None when the Pool account no longer exists (rent claimed) or
    never did; `problem` says why it could not be decoded, if so."""

    address: Pubkey
    observed: ObservedPool | None
    participants: ParticipantsAccount | None = None
    randomness: RandomnessAccount | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    clock: ChainClock
    pools: dict[Pubkey, PoolRead]


def decode_clock(account: Account | None) -> ChainClock:
    if account is None or len(account.data) < 40:
        raise ChainReadError("the Clock sysvar is missing or short")
    data = bytes(account.data)
    (slot,) = struct.unpack_from("<Q", data, _CLOCK_SLOT)
    (unix,) = struct.unpack_from("<q", data, _CLOCK_UNIX)
    return ChainClock(slot=slot, unix_timestamp=unix)


def token_amount(account: Account | None) -> int | None:
    if account is None:
        return None
    data = bytes(account.data)
    if len(data) < 72:
        raise ChainReadError(f"token account of {len(data)} bytes")
    return int(_TOKEN_AMOUNT.unpack_from(data, 64)[0])


async def read_pools(
    rpc: RpcSession,
    program_id: Pubkey,
    addresses: Sequence[Pubkey],
    *,
    recorded: frozenset[Pubkey] = frozenset(),
) -> Snapshot:
    """Read and decode `addresses`. `recorded` lists the pools whose outcome the database already holds."""
    first = await rpc.get_multiple_accounts([CLOCK, *addresses])
    clock = decode_clock(first[0])
    decoded: dict[Pubkey, PoolAccount] = {}
    reads: dict[Pubkey, PoolRead] = {}
    for address, account in zip(addresses, first[1:], strict=True):
        if account is None:
            reads[address] = PoolRead(address, None)
            continue
        if account.owner != program_id:
            reads[address] = PoolRead(address, None, problem=f"owned by {account.owner}, not the program")
            continue
        try:
            decoded[address] = decode_pool(bytes(account.data))
        except AccountDecodeError as exc:
            reads[address] = PoolRead(address, None, problem=f"not a Pool: {exc}")
    second_keys: list[Pubkey] = []
    layout: dict[Pubkey, tuple[int, int, int | None]] = {}
    for address, pool in decoded.items():
        keys = PoolKeys.of(address, pool)
        start = len(second_keys)
        second_keys += [pool.participants_account, keys.vault]
        randomness_at = None
        if pool.randomness_account != ZERO_PUBKEY:
            randomness_at = len(second_keys)
            second_keys.append(pool.randomness_account)
        layout[address] = (start, start + 1, randomness_at)
    second = await rpc.get_multiple_accounts(second_keys) if second_keys else []
    for address, pool in decoded.items():
        participants_at, vault_at, randomness_at = layout[address]
        reads[address] = _pool_read(
            address,
            pool,
            second[participants_at],
            second[vault_at],
            None if randomness_at is None else second[randomness_at],
            address in recorded,
        )
    return Snapshot(clock, {address: reads[address] for address in addresses})


def _pool_read(
    address: Pubkey,
    pool: PoolAccount,
    participants_account: Account | None,
    vault_account: Account | None,
    randomness_account: Account | None,
    recorded: bool,
) -> PoolRead:
    try:
        if participants_account is None:
            raise ChainReadError("the Participants account is missing")
        participants = decode_participants(bytes(participants_account.data))
        vault = token_amount(vault_account)
    except (AccountDecodeError, ChainReadError) as exc:
        return PoolRead(address, None, problem=str(exc))
    randomness: RandomnessAccount | None = None
    state: RandomnessState | None = None
    if pool.randomness_account != ZERO_PUBKEY:
        state = RandomnessState(exists=randomness_account is not None)
        if randomness_account is not None:
            try:
                randomness = RandomnessAccount.decode(bytes(randomness_account.data))
                state = RandomnessState(exists=True, revealed=randomness.is_revealed)
            except SwitchboardAccountError:
                state = RandomnessState(exists=True)  # someone else's account shape: reveal will say more
    observed = ObservedPool(
        address=address,
        pool=pool,
        participants_count=participants.count,
        vault_amount=vault,
        randomness=state,
        outcome_recorded=recorded,
    )
    return PoolRead(address, observed, participants, randomness)
