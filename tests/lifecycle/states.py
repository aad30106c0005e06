"""Decoded pool states for the lifecycle tests, built field by field the way the program leaves them."""

from __future__ import annotations

import dataclasses
from typing import Any

from solders.pubkey import Pubkey

from missout.chain.accounts import PoolAccount, PoolStatus
from missout.chain.addresses import ZERO_PUBKEY
from missout.lifecycle import LifecycleSettings, ObservedPool, RandomnessState


def key(n: int) -> Pubkey:
    return Pubkey(bytes([n]) * 32)


DEV = key(11)
TREASURY = key(12)
SWITCHBOARD_ACCOUNT = key(13)
T0 = 1_800_000_000  # creation time
SLOT0 = 400_000_000
ENTRY = 20_000_000
SETTINGS = LifecycleSettings(dev_wallet=DEV)


def pool_account(**overrides: Any) -> PoolAccount:
    base = PoolAccount(
        pool_id=7,
        salt=bytes(32),
        mint=key(14),
        pool_token=key(15),
        creator=key(16),
        start_time=T0,
        duration=604_800,
        expire_time=T0 + 604_800,
        end_time=0,
        unlock_time=0,
        close_time=0,
        max_participants=3,
        lock_duration=600,
        lock_start_time=0,
        amount=ENTRY,
        total_amount=ENTRY,
        total_volume=ENTRY,
        total_joins=1,
        total_donations=0,
        dev_wallet=DEV,
        dev_fee_bps=500,
        burn_fee_bps=350,
        treasury_wallet=TREASURY,
        treasury_fee_bps=150,
        randomness=0,
        randomness_account=ZERO_PUBKEY,
        randomness_deadline_slot=0,
        bump=255,
        status=PoolStatus.OPEN,
        paused=False,
        version=1,
        schema=1,
        config_hash=bytes(32),
        allow_mock=False,
        randomness_commit_slot=0,
        initialized=True,
        last_join_time=T0,
        status_reason=0,
        participants_account=key(17),
        winner=ZERO_PUBKEY,
    )
    return dataclasses.replace(base, **overrides)


def observed(
    pool: PoolAccount,
    *,
    count: int | None = None,
    vault: int | None = -1,
    randomness: RandomnessState | None = None,
    recorded: bool = False,
) -> ObservedPool:
    """`vault=-1` means "what the program keeps": equal to total_amount."""
    return ObservedPool(
        address=key(18),
        pool=pool,
        participants_count=pool.max_participants if count is None else count,
        vault_amount=pool.total_amount if vault == -1 else vault,
        randomness=randomness,
        outcome_recorded=recorded,
    )


def locked(**overrides: Any) -> PoolAccount:
    full = 3 * ENTRY
    fields: dict[str, Any] = {
        "status": PoolStatus.LOCKED,
        "status_reason": 4,
        "lock_start_time": T0 + 100,
        "total_amount": full,
        "total_volume": full,
        "total_joins": 3,
    }
    return pool_account(**(fields | overrides))


def unlocked(**overrides: Any) -> PoolAccount:
    return locked(
        **({"status": PoolStatus.UNLOCKED, "status_reason": 0, "unlock_time": T0 + 700} | overrides)
    )


def committed(*, mock: bool = False, **overrides: Any) -> PoolAccount:
    fields: dict[str, Any] = {
        "status": PoolStatus.RANDOMNESS_COMMITTED,
        "randomness_commit_slot": SLOT0,
        "randomness_deadline_slot": SLOT0 + 3000,
        "randomness_account": ZERO_PUBKEY if mock else SWITCHBOARD_ACCOUNT,
        "randomness": 12345 if mock else 0,
        "allow_mock": mock,
    }
    return unlocked(**(fields | overrides))


def winner_selected(**overrides: Any) -> PoolAccount:
    fields: dict[str, Any] = {
        "status": PoolStatus.WINNER_SELECTED,
        "winner": key(19),
        "randomness": 99,
    }
    return committed(**(fields | overrides))


def ended(**overrides: Any) -> PoolAccount:
    fields: dict[str, Any] = {"status": PoolStatus.ENDED, "end_time": T0 + 900, "total_amount": 0}
    return winner_selected(**(fields | overrides))


def cancelled(reason: int = 5, **overrides: Any) -> PoolAccount:
    fields: dict[str, Any] = {"status": PoolStatus.CANCELLED, "status_reason": reason, "close_time": T0 + 50}
    return pool_account(**(fields | overrides))
