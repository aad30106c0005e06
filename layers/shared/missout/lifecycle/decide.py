"""`next_action`: the single place that decides what the monitor does to a pool.

Pure: the decoded chain state, the chain's clock and slot, and settings in; one `Decision` out. The tick
reads, calls this, acts, and stores `check_at`. Every time rule is the program's own (docs/program.md §5.9),
evaluated against the chain's clock, so a decision is never early by the program's measure.
"""

from __future__ import annotations

import dataclasses

from missout.chain.accounts import PoolStatus
from missout.chain.addresses import ZERO_PUBKEY
from missout.lifecycle.decision import Action, Alert, Decision
from missout.lifecycle.observed import LifecycleSettings, ObservedPool
from missout.lifecycle.rules import EMERGENCY_DELAY_S, FORFEIT_DELAY_S, SWEEP_DELAY_S
from missout.pools.payability import (
    RANDOMNESS_DEADLINE_SLOTS,
    REFUNDABLE_REASONS,
    UnpayableReason,
    unpayable_reason,
)

_COMMITTED = (PoolStatus.RANDOMNESS_COMMITTED, PoolStatus.RANDOMNESS_REVEALED)


def next_action(observed: ObservedPool, now: int, slot: int, settings: LifecycleSettings) -> Decision:
    pool = observed.pool
    if pool.dev_wallet != settings.dev_wallet:
        return Decision(Action.NONE, None, Alert.FOREIGN, why="the pool names another DEV wallet")
    reason = dead_end(observed, slot)
    if reason is not None:
        return _dead_end(observed, now, reason, settings)
    if pool.paused:
        return Decision(
            Action.WAIT,
            now + settings.paused_recheck_s,
            Alert.PAUSED,
            slots_left=_slots_left(observed, slot),
            why="paused: every crank would fail with 6042",
        )
    status = pool.status
    if status is PoolStatus.OPEN:
        return _open(observed, now, settings)
    if status is PoolStatus.LOCKED:
        unlock_at = pool.lock_start_time + pool.lock_duration  # `now >=`
        if now >= unlock_at:
            return Decision(Action.UNLOCK, now, why="the lock has elapsed")
        return Decision(Action.WAIT, unlock_at, why="locked until the lock elapses")
    if status is PoolStatus.UNLOCKED:
        if pool.allow_mock and settings.mock_randomness:
            return Decision(Action.REQUEST_MOCK_RANDOMNESS, now, why="mock allowed by pool and settings")
        return Decision(Action.REQUEST_RANDOMNESS, now, why="unlocked: commit randomness")
    if status in _COMMITTED:
        return _committed(observed, now, slot, settings)
    if status is PoolStatus.WINNER_SELECTED:
        return Decision(Action.PAYOUT, now, why="winner selected")
    if status is PoolStatus.ENDED:
        return _ended(observed, now, settings)
    if status is PoolStatus.CANCELLED:
        return _cancelled(observed, now, settings)
    return _closed(observed, now)


def dead_end(observed: ObservedPool, slot: int) -> UnpayableReason | None:
    """The permanent dead end the pool is in (docs/program.md §4.5, §5.1, §5.2, §9.2), if any."""
    vault = observed.vault_amount if observed.vault_amount is not None else 0
    return unpayable_reason(observed.pool, vault_balance=vault, slot=slot)


def _dead_end(
    observed: ObservedPool, now: int, reason: UnpayableReason, settings: LifecycleSettings
) -> Decision:
    """No transaction towards a payout that must fail: alert and keep watching. Two steps stay allowed
    because they lead *out* of harm's way, never into a dead end: sweeping an Open pool that can never pay
    (it becomes Cancelled, where players refund themselves and the surplus is harmless, §5.2), and the rent
    claim of a pool whose seats were all refunded before a pause wiped its reason."""
    watch = Decision(
        Action.WAIT,
        now + settings.dead_end_recheck_s,
        Alert.DEAD_END,
        dead_end=reason.value,
        why="the program offers no way to pay this pool out",
    )
    pool = observed.pool
    if pool.paused:
        return watch
    escape: Decision | None = None
    if pool.status is PoolStatus.OPEN:
        escape = _open(observed, now, settings)
    elif pool.status is PoolStatus.CANCELLED and observed.participants_count == 0:
        escape = _rent(observed, now, pool.close_time + FORFEIT_DELAY_S + 1)
    if escape is None:
        return watch
    if escape.sends:
        return dataclasses.replace(watch, action=escape.action, check_at=now, why=escape.why)
    soonest = min(now + settings.dead_end_recheck_s, escape.check_at or now)
    return dataclasses.replace(watch, check_at=soonest, why=escape.why)


def _slots_left(observed: ObservedPool, slot: int) -> int | None:
    if observed.pool.status not in _COMMITTED:
        return None
    return observed.pool.randomness_commit_slot + RANDOMNESS_DEADLINE_SLOTS - slot


def _open(observed: ObservedPool, now: int, settings: LifecycleSettings) -> Decision:
    sweep_from = observed.pool.expire_time + SWEEP_DELAY_S + 1  # `now > expire_time + 7 d`
    if now >= sweep_from:
        return Decision(Action.SWEEP_EXPIRED, now, why="never filled, 7 days past expiry")
    # It may fill at any moment (a join nobody reported): look again soon, but never later than the sweep.
    return Decision(Action.WAIT, min(sweep_from, now + settings.open_recheck_s), why="open")


def _committed(observed: ObservedPool, now: int, slot: int, settings: LifecycleSettings) -> Decision:
    pool = observed.pool
    left = _slots_left(observed, slot)
    assert left is not None
    if left < 0:  # reached only for RandomnessRevealed, which the program never stores
        return _dead_end(observed, now, UnpayableReason.RANDOMNESS_DEADLINE_MISSED, settings)
    alert = Alert.DEADLINE_AT_RISK if left < settings.deadline_warning_slots else None
    if pool.randomness_account == ZERO_PUBKEY:
        # A mock request already fixed the value on chain; selecting only reads it. Finishing is safe
        # whatever the setting (the creator may have requested it after the 7-day timeout).
        return Decision(Action.SELECT_MOCK_WINNER, now, alert, slots_left=left, why="mock value committed")
    if slot <= pool.randomness_commit_slot:
        # The oracle reveals for a slot after the commit: asking in the commit slot is "too early".
        return Decision(Action.WAIT, now + 1, alert, slots_left=left, why="reveal possible next slot")
    randomness = observed.randomness
    unrevealed = randomness is not None and randomness.exists and not randomness.revealed
    emergency_open = pool.allow_mock and now > pool.unlock_time + EMERGENCY_DELAY_S
    if unrevealed and emergency_open and settings.mock_randomness:
        return Decision(Action.EMERGENCY_DRAW, now, alert, slots_left=left, why="no reveal after 24 h")
    return Decision(Action.REVEAL_AND_SELECT, now, alert, slots_left=left, why="randomness committed")


def _ended(observed: ObservedPool, now: int, settings: LifecycleSettings) -> Decision:
    pool = observed.pool
    if not observed.outcome_recorded:
        return Decision(Action.RECORD_OUTCOME, now, why="paid out on chain, not yet recorded")
    if (
        settings.close_randomness
        and pool.randomness_account != ZERO_PUBKEY
        and observed.randomness is not None
        and observed.randomness.exists
    ):
        return Decision(Action.CLOSE_RANDOMNESS, now, why="recover the randomness account's rent")
    return _rent(observed, now, max(pool.end_time, pool.close_time) + settings.dev_rent_grace_s + 1)


def _cancelled(observed: ObservedPool, now: int, settings: LifecycleSettings) -> Decision:
    pool = observed.pool
    if pool.status_reason in REFUNDABLE_REASONS:
        finalize_from = pool.close_time + FORFEIT_DELAY_S + 1  # `now > close_time + 30 d`
        if now >= finalize_from:
            return Decision(Action.FINALIZE_FORFEITED, now, why="refunds unclaimed for 30 days")
        # Players refund themselves meanwhile; look now and then to keep the record in line.
        return Decision(
            Action.WAIT, min(finalize_from, now + settings.idle_recheck_s), why="cancelled: refunds open"
        )
    # Reason wiped by a pause, but every seat refunded already: only the rent is left (not a dead end).
    return _rent(observed, now, pool.close_time + FORFEIT_DELAY_S + 1)


def _closed(observed: ObservedPool, now: int) -> Decision:
    """Finalized (docs/program.md §3.17): the vault went to the treasury and the record is final (`closed`
    is the record's terminal status, never leased again). Its rent is the creator's to claim; the DEV
    wallet's own claim 30 days later is deliberately not pursued."""
    return Decision(Action.NONE, None, why="closed: nothing left for the DEV wallet")


def _rent(observed: ObservedPool, now: int, rent_from: int) -> Decision:
    """claim_rent by the DEV wallet (rent to the treasury): needs an empty list, and the creator has had
    `rent_from` to take it back first."""
    if observed.participants_count != 0:
        return Decision(Action.WAIT, now + 3_600, why="participants left: rent not claimable")
    if now >= rent_from:
        return Decision(Action.CLAIM_RENT, now, why="rent left unclaimed by the creator")
    return Decision(Action.WAIT, rent_from, why="rent claimable later")
