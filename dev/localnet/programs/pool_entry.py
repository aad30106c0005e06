"""Pool instructions that bring tokens in or shape an open pool: create_pool, join_pool, donate,
set_lock_duration (docs/program.md §3.1-§3.4)."""

from __future__ import annotations

from typing import Any

from localnet.model_api import ProgramError
from localnet.programs import pool_events as events
from localnet.programs.anchor import AccountKind, Frame, Spec
from localnet.programs.pool_checks import (
    ata,
    deposit,
    has_one_mint,
    init_associated_account,
    is_ata_of,
    minimum_amount,
    participants_is_pool_account,
    require_config_hash,
    require_mint_owned_by_token_program,
    require_not_paused,
    require_not_processing,
    require_vault_is_pool_token,
    validate_token,
    vault_mint_and_owner,
    vault_mint_and_owner_raw,
)
from localnet.programs.pool_state import (
    ALLOWED_DECIMALS,
    MAX_FEE_BPS,
    MAX_LOCK_DURATION,
    MAX_PARTICIPANTS,
    MIN_LOCK_DURATION,
    NEAR_EXPIRE_WINDOW,
    PARTICIPANTS_LEN,
    POOL_LEN,
    POOL_OPEN_DURATION,
    U64_MAX,
    Participants,
    PoolStatus,
    Reason,
    compute_pool_id,
    config_hash,
    decode_pool,
    participants_address,
    pool_address,
)
from localnet.programs.system import SYSTEM_PROGRAM_ID, create_account
from localnet.spl_token import (
    TOKEN_2022_PROGRAM_ID,
    extensions,
)

K = AccountKind

# -- create_pool ---------------------------------------------------------------------------------------------


def _init_pool(frame: Frame) -> None:
    """`init_if_needed`, seeds ["pool", mint, salt], payer user, space 488."""
    salt = frame.args["salt"]
    assert isinstance(salt, bytes)
    expected, bump = pool_address(frame.ctx.program_id, frame.key("mint"), salt)
    frame.constraint(frame.key("pool") == expected, "ConstraintSeeds", "pool")
    state = frame.ctx.get(expected)
    if state is None or state.owner == SYSTEM_PROGRAM_ID:
        create_account(
            frame.ctx,
            payer=frame.key("user"),
            new_account=expected,
            space=POOL_LEN,
            owner=frame.ctx.program_id,
            pda_signer=expected,
        )
        blank = decode_pool(frame.idl, frame.idl.account_discriminators["Pool"] + bytes(POOL_LEN - 8))
        blank.bump = bump
        frame.load_init_pool(blank)
        return
    # An existing account is loaded as a Pool; the handler's AlreadyInitialized is then unreachable because
    # the Participants `init` below fails first (docs/program.md §3.1).
    frame.constraint(state.owner == frame.ctx.program_id, "AccountOwnedByWrongProgram", "pool")
    data = bytes(state.data)
    frame.constraint(
        data[:8] == frame.idl.account_discriminators["Pool"], "AccountDiscriminatorMismatch", "pool"
    )
    frame.constraint(len(data) == POOL_LEN, "ConstraintSpace", "pool")
    frame.constraint(state.lamports >= frame.ctx.minimum_balance(POOL_LEN), "ConstraintRentExempt", "pool")
    frame.load_init_pool(decode_pool(frame.idl, data))


def _init_vault(frame: Frame) -> None:
    init_associated_account(frame, "pool_token", "pool", "user")


def _init_participants(frame: Frame) -> None:
    """`init`, seeds ["participants", pool]: always creates, so a repeated create_pool fails here."""
    expected, _bump = participants_address(frame.ctx.program_id, frame.key("pool"))
    frame.constraint(frame.key("participants") == expected, "ConstraintSeeds", "participants")
    create_account(
        frame.ctx,
        payer=frame.key("user"),
        new_account=expected,
        space=PARTICIPANTS_LEN,
        owner=frame.ctx.program_id,
        pda_signer=expected,
    )
    frame.load_init_pool(frame.pool, Participants())


CREATE_POOL = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.INIT, init=_init_pool),
    "user_token": Spec(K.TOKEN, checks=(is_ata_of("user_token", "user"),)),
    "user": Spec(K.SIGNER),
    "pool_token": Spec(K.INIT, init=_init_vault),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "associated_token_program": Spec(K.PROGRAM),
    "system_program": Spec(K.PROGRAM),
    "rent": Spec(K.SYSVAR),
    "participants": Spec(K.INIT, init=_init_participants),
}

# Token-2022 mint extensions the program refuses, in its order (type number, error). MintCloseAuthority and
# DefaultAccountState are refused only for some values, see `_rejected_extension`.
_DENIED_EXTENSIONS = (
    (1, "ForbiddenTransferFee"),
    (14, "ForbiddenTransferHook"),
    (4, "ForbiddenConfidentialTransfer"),
    (9, "ForbiddenNonTransferable"),
    (10, "ForbiddenInterestBearing"),
    (12, "ForbiddenPermanentDelegate"),
    (3, "ForbiddenMintCloseAuthority"),
    (6, "ForbiddenDefaultAccountState"),
)


def _rejected_extension(mint_data: bytes) -> str | None:
    found = extensions(mint_data)
    for ext_type, error in _DENIED_EXTENSIONS:
        if ext_type not in found:
            continue
        value = found[ext_type]
        if ext_type == 3 and value == bytes(len(value)):  # close authority present but unset
            continue
        if ext_type == 6 and value[:1] == b"\x01":  # default state Initialized
            continue
        return error
    return None


def _check_token_2022_mint(frame: Frame) -> None:
    state = frame.ctx.get(frame.key("mint"))
    if state is None or state.owner != TOKEN_2022_PROGRAM_ID:
        return
    rejected = _rejected_extension(bytes(state.data))
    if rejected is not None:
        frame.ctx.log(f"❌ REJECTED: {rejected}")
        frame.fail(rejected)
    frame.ctx.log("✅ ACCEPTED: Token-2022 mint passed extension checks")


def create_pool(frame: Frame) -> None:
    args: dict[str, Any] = dict(frame.args)
    pool, mint, user = frame.pool, frame.mint(), frame.key("user")
    frame.require(not pool.initialized, "AlreadyInitialized")
    require_mint_owned_by_token_program(frame)
    fee_sum = args["dev_fee_bps"] + args["burn_fee_bps"] + args["treasury_fee_bps"]
    if fee_sum > 0xFFFF:  # the program adds in u16 with overflow checks on: a panic, not ExcessiveFees
        raise ProgramError(
            builtin="ProgramFailedToComplete", log="panicked at 'attempt to add with overflow'"
        )
    frame.require(fee_sum <= MAX_FEE_BPS, "ExcessiveFees")
    frame.require(mint.freeze_authority is None, "MintHasFreezeAuthority")
    frame.require(
        mint.mint_authority is None or mint.mint_authority == SYSTEM_PROGRAM_ID, "MintHasMintAuthority"
    )
    _check_token_2022_mint(frame)
    frame.require(mint.supply > 0, "ZeroSupply")
    frame.require(mint.decimals in ALLOWED_DECIMALS, "InvalidDecimals")
    frame.require(args["max_participants"] <= MAX_PARTICIPANTS, "TooManyParticipants")
    frame.require(args["max_participants"] >= 2, "InvalidParticipantRange")
    frame.require(args["amount"] >= minimum_amount(frame), "InvalidAmount")
    frame.require(MIN_LOCK_DURATION <= args["lock_duration"] <= MAX_LOCK_DURATION, "InvalidLockDuration")

    now = frame.now
    pool.pool_id = compute_pool_id(args["salt"], frame.slot, user)
    pool.pool_token = frame.key("pool_token")
    pool.salt, pool.mint, pool.creator = args["salt"], frame.key("mint"), user
    pool.start_time, pool.duration, pool.expire_time = now, POOL_OPEN_DURATION, now + POOL_OPEN_DURATION
    pool.end_time = pool.unlock_time = pool.close_time = 0
    pool.max_participants, pool.lock_duration, pool.lock_start_time = (
        args["max_participants"],
        args["lock_duration"],
        0,
    )
    pool.amount = pool.total_amount = pool.total_volume = args["amount"]
    pool.total_joins, pool.total_donations = 1, 0
    pool.dev_wallet, pool.treasury_wallet = args["dev_wallet"], args["treasury_wallet"]
    pool.dev_fee_bps, pool.burn_fee_bps = args["dev_fee_bps"], args["burn_fee_bps"]
    pool.treasury_fee_bps = args["treasury_fee_bps"]
    pool.randomness, pool.randomness_account, pool.randomness_deadline_slot = 0, SYSTEM_PROGRAM_ID, 0
    pool.status, pool.status_reason, pool.paused = PoolStatus.OPEN, Reason.NONE, False
    pool.version = pool.schema = 1
    pool.allow_mock = args["allow_mock"]  # this model is the default (non-`mainnet`) build: kept as given
    pool.randomness_commit_slot, pool.last_join_time = 0, now
    pool.winner, pool.processing = SYSTEM_PROGRAM_ID, False
    pool.config_hash = config_hash(pool)
    frame.participants.slots[0] = user
    frame.participants.count = 1
    pool.participants_account = frame.key("participants")

    frame.require(frame.key("user_token") == ata(frame, user), "InvalidParticipantToken")
    validate_token(frame, "user_token", user)
    frame.require(frame.token("user_token").amount >= args["amount"], "InsufficientFunds")
    deposit(frame, "user_token", args["amount"])
    events.pool_state(frame, PoolStatus.OPEN, 1, pool.amount, 0)
    events.pool_activity(frame, "Created", pool.amount, 1)
    pool.initialized = True


# -- join_pool -----------------------------------------------------------------------------------------------

JOIN_POOL = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint(),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner,)),
    "user_token": Spec(K.TOKEN, checks=(is_ata_of("user_token", "user"),)),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "participants": Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,)),
}


def _checked_add(frame: Frame, a: int, b: int, limit: int = U64_MAX) -> int:
    frame.require(a + b <= limit, "Overflow")
    return a + b


def join_pool(frame: Frame) -> None:
    amount = frame.args["amount"]
    assert isinstance(amount, int)
    pool, participants, user = frame.pool, frame.participants, frame.key("user")
    require_mint_owned_by_token_program(frame)
    frame.require(pool.initialized, "UninitializedAccount")
    require_not_paused(frame)
    frame.require(frame.now <= pool.start_time + pool.duration, "PoolExpired")
    frame.require(pool.status == PoolStatus.OPEN, "PoolUnavailableForJoin")
    frame.require(pool.lock_start_time == 0, "JoinClosedAfterUnlock")
    vault = frame.token("pool_token")
    frame.require(vault.mint == frame.key("mint"), "InvalidMint")
    frame.require(vault.owner == frame.key("pool"), "InvalidParticipantToken")
    require_vault_is_pool_token(frame)
    require_not_processing(frame)
    require_config_hash(frame)
    frame.require(amount == pool.amount, "InvalidAmount")
    frame.require(pool.amount >= minimum_amount(frame), "InvalidAmount")
    frame.require(frame.key("user_token") == ata(frame, user), "InvalidParticipantToken")
    validate_token(frame, "user_token", user)
    frame.require(frame.token("user_token").amount >= amount, "InsufficientFunds")
    new_count = _checked_add(frame, participants.count, 1, limit=0xFF)
    frame.require(new_count <= pool.max_participants, "MaxParticipantsReached")
    frame.require(user not in participants.members(), "AlreadyParticipated")

    deposit(frame, "user_token", amount)
    participants.slots[participants.count] = user
    participants.count = new_count
    pool.total_amount = _checked_add(frame, pool.total_amount, amount)
    pool.total_volume = _checked_add(frame, pool.total_volume, amount)
    pool.total_joins = _checked_add(frame, pool.total_joins, 1, limit=0xFFFFFFFF)
    pool.last_join_time = frame.now
    events.pool_state(frame, PoolStatus.OPEN, new_count, pool.total_amount, 0)
    events.pool_activity(frame, "Joined", amount, new_count)
    if new_count == pool.max_participants:
        pool.status, pool.status_reason, pool.lock_start_time = (
            PoolStatus.LOCKED,
            Reason.MAX_REACHED,
            frame.now,
        )
        events.pool_state(frame, PoolStatus.LOCKED, new_count, pool.total_amount, Reason.MAX_REACHED)
        events.pool_activity(frame, "ReachedMax", pool.total_amount, 0)
        events.ui_hint(frame, "ReachedMax")


# -- donate --------------------------------------------------------------------------------------------------

DONATE = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint(),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner_raw,)),
    "user_token": Spec(K.TOKEN),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "participants": Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,)),
}


def donate(frame: Frame) -> None:
    amount = frame.args["amount"]
    assert isinstance(amount, int)
    pool, now = frame.pool, frame.now
    require_mint_owned_by_token_program(frame)
    require_vault_is_pool_token(frame)
    frame.require(pool.initialized, "UninitializedAccount")
    require_not_paused(frame)
    require_not_processing(frame)
    frame.require(pool.status not in (PoolStatus.UNLOCKED, PoolStatus.ENDED), "DonateClosedAfterUnlock")
    require_config_hash(frame)
    validate_token(frame, "user_token", frame.key("user"))
    if pool.status == PoolStatus.OPEN:
        frame.require(now <= pool.start_time + pool.duration, "PoolExpired")
    elif pool.status == PoolStatus.LOCKED:
        frame.require(now < pool.lock_start_time + pool.lock_duration, "DonateClosedAfterUnlock")
    else:
        frame.fail("DonateClosedAfterUnlock")
    frame.require(amount >= minimum_amount(frame), "InvalidAmount")
    frame.require(frame.token("user_token").amount >= amount, "InsufficientFunds")
    # The program repeats the user-token and vault validations here; they cannot fail after the ones above.

    deposit(frame, "user_token", amount)
    pool.total_amount = _checked_add(frame, pool.total_amount, amount)
    pool.total_volume = _checked_add(frame, pool.total_volume, amount)
    pool.total_donations = _checked_add(frame, pool.total_donations, 1, limit=0xFFFFFFFF)
    events.pool_state(frame, pool.status, frame.participants.count, pool.total_amount, 0)
    events.pool_activity(frame, "Donated", amount, 0)
    if now > pool.start_time + pool.duration - NEAR_EXPIRE_WINDOW:
        events.ui_hint(frame, "NearExpire")


# -- set_lock_duration ---------------------------------------------------------------------------------------

SET_LOCK_DURATION = {
    "pool": Spec(K.POOL),
    "user": Spec(K.SIGNER),
    "participants": Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,)),
}


def set_lock_duration(frame: Frame) -> None:
    new = frame.args["new_lock_duration"]
    assert isinstance(new, int)
    pool = frame.pool
    require_not_paused(frame)
    frame.require(frame.key("user") == pool.creator, "NotCreator")
    frame.require(pool.status == PoolStatus.OPEN, "InvalidPoolStatus")
    frame.require(MIN_LOCK_DURATION <= new <= MAX_LOCK_DURATION, "InvalidLockDuration")
    frame.require(new >= pool.lock_duration, "CannotDecreaseLockDuration")
    frame.require(frame.participants.count == 1, "CannotChangeAfterJoins")
    # Known bug (docs/program.md §9.2): lock_duration is hashed but config_hash is not recomputed, so any
    # increase makes every later join/donate/select fail with ConfigMismatch. Reproduced on purpose.
    pool.lock_duration = new
