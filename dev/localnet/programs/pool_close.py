"""Pool instructions that cancel, refund, forfeit, close or administer a pool: cancel_pool, admin_close_pool,
sweep_expired_pool, claim_refund, claim_rent, finalize_forfeited_pool, pause_pool, unpause_pool,
force_expire (docs/program.md §3.5-§3.9, §3.14-§3.17, §5.3-§5.8)."""

from __future__ import annotations

from localnet.model_api import AccountState
from localnet.programs import pool_events as events
from localnet.programs.anchor import AccountKind, Check, Frame, Spec
from localnet.programs.pool_checks import (
    ata,
    burn_from_vault,
    has_one_mint,
    is_ata_of,
    participants_is_pool_account,
    pay_from_vault,
    require_mint_owned_by_token_program,
    require_not_paused,
    require_not_processing,
    require_vault_is_pool_token,
    validate_token,
    validate_token_strict,
    vault_mint_and_owner,
)
from localnet.programs.pool_state import (
    FORCE_EXPIRE_MIN_AGE,
    FORFEIT_DELAY,
    REFUNDABLE_REASONS,
    SWEEP_DELAY,
    ZERO_KEY,
    PoolStatus,
    Reason,
    creator_refund_burn,
)
from localnet.programs.system import SYSTEM_PROGRAM_ID
from localnet.spl_token import close_account

K = AccountKind

_PARTICIPANTS = Spec(K.PARTICIPANTS, checks=(participants_is_pool_account,))
_ADMIN = {"pool": Spec(K.POOL), "user": Spec(K.SIGNER), "participants": _PARTICIPANTS}


def _cancel(frame: Frame, reason: Reason) -> None:
    pool = frame.pool
    pool.status, pool.status_reason, pool.close_time = PoolStatus.CANCELLED, reason, frame.now


# -- cancel_pool / admin_close_pool / sweep_expired_pool -----------------------------------------------------

CANCEL_POOL = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint(),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner,)),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "system_program": Spec(K.PROGRAM),
}


def cancel_pool(frame: Frame) -> None:
    pool = frame.pool
    require_mint_owned_by_token_program(frame)
    frame.require(pool.initialized, "UninitializedAccount")
    require_not_paused(frame)
    frame.require(frame.key("user") == pool.creator, "NotCreator")
    frame.require(pool.status == PoolStatus.OPEN, "InvalidPoolStatus")
    _cancel(frame, Reason.CANCELLED)
    # Quirk (§9.2): count and total are literal zeros in this event although the vault still holds entries.
    events.pool_state(frame, PoolStatus.CANCELLED, 0, 0, Reason.CANCELLED)
    events.pool_activity(frame, "Cancelled", 0, 0)


def _creator_wallet_is_creator(frame: Frame) -> None:
    frame.constraint(frame.key("creator_wallet") == frame.pool.creator, "NotCreator", "creator_wallet")


ADMIN_CLOSE_POOL = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint(),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner,)),
    "creator_wallet": Spec(K.SYSTEM, checks=(_creator_wallet_is_creator,)),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "system_program": Spec(K.PROGRAM),
}


def admin_close_pool(frame: Frame) -> None:
    pool = frame.pool
    require_mint_owned_by_token_program(frame)
    require_not_paused(frame)
    frame.require(frame.key("user") == pool.dev_wallet, "NotDeveloper")
    frame.require(pool.status == PoolStatus.OPEN, "InvalidPoolStatus")
    _cancel(frame, Reason.ADMIN_CLOSED)
    events.pool_state(frame, PoolStatus.CANCELLED, 0, 0, Reason.ADMIN_CLOSED)
    events.pool_activity(frame, "AdminClosed", 0, 0)


SWEEP_EXPIRED_POOL = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint(),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner,)),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "system_program": Spec(K.PROGRAM),
    "participants": _PARTICIPANTS,
}


def sweep_expired_pool(frame: Frame) -> None:
    pool = frame.pool
    require_not_paused(frame)
    if not pool.allow_mock:  # checked before the caller, so anyone learns "not expired yet" first
        frame.require(frame.now > pool.expire_time + SWEEP_DELAY, "PoolNotExpired")
    frame.require(frame.key("user") == pool.dev_wallet, "NotDeveloper")
    frame.require(pool.status == PoolStatus.OPEN, "InvalidPoolStatus")
    _cancel(frame, Reason.EXPIRED)
    events.pool_state(
        frame, PoolStatus.CANCELLED, frame.participants.count, pool.total_amount, Reason.EXPIRED
    )
    events.pool_activity(frame, "Expired", 0, 0)


# -- claim_refund --------------------------------------------------------------------------------------------

CLAIM_REFUND = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint(),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner,)),
    "user_token": Spec(K.TOKEN),
    "treasury_token": Spec(K.TOKEN, checks=(is_ata_of("treasury_token", "pool.treasury_wallet"),)),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "participants": _PARTICIPANTS,
}


def _forfeit_to_treasury(frame: Frame) -> int:
    """Send the whole vault to the treasury ATA (pool PDA signs); returns the amount."""
    balance = frame.token("pool_token").amount
    if balance > 0:
        pay_from_vault(frame, frame.key("treasury_token"), balance)
    frame.require(frame.reload_token("pool_token").amount == 0, "PoolNotEmpty")
    return balance


def claim_refund(frame: Frame) -> None:
    pool, participants, user = frame.pool, frame.participants, frame.key("user")
    require_mint_owned_by_token_program(frame)
    require_vault_is_pool_token(frame)
    require_not_processing(frame)
    frame.require(pool.status == PoolStatus.CANCELLED, "InvalidPoolStatus")
    # Known bug (§9.2): pause/unpause overwrite the reason, after which a Cancelled pool never refunds.
    frame.require(pool.status_reason in REFUNDABLE_REASONS, "InvalidPoolStatus")
    if user == pool.dev_wallet:
        # The dev always takes this branch, even as creator or participant (§5.3: never refunded).
        frame.require(frame.now > pool.close_time + FORFEIT_DELAY, "TooEarlyForEmergency")
        validate_token_strict(frame, "treasury_token", pool.treasury_wallet)
        forfeited = _forfeit_to_treasury(frame)
        participants.count = 0  # the list itself is left as it was
        events.forfeited_to_treasury(frame, forfeited)
        return
    frame.require(frame.key("user_token") == ata(frame, user), "InvalidParticipantToken")
    validate_token(frame, "user_token", user)
    members = participants.members()
    frame.require(user in members, "NotParticipant")
    index = members.index(user)
    burn = creator_refund_burn(pool.amount) if user == pool.creator else 0
    refund = pool.amount - burn
    if burn > 0:
        burn_from_vault(frame, burn, checked=False)
        events.refund_burned(frame, user, burn, pool.status_reason)
    pay_from_vault(frame, frame.key("user_token"), refund)
    events.refund_claimed(frame, user, refund, burn, pool.status_reason)
    # Remove while keeping order; the freed last slot is zeroed. total_amount is deliberately not lowered.
    slots = participants.slots
    slots[index : participants.count - 1] = slots[index + 1 : participants.count]
    slots[participants.count - 1] = ZERO_KEY
    participants.count -= 1


# -- claim_rent ----------------------------------------------------------------------------------------------


def _close_target_differs(name: str) -> Check:
    def check(frame: Frame) -> None:
        frame.constraint(frame.key("close_target") != frame.key(name), "ConstraintClose", name)

    return check


def _rent_vault_mint_and_owner(frame: Frame) -> None:
    # Known bug (§9.2): the vault is tied to the passed mint and the pool, never to pool.mint/pool.pool_token.
    vault_mint_and_owner(frame)


CLAIM_RENT = {
    "pool": Spec(K.POOL, checks=(_close_target_differs("pool"),)),
    "mint": Spec(K.MINT),
    "pool_token": Spec(K.TOKEN, checks=(_rent_vault_mint_and_owner,)),
    "close_target": Spec(K.SYSTEM),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "participants": Spec(
        K.PARTICIPANTS, checks=(participants_is_pool_account, _close_target_differs("participants"))
    ),
}


def _close_program_account(frame: Frame, name: str) -> None:
    """Anchor's `close = close_target` at exit: all lamports to the target, account gone."""
    key, target_key = frame.key(name), frame.key("close_target")
    state = frame.ctx.get(key)
    if state is None:
        return
    target = frame.ctx.get(target_key) or AccountState(lamports=0, data=bytearray(), owner=SYSTEM_PROGRAM_ID)
    target.lamports += state.lamports
    frame.ctx.put(target_key, target)
    frame.ctx.put(key, None)
    frame.closed.add(name)


def claim_rent(frame: Frame) -> None:
    pool, user = frame.pool, frame.key("user")
    require_mint_owned_by_token_program(frame)
    closable = (PoolStatus.ENDED, PoolStatus.CANCELLED, PoolStatus.CLOSED, PoolStatus.WINNER_SELECTED)
    frame.require(pool.status in closable, "InvalidPoolStatus")
    frame.require(frame.participants.count == 0, "PoolNotEmpty")
    frame.require(user in (pool.creator, pool.dev_wallet), "Unauthorized")
    if user == pool.dev_wallet:
        # Quirk (§9.2): for Ended pools close_time is 0, so the dev can take the rent at once.
        frame.require(frame.now > pool.close_time + FORFEIT_DELAY, "TooEarlyForEmergency")
        recipient = pool.treasury_wallet
    else:
        recipient = pool.creator
    frame.require(frame.key("close_target") == recipient, "Unauthorized")
    balance = frame.reload_token("pool_token").amount
    if pool.status == PoolStatus.CANCELLED:
        if balance > 0:  # unrefunded donations and stray transfers are burned
            burn_from_vault(frame, balance, checked=False)
        frame.require(frame.reload_token("pool_token").amount == 0, "PoolNotEmpty")
    else:
        frame.require(balance == 0, "PoolNotEmpty")
    close_account(
        frame.ctx,
        token_program=frame.key("token_program"),
        account=frame.key("pool_token"),
        destination=frame.key("close_target"),
        authority=frame.key("pool"),
        signer_seeds=pool.signer_seeds(),
    )
    # Written, then lost when the account is closed below: Closed is never visible on chain.
    pool.status, pool.status_reason, pool.close_time = PoolStatus.CLOSED, Reason.NONE, frame.now
    events.pool_state(frame, PoolStatus.CLOSED, 0, 0, 0)
    events.pool_activity(frame, "Closed", 0, 0)
    events.rent_claimed(frame, user, recipient)
    _close_program_account(frame, "pool")
    _close_program_account(frame, "participants")


# -- finalize_forfeited_pool ---------------------------------------------------------------------------------

FINALIZE_FORFEITED_POOL = {
    "mint": Spec(K.MINT),
    "pool": Spec(K.POOL, checks=(has_one_mint(),)),
    "pool_token": Spec(K.TOKEN, checks=(vault_mint_and_owner,)),
    "treasury_token": Spec(K.TOKEN, checks=(is_ata_of("treasury_token", "pool.treasury_wallet"),)),
    "user": Spec(K.SIGNER),
    "token_program": Spec(K.TOKEN_PROGRAM),
    "participants": _PARTICIPANTS,
}


def finalize_forfeited_pool(frame: Frame) -> None:
    pool, participants = frame.pool, frame.participants
    require_mint_owned_by_token_program(frame)
    require_vault_is_pool_token(frame)
    frame.require(pool.initialized, "UninitializedAccount")
    require_not_paused(frame)
    require_not_processing(frame)
    frame.require(pool.status == PoolStatus.CANCELLED, "InvalidPoolStatus")
    frame.require(pool.status_reason in REFUNDABLE_REASONS, "InvalidPoolStatus")
    frame.require(pool.close_time != 0, "InvalidPoolStatus")
    if not pool.allow_mock:
        frame.require(frame.now > pool.close_time + FORFEIT_DELAY, "TooEarlyForEmergency")
    frame.require(frame.key("user") in (pool.dev_wallet, pool.treasury_wallet), "Unauthorized")
    validate_token_strict(frame, "pool_token", frame.key("pool"))
    validate_token_strict(frame, "treasury_token", pool.treasury_wallet)
    forfeited = _forfeit_to_treasury(frame)
    for index in range(participants.count):
        participants.slots[index] = ZERO_KEY
    participants.count = 0
    pool.status, pool.status_reason, pool.close_time, pool.total_amount = (
        PoolStatus.CLOSED,
        Reason.NONE,
        frame.now,
        0,
    )
    events.pool_state(frame, PoolStatus.CLOSED, 0, 0, 0)
    events.pool_activity(frame, "Closed", forfeited, 0)
    events.forfeited_to_treasury(frame, forfeited)


# -- pause_pool / unpause_pool / force_expire ----------------------------------------------------------------

PAUSE_POOL = _ADMIN
UNPAUSE_POOL = _ADMIN


def _require_dev_and_not_finished(frame: Frame) -> None:
    pool = frame.pool
    frame.require(frame.key("user") == pool.dev_wallet, "Unauthorized")
    frame.require(pool.status not in (PoolStatus.ENDED, PoolStatus.CLOSED), "InvalidPoolStatus")


def pause_pool(frame: Frame) -> None:
    pool = frame.pool
    _require_dev_and_not_finished(frame)
    # Known bug (§9.2): this overwrites a Cancelled pool's reason, which bricks its refunds for good.
    pool.paused, pool.status_reason = True, Reason.PAUSED
    events.pool_state(frame, pool.status, frame.participants.count, pool.total_amount, Reason.PAUSED)


def unpause_pool(frame: Frame) -> None:
    pool = frame.pool
    _require_dev_and_not_finished(frame)
    pool.paused, pool.status_reason = False, Reason.NONE  # not the reason from before the pause
    events.pool_state(frame, pool.status, frame.participants.count, pool.total_amount, 0)


FORCE_EXPIRE = {"pool": Spec(K.POOL), "user": Spec(K.SIGNER)}


def force_expire(frame: Frame) -> None:
    pool = frame.pool
    frame.require(pool.allow_mock, "Unauthorized")
    frame.require(frame.key("user") == pool.dev_wallet, "Unauthorized")
    frame.require(frame.now >= pool.start_time + FORCE_EXPIRE_MIN_AGE, "TooEarlyForEmergency")
    # Known bug (§9.2): duration is hashed, so joins then fail with PoolExpired and donate/select with
    # ConfigMismatch. No status check either.
    pool.expire_time, pool.duration = frame.now - 10, 0
