"""`next_action` over every status, at and around every time and slot boundary the program enforces
(docs/program.md §5.9): the action it picks is the one the program would accept at that moment, never
earlier, and a dead end is never cranked."""

from __future__ import annotations

import dataclasses

import pytest

from missout.chain.accounts import PoolStatus
from missout.lifecycle import Action, Alert, RandomnessState, next_action
from tests.lifecycle.states import (
    DEV,
    ENTRY,
    SETTINGS,
    SLOT0,
    T0,
    cancelled,
    committed,
    ended,
    key,
    locked,
    observed,
    pool_account,
    unlocked,
    winner_selected,
)

MOCK_ON = dataclasses.replace(SETTINGS, mock_randomness=True)
DAY = 86_400
SWEEP_FROM = T0 + 604_800 + 604_800 + 1  # now > expire_time + 7 d
UNREVEALED = RandomnessState(exists=True, revealed=False)


# -- Open ------------------------------------------------------------------------------------------------


def test_an_open_pool_is_watched_until_the_sweep_and_swept_the_second_the_program_allows_it() -> None:
    pool = observed(pool_account(), count=1)
    early = next_action(pool, T0 + 10, SLOT0, SETTINGS)
    assert (early.action, early.check_at) == (Action.WAIT, T0 + 10 + SETTINGS.open_recheck_s)
    last_wait = next_action(pool, SWEEP_FROM - 1, SLOT0, SETTINGS)
    assert (last_wait.action, last_wait.check_at) == (Action.WAIT, SWEEP_FROM)  # never past the sweep time
    assert next_action(pool, SWEEP_FROM, SLOT0, SETTINGS).action is Action.SWEEP_EXPIRED


def test_a_force_expired_pool_is_swept_from_its_new_expiry() -> None:
    pool = observed(pool_account(expire_time=T0 + 290, duration=0, allow_mock=True), count=2)
    assert next_action(pool, T0 + 290 + 604_800, SLOT0, SETTINGS).action is Action.WAIT
    assert next_action(pool, T0 + 290 + 604_801, SLOT0, SETTINGS).action is Action.SWEEP_EXPIRED


# -- Locked / Unlocked -----------------------------------------------------------------------------------


def test_a_locked_pool_is_unlocked_exactly_when_its_lock_elapses() -> None:
    pool = observed(locked())
    unlock_at = T0 + 100 + 600
    before = next_action(pool, unlock_at - 1, SLOT0, SETTINGS)
    assert (before.action, before.check_at) == (Action.WAIT, unlock_at)
    assert next_action(pool, unlock_at, SLOT0, SETTINGS).action is Action.UNLOCK  # `now >=`


@pytest.mark.parametrize(
    ("allow_mock", "setting", "expected"),
    [
        (False, False, Action.REQUEST_RANDOMNESS),
        (False, True, Action.REQUEST_RANDOMNESS),
        (True, False, Action.REQUEST_RANDOMNESS),  # the default never uses mock randomness
        (True, True, Action.REQUEST_MOCK_RANDOMNESS),
    ],
)
def test_mock_randomness_needs_both_the_pool_and_the_setting(
    allow_mock: bool, setting: bool, expected: Action
) -> None:
    settings = dataclasses.replace(SETTINGS, mock_randomness=setting)
    assert (
        next_action(observed(unlocked(allow_mock=allow_mock)), T0 + 800, SLOT0, settings).action is expected
    )


def test_mock_randomness_is_off_by_default() -> None:
    assert SETTINGS.mock_randomness is False


# -- Randomness committed ----------------------------------------------------------------------------------


def test_reveal_waits_for_the_slot_after_the_commit() -> None:
    pool = observed(committed(), randomness=UNREVEALED)
    same_slot = next_action(pool, T0 + 800, SLOT0, SETTINGS)
    assert same_slot.action is Action.WAIT
    assert same_slot.check_at is not None
    assert same_slot.check_at > T0 + 800
    assert next_action(pool, T0 + 800, SLOT0 + 1, SETTINGS).action is Action.REVEAL_AND_SELECT


def test_the_deadline_warning_starts_below_the_warning_margin_and_the_last_slot_is_still_drawn() -> None:
    pool = observed(committed(), randomness=UNREVEALED)
    margin = SETTINGS.deadline_warning_slots
    calm = next_action(pool, T0 + 800, SLOT0 + 3000 - margin, SETTINGS)
    assert (calm.action, calm.alert, calm.slots_left) == (Action.REVEAL_AND_SELECT, None, margin)
    warned = next_action(pool, T0 + 800, SLOT0 + 3001 - margin, SETTINGS)
    assert (warned.action, warned.alert) == (Action.REVEAL_AND_SELECT, Alert.DEADLINE_AT_RISK)
    last = next_action(pool, T0 + 800, SLOT0 + 3000, SETTINGS)  # `slot <= commit + 3000`
    assert (last.action, last.slots_left) == (Action.REVEAL_AND_SELECT, 0)


def test_a_missed_deadline_is_a_dead_end_that_is_never_cranked() -> None:
    for pool in (committed(), committed(mock=True), committed(allow_mock=True)):
        decision = next_action(observed(pool, randomness=UNREVEALED), T0 + 40 * DAY, SLOT0 + 3001, MOCK_ON)
        assert (decision.action, decision.alert, decision.dead_end) == (
            Action.WAIT,
            Alert.DEAD_END,
            "randomness_deadline_missed",
        )
        assert not decision.sends


def test_a_mock_commit_is_finished_even_with_the_setting_off() -> None:
    decision = next_action(observed(committed(mock=True)), T0 + 800, SLOT0 + 1, SETTINGS)
    assert decision.action is Action.SELECT_MOCK_WINNER


@pytest.mark.parametrize(
    ("allow_mock", "setting", "randomness", "seconds_after_unlock", "expected"),
    [
        (True, True, UNREVEALED, DAY + 1, Action.EMERGENCY_DRAW),
        (True, True, UNREVEALED, DAY, Action.REVEAL_AND_SELECT),  # `now > unlock_time + 86 400`
        (True, False, UNREVEALED, DAY + 1, Action.REVEAL_AND_SELECT),  # the setting gates it
        (False, True, UNREVEALED, DAY + 1, Action.REVEAL_AND_SELECT),  # real pools never take it
        (True, True, RandomnessState(exists=True, revealed=True), DAY + 1, Action.REVEAL_AND_SELECT),
    ],
)
def test_the_emergency_draw_only_where_the_program_and_the_settings_allow_it(
    allow_mock: bool,
    setting: bool,
    randomness: RandomnessState,
    seconds_after_unlock: int,
    expected: Action,
) -> None:
    pool = committed(allow_mock=allow_mock)
    settings = dataclasses.replace(SETTINGS, mock_randomness=setting)
    now = pool.unlock_time + seconds_after_unlock
    assert next_action(observed(pool, randomness=randomness), now, SLOT0 + 10, settings).action is expected


# -- Winner selected / payout dead ends --------------------------------------------------------------------


def test_a_selected_winner_is_paid() -> None:
    assert next_action(observed(winner_selected()), T0 + 900, SLOT0 + 5, SETTINGS).action is Action.PAYOUT


@pytest.mark.parametrize("make", [locked, unlocked, committed, winner_selected])
def test_a_vault_holding_more_than_the_pot_stops_the_pool_before_any_transaction(make: object) -> None:
    assert callable(make)
    pool = make()
    decision = next_action(observed(pool, vault=pool.total_amount + 1), T0 + 10 * DAY, SLOT0 + 5, SETTINGS)
    assert (decision.action, decision.dead_end) == (Action.WAIT, "vault_mismatch")
    assert decision.alert is Alert.DEAD_END


def test_a_pot_whose_fee_product_overflows_u64_is_a_dead_end() -> None:
    bound = (2**64 - 1) // 500  # the largest pot a 500 bps fee can be computed on (docs/program.md §5.1)
    fits = winner_selected(total_amount=bound)
    assert next_action(observed(fits), T0 + 900, SLOT0 + 5, SETTINGS).action is Action.PAYOUT
    overflows = winner_selected(total_amount=bound + 1)
    assert next_action(observed(overflows), T0 + 900, SLOT0 + 5, SETTINGS).dead_end == "pot_overflow"


def test_an_external_transfer_into_an_open_or_cancelled_vault_does_not_stop_the_pool() -> None:
    open_pool = observed(pool_account(), count=1, vault=ENTRY + 1)
    sweep = next_action(open_pool, SWEEP_FROM, SLOT0, SETTINGS)
    # It can never pay (recorded and alerted), but sweeping it lets every player refund.
    assert (sweep.action, sweep.dead_end) == (Action.SWEEP_EXPIRED, "vault_mismatch")
    assert next_action(open_pool, T0 + 10, SLOT0, SETTINGS).action is Action.WAIT
    gone = observed(cancelled(), count=1, vault=ENTRY + 1)
    assert next_action(gone, T0 + 50 + 30 * DAY + 1, SLOT0, SETTINGS).action is Action.FINALIZE_FORFEITED


# -- Ended --------------------------------------------------------------------------------------------------


def test_an_ended_pool_is_recorded_then_its_randomness_closed_then_its_rent_claimed_after_the_grace() -> None:
    pool = ended()
    now = T0 + 1_000
    assert next_action(observed(pool, count=0), now, SLOT0, SETTINGS).action is Action.RECORD_OUTCOME
    live_randomness = observed(pool, count=0, recorded=True, randomness=RandomnessState(exists=True))
    assert next_action(live_randomness, now, SLOT0, SETTINGS).action is Action.CLOSE_RANDOMNESS
    done = observed(pool, count=0, recorded=True, randomness=RandomnessState(exists=False))
    rent_from = pool.end_time + SETTINGS.dev_rent_grace_s + 1
    wait = next_action(done, now, SLOT0, SETTINGS)
    assert (wait.action, wait.check_at) == (Action.WAIT, rent_from)
    assert next_action(done, rent_from, SLOT0, SETTINGS).action is Action.CLAIM_RENT


def test_closing_the_randomness_account_can_be_turned_off() -> None:
    live = observed(ended(), count=0, recorded=True, randomness=RandomnessState(exists=True))
    off = dataclasses.replace(SETTINGS, close_randomness=False)
    assert next_action(live, T0 + 1_000, SLOT0, off).action is Action.WAIT


def test_a_mock_pool_has_no_randomness_account_to_close() -> None:
    done = observed(ended(randomness_account=key(0)), count=0, recorded=True)
    assert next_action(done, T0 + 1_000, SLOT0, SETTINGS).action is Action.WAIT


# -- Cancelled / Closed -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [1, 5, 6])
def test_a_cancelled_pool_is_finalized_the_second_its_30_days_are_over(reason: int) -> None:
    pool = observed(cancelled(reason), count=2)
    finalize_from = T0 + 50 + 30 * DAY + 1  # `now > close_time + 2 592 000`
    waiting = next_action(pool, finalize_from - 1, SLOT0, SETTINGS)
    assert (waiting.action, waiting.check_at) == (Action.WAIT, finalize_from)
    assert next_action(pool, finalize_from, SLOT0, SETTINGS).action is Action.FINALIZE_FORFEITED


def test_a_cancelled_pool_whose_reason_a_pause_wiped_is_a_dead_end_while_seats_remain() -> None:
    for reason in (0, 2):
        decision = next_action(observed(cancelled(reason), count=1), T0 + 60 * DAY, SLOT0, SETTINGS)
        assert (decision.alert, decision.dead_end) == (Alert.DEAD_END, "paused_cancelled")
        assert not decision.sends
    emptied = observed(cancelled(0), count=0)
    assert next_action(emptied, T0 + 50 + 30 * DAY + 1, SLOT0, SETTINGS).action is Action.CLAIM_RENT


def test_a_closed_pool_is_final() -> None:
    pool = observed(cancelled(0, status=PoolStatus.CLOSED, close_time=T0 + 5 * DAY, total_amount=0), count=0)
    for now in (T0 + 6 * DAY, T0 + 400 * DAY):
        decision = next_action(pool, now, SLOT0, SETTINGS)
        assert (decision.action, decision.check_at, decision.sends) == (Action.NONE, None, False)


# -- paused, foreign, dead-end safety -----------------------------------------------------------------


@pytest.mark.parametrize("make", [pool_account, locked, unlocked, committed, winner_selected, cancelled])
def test_a_paused_pool_is_skipped_with_an_alert(make: object) -> None:
    assert callable(make)
    pool = make(paused=True)
    decision = next_action(observed(pool, randomness=UNREVEALED), T0 + 60 * DAY, SLOT0 + 5, MOCK_ON)
    assert decision.action is Action.WAIT
    assert decision.alert in (Alert.PAUSED, Alert.DEAD_END)
    assert not decision.sends


def test_a_pool_of_another_dev_wallet_is_left_alone() -> None:
    decision = next_action(observed(locked(dev_wallet=key(99))), T0 + DAY, SLOT0, SETTINGS)
    assert (decision.action, decision.alert, decision.check_at) == (Action.NONE, Alert.FOREIGN, None)
    assert key(99) != DEV


def test_no_action_can_lead_into_a_dead_end() -> None:
    """The DEV wallet's dangerous instructions (docs/program.md §9.2) are not among the actions at all: a
    pause of a Cancelled pool wipes its refund reason; force_expire and set_lock_duration break the config
    hash; admin_close is a product decision, not a crank."""
    names = {action.value for action in Action}
    for dangerous in ("pause", "unpause", "force_expire", "set_lock_duration", "admin_close"):
        assert not any(dangerous in name for name in names), dangerous


@pytest.mark.parametrize("reason", [0, 1, 2, 5, 6])
@pytest.mark.parametrize("paused", [False, True])
@pytest.mark.parametrize("days", [0, 1, 29, 30, 31, 400])
def test_a_cancelled_pool_only_ever_waits_finalizes_or_gives_up_its_rent(
    reason: int, paused: bool, days: int
) -> None:
    for count in (0, 1, 3):
        pool = observed(cancelled(reason, paused=paused), count=count)
        decision = next_action(pool, T0 + 50 + days * DAY + 1, SLOT0, MOCK_ON)
        assert decision.action in (Action.WAIT, Action.FINALIZE_FORFEITED, Action.CLAIM_RENT)
