"""Pool instructions that draw and pay a full pool: unlock_pool, request_randomness, select_winner,
payout_winner (docs/program.md §3.10-§3.13, §4, §5.1)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from localnet.model_api import ProgramError
from localnet.programs import pool_events as events
from localnet.programs.anchor import AccountKind, Frame, Spec
from localnet.programs.pool_checks import (
    ata,
    burn_from_vault,
    has_one_mint,
    init_associated_account,
    participants_is_pool_account,
    pay_from_vault,
    require_config_hash,
    require_mint_owned_by_token_program,
    require_not_paused,
    require_not_processing,
    require_vault_is_pool_token,
    validate_token_strict,
    vault_mint_and_owner,
)
from localnet.programs.pool_state import (
    EMERGENCY_DELAY,
    PAYOUT_TIMEOUT,
    RANDOMNESS_DEADLINE_SLOTS,
    RANDOMNESS_FRESHNESS_SLOTS,
    ZERO_KEY,
    PoolStatus,
    Reason,
    mock_randomness,
    payout_split,
    winner_index,
)

K = AccountKind

_POOL_READ_ONLY_PARTICIPANTS = {
    "pool": Spec(K.POOL),
    "user": Spec(K.SIGNER),
    "participants": Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,)),
}

# -- Switchboard randomness account, as the program's switchboard-on-demand crate reads it (§4.4) -----------

_RANDOMNESS_DISCRIMINATOR = bytes([10, 66, 229, 135, 220, 239, 217, 114])
_RANDOMNESS_BODY_END = 408  # 8-byte discriminator + the crate's 400-byte zero-copy struct


@dataclass(frozen=True)
class _Randomness:
    seed_slot: int
    reveal_slot: int
    value: bytes


def _parse_randomness(frame: Frame) -> _Randomness:
    state = frame.ctx.get(frame.key("randomness"))
    data = bytes(state.data) if state is not None else b""
    frame.require(data[:8] == _RANDOMNESS_DISCRIMINATOR, "InvalidRandomness")
    if len(data) < _RANDOMNESS_BODY_END:
        # Quirk (§9.2): right discriminator but short data makes the crate's slice panic, not return 6026.
        raise ProgramError(
            builtin="ProgramFailedToComplete", log="panicked at 'range end index out of range'"
        )
    (seed_slot,) = struct.unpack_from("<Q", data, 104)
    (reveal_slot,) = struct.unpack_from("<Q", data, 144)
    return _Randomness(seed_slot=seed_slot, reveal_slot=reveal_slot, value=data[152:184])


def _randomness_owner(frame: Frame) -> object:
    state = frame.ctx.get(frame.key("randomness"))
    return state.owner if state is not None else None


# -- unlock_pool ---------------------------------------------------------------------------------------------

UNLOCK_POOL = _POOL_READ_ONLY_PARTICIPANTS


def unlock_pool(frame: Frame) -> None:
    pool = frame.pool
    require_not_paused(frame)
    frame.require(frame.key("user") == pool.dev_wallet, "Unauthorized")
    frame.require(pool.status == PoolStatus.LOCKED, "InvalidPoolStatus")
    frame.require(frame.now >= pool.lock_start_time + pool.lock_duration, "PoolStillLocked")
    frame.require(pool.lock_start_time != 0, "InvalidLockDuration")
    pool.status, pool.unlock_time, pool.status_reason = PoolStatus.UNLOCKED, frame.now, Reason.NONE
    events.pool_state(frame, PoolStatus.UNLOCKED, frame.participants.count, pool.total_amount, 0)
    events.pool_activity(frame, "Unlocked", 0, 0)
    events.ui_hint(frame, "Unlocked")


# -- request_randomness --------------------------------------------------------------------------------------

REQUEST_RANDOMNESS = {
    "randomness": Spec(K.UNCHECKED),
    "pool": Spec(K.POOL),
    "user": Spec(K.SIGNER),
    "participants": Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,)),
}


def request_randomness(frame: Frame) -> None:
    pool, user, now, slot = frame.pool, frame.key("user"), frame.now, frame.slot
    require_not_paused(frame)
    frame.require(pool.status == PoolStatus.UNLOCKED, "InvalidPoolStatus")
    frame.require(now >= pool.lock_start_time + pool.lock_duration, "PoolStillLocked")
    allowed = (
        {pool.dev_wallet, pool.creator} if now > pool.unlock_time + PAYOUT_TIMEOUT else {pool.dev_wallet}
    )
    frame.require(user in allowed, "Unauthorized")
    # The all-zero key is both "no account" and the System Program id: passing it asks for mock randomness.
    mock = pool.allow_mock and frame.key("randomness") == ZERO_KEY
    frame.require(pool.randomness_account == ZERO_KEY, "RandomnessAlreadySet")
    if mock:
        pool.randomness = mock_randomness(pool.pool_id, slot, pool.creator)
        pool.randomness_account = ZERO_KEY
    else:
        frame.require(_randomness_owner(frame) == frame.switchboard_id, "InvalidRandomnessAccount")
        randomness = _parse_randomness(frame)
        oldest = max(slot - RANDOMNESS_FRESHNESS_SLOTS, 0)
        frame.require(oldest <= randomness.seed_slot <= slot, "InvalidRandomness")
        # Quirk (§4.1): an account already revealed within the window is accepted too.
        pool.randomness_account = frame.key("randomness")
    pool.status = PoolStatus.RANDOMNESS_COMMITTED
    pool.randomness_commit_slot = slot
    pool.randomness_deadline_slot = slot + RANDOMNESS_DEADLINE_SLOTS
    events.pool_state(frame, PoolStatus.RANDOMNESS_COMMITTED, frame.participants.count, pool.total_amount, 0)
    events.pool_activity(frame, "RandomnessMockCommitted" if mock else "RandomnessCommitted", 0, 0)


# -- select_winner -------------------------------------------------------------------------------------------

SELECT_WINNER = {
    "pool": Spec(K.POOL),
    "randomness": Spec(K.UNCHECKED),
    "user": Spec(K.SIGNER),
    "participants": Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,)),
}


def _selected_randomness(frame: Frame) -> int:
    """§4.2: the u128 the winner is drawn from (may emit EmergencyReveal)."""
    pool = frame.pool
    if pool.allow_mock and pool.randomness_account == ZERO_KEY:
        frame.require(pool.randomness != 0, "RandomnessNotCommitted")
        return pool.randomness
    if not pool.allow_mock:
        frame.require(_randomness_owner(frame) == frame.switchboard_id, "InvalidRandomnessAccount")
        frame.require(frame.key("randomness") == pool.randomness_account, "InvalidRandomnessAccount")
    # Quirk (§4.2): for allow_mock pools neither owner nor key is checked; any parseable account supplies it.
    randomness = _parse_randomness(frame)
    if not pool.allow_mock:
        frame.require(randomness.seed_slot != 0, "RandomnessNotCommitted")
    if randomness.reveal_slot == 0:
        frame.require(pool.allow_mock, "InvalidRandomness")
        frame.require(frame.now > pool.unlock_time + EMERGENCY_DELAY, "TooEarlyForEmergency")
        frame.require(frame.key("user") in (pool.dev_wallet, pool.creator), "Unauthorized")
        pool.randomness_account = ZERO_KEY
        events.pool_activity(frame, "EmergencyReveal", 0, 0)
        return mock_randomness(pool.pool_id, frame.slot, pool.creator)
    frame.require(randomness.value != bytes(32), "RandomnessNotResolved")
    return int.from_bytes(randomness.value[:16], "little")


def select_winner(frame: Frame) -> None:
    pool, participants = frame.pool, frame.participants
    require_not_paused(frame)
    require_not_processing(frame)  # then set for the duration of the call; always cleared on success
    frame.require(pool.status != PoolStatus.ENDED, "AlreadyEnded")
    finished = (PoolStatus.ENDED, PoolStatus.CANCELLED, PoolStatus.CLOSED)
    frame.require(pool.status not in finished, "AlreadyEnded")
    if pool.randomness_commit_slot != 0:
        # Known dead end (§4.5): past this slot a RandomnessCommitted pool is stuck for good.
        frame.require(
            frame.slot <= pool.randomness_commit_slot + RANDOMNESS_DEADLINE_SLOTS, "RandomnessExpired"
        )
    if not frame.now > pool.unlock_time + PAYOUT_TIMEOUT:
        frame.require(frame.key("user") == pool.dev_wallet, "Unauthorized")
    drawable = (PoolStatus.UNLOCKED, PoolStatus.RANDOMNESS_COMMITTED, PoolStatus.RANDOMNESS_REVEALED)
    frame.require(pool.status in drawable, "InvalidPoolStatus")
    frame.require(participants.count > 0, "NoParticipants")
    require_config_hash(frame)
    value = _selected_randomness(frame)
    index = winner_index(pool.pool_id, value, participants.count)
    pool.winner = participants.slots[index]
    pool.randomness = value
    pool.status, pool.status_reason = PoolStatus.WINNER_SELECTED, Reason.NONE
    events.pool_state(frame, PoolStatus.WINNER_SELECTED, participants.count, pool.total_amount, 0)


# -- payout_winner -------------------------------------------------------------------------------------------


def _init_winner_token(frame: Frame) -> None:
    init_associated_account(frame, "winner_token", "winner_pubkey", "user")


PAYOUT_WINNER = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint("ConstraintHasOne"),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner,)),
    "winner_token": Spec(K.INIT, init=_init_winner_token),
    "dev_token": Spec(K.TOKEN),
    "treasury_token": Spec(K.TOKEN),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "associated_token_program": Spec(K.PROGRAM),
    "system_program": Spec(K.PROGRAM),
    "winner_pubkey": Spec(K.UNCHECKED),
    "user": Spec(K.SIGNER),
    "participants": Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,)),
}


def payout_winner(frame: Frame) -> None:
    pool, participants = frame.pool, frame.participants
    require_mint_owned_by_token_program(frame)
    require_vault_is_pool_token(frame)
    require_not_paused(frame)
    require_not_processing(frame)
    frame.require(pool.status == PoolStatus.WINNER_SELECTED, "InvalidPoolStatus")
    frame.require(participants.count > 0, "NoParticipants")
    frame.require(pool.winner != ZERO_KEY, "NoWinnerSelected")
    frame.require(frame.key("winner_pubkey") == pool.winner, "InvalidWinnerPubkey")
    if not frame.now > pool.unlock_time + PAYOUT_TIMEOUT:
        frame.require(frame.key("user") == pool.dev_wallet, "Unauthorized")
    for name, owner in (
        ("dev_token", pool.dev_wallet),
        ("treasury_token", pool.treasury_wallet),
        ("winner_token", pool.winner),
    ):
        frame.require(frame.key(name) == ata(frame, owner), "InvalidParticipantToken")
        validate_token_strict(frame, name, owner)
    # Known trap (§5.2): any external transfer into the vault makes this fail forever.
    frame.require(frame.token("pool_token").amount == pool.total_amount, "SpoofedDonation")

    split = payout_split(pool.total_amount, pool.dev_fee_bps, pool.burn_fee_bps, pool.treasury_fee_bps)
    if split is None:
        frame.fail("Overflow")
    for name, amount in (
        ("winner_token", split.winner),
        ("dev_token", split.dev),
        ("treasury_token", split.treasury),
    ):
        if amount > 0:
            pay_from_vault(frame, frame.key(name), amount)
    if split.burn > 0:
        burn_from_vault(frame, split.burn, checked=True)
    residue = frame.reload_token("pool_token").amount
    if residue > 0:  # dead code in practice: the four amounts sum to the vault balance
        burn_from_vault(frame, residue, checked=True)
    frame.require(frame.reload_token("pool_token").amount == 0, "PoolNotEmpty")

    participants.count = 0  # the list is kept, so anyone can re-verify the draw later
    pool.end_time, pool.status_reason, pool.total_amount = frame.now, Reason.NONE, 0
    pool.status = PoolStatus.ENDED
    events.winner_selected(frame, split.winner, split.dev, split.burn, split.treasury)
    events.pool_activity(frame, "Ended", split.winner, 0)
    events.pool_state(frame, PoolStatus.ENDED, 0, 0, 0)
