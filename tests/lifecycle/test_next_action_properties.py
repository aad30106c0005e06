"""Properties of `next_action` over reachable pool states: every state gets an action or an alert, a wait
always names a future moment, waiting never goes on forever, and dead ends are never cranked."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from missout.chain.accounts import PoolAccount, PoolStatus
from missout.chain.addresses import ZERO_PUBKEY
from missout.lifecycle import (
    Action,
    Alert,
    Decision,
    LifecycleSettings,
    ObservedPool,
    RandomnessState,
    dead_end,
    next_action,
)
from missout.lifecycle.rules import NOMINAL_SLOT_S
from tests.lifecycle.states import (
    DEV,
    ENTRY,
    SETTINGS,
    SLOT0,
    SWITCHBOARD_ACCOUNT,
    T0,
    key,
    observed,
    pool_account,
)

DAY = 86_400


def covered(decision: Decision, now: int, status: PoolStatus | None = None) -> bool:
    """An action, or an alert for a person, or a wait that names a later moment to look again; only a
    Closed pool (the record's terminal status) may have nothing left at all."""
    if status is PoolStatus.CLOSED and decision.action is Action.NONE:
        return True
    if decision.sends or decision.action is Action.RECORD_OUTCOME or decision.alert is not None:
        return True
    return decision.action is Action.WAIT and decision.check_at is not None and decision.check_at > now


@st.composite
def reachable(draw: st.DrawFn) -> tuple[ObservedPool, int, int]:
    """A pool state the program can produce, with a chain time and slot at or after it."""
    status = draw(st.sampled_from(list(PoolStatus)).filter(lambda s: s is not PoolStatus.RANDOMNESS_REVEALED))
    max_participants = draw(st.integers(2, 20))
    amount = draw(st.sampled_from([ENTRY, 10**9, 10**15]))
    lock_duration = draw(st.integers(60, 43_200))
    allow_mock = draw(st.booleans())
    start = T0
    fields: dict[str, Any] = {
        "status": status,
        "max_participants": max_participants,
        "amount": amount,
        "lock_duration": lock_duration,
        "allow_mock": allow_mock,
        "dev_fee_bps": draw(st.integers(0, 5_000)),
        "treasury_fee_bps": draw(st.integers(0, 2_000)),
        "burn_fee_bps": draw(st.integers(0, 2_000)),
    }
    if draw(st.integers(0, 9)) == 0:
        fields["dev_wallet"] = key(200)  # someone else's pool
    full = amount * max_participants + draw(st.sampled_from([0, 0, 20 * 10**6]))  # maybe a donation
    count = max_participants
    clock_from = start
    slot = SLOT0
    if status is PoolStatus.OPEN:
        count = draw(st.integers(1, max_participants - 1))
        fields |= {"total_amount": amount * count}
        if allow_mock and draw(st.booleans()):  # force_expire'd
            fields |= {"expire_time": start + draw(st.integers(290, 10_000)), "duration": 0}
    else:
        lock_start = start + draw(st.integers(1, 604_800))
        fields |= {"lock_start_time": lock_start, "total_amount": full, "status_reason": 4}
        clock_from = lock_start
    if status.value >= PoolStatus.UNLOCKED.value and status not in (PoolStatus.CANCELLED, PoolStatus.CLOSED):
        unlock = fields["lock_start_time"] + lock_duration + draw(st.integers(0, 3 * DAY))
        fields |= {"unlock_time": unlock, "status_reason": 0}
        clock_from = unlock
    if status.value >= PoolStatus.RANDOMNESS_COMMITTED.value and status not in (
        PoolStatus.CANCELLED,
        PoolStatus.CLOSED,
    ):
        mock_commit = allow_mock and draw(st.booleans())
        fields |= {
            "randomness_commit_slot": SLOT0,
            "randomness_account": ZERO_PUBKEY if mock_commit else SWITCHBOARD_ACCOUNT,
            "randomness": 5 if mock_commit else 0,
        }
        clock_from += draw(st.integers(0, 2 * DAY))
        slot = SLOT0 + draw(st.integers(0, 4_000))
    if status in (PoolStatus.WINNER_SELECTED, PoolStatus.ENDED):
        fields |= {"winner": key(77)}
    if status is PoolStatus.ENDED:
        fields |= {"end_time": clock_from, "total_amount": 0}
        count = 0
    if status is PoolStatus.CANCELLED:
        fields |= {
            "status_reason": draw(st.sampled_from([1, 5, 6, 0, 2])),
            "close_time": start + draw(st.integers(1, 30 * DAY)),
            "lock_start_time": 0,
        }
        count = draw(st.integers(0, max_participants))
        clock_from = fields["close_time"]
    if status is PoolStatus.CLOSED:
        fields |= {"status_reason": 0, "close_time": start + draw(st.integers(31 * DAY, 60 * DAY))}
        fields |= {"total_amount": 0, "lock_start_time": 0}
        count = 0
        clock_from = fields["close_time"]
    # pause_pool refuses Ended and Closed pools (docs/program.md §3.14).
    if status not in (PoolStatus.ENDED, PoolStatus.CLOSED) and draw(st.integers(0, 5)) == 0:
        fields |= {"paused": True, "status_reason": 2}
    pool: PoolAccount = pool_account(**fields)
    vault = pool.total_amount + (draw(st.sampled_from([0, 0, 0, 1, 10**6])))
    randomness = None
    if pool.randomness_account != ZERO_PUBKEY:
        exists = draw(st.booleans()) if status is PoolStatus.ENDED else True
        randomness = RandomnessState(exists=exists, revealed=draw(st.booleans()))
    now = clock_from + draw(st.integers(0, 90 * DAY))
    view = observed(pool, count=count, vault=vault, randomness=randomness, recorded=draw(st.booleans()))
    return view, now, slot


lifecycle_settings = st.builds(
    LifecycleSettings,
    dev_wallet=st.just(DEV),
    mock_randomness=st.booleans(),
    deadline_warning_slots=st.integers(1, 2_999),
)


@settings(max_examples=1000, deadline=None)
@given(state=reachable(), config=lifecycle_settings)
def test_every_reachable_state_gets_an_action_or_an_alert(
    state: tuple[ObservedPool, int, int], config: LifecycleSettings
) -> None:
    view, now, slot = state
    decision = next_action(view, now, slot, config)
    assert covered(decision, now, view.pool.status), decision
    if decision.check_at is not None:
        assert decision.check_at >= now
    if dead_end(view, slot) is not None:
        # Only the steps that lead out of harm's way: sweep an Open pool, take an emptied pool's rent.
        assert decision.action in (Action.WAIT, Action.NONE, Action.SWEEP_EXPIRED, Action.CLAIM_RENT)
        assert decision.alert in (Alert.DEAD_END, Alert.FOREIGN)
    if view.pool.paused:
        assert not decision.sends
    if decision.action in (Action.REQUEST_MOCK_RANDOMNESS, Action.EMERGENCY_DRAW):
        assert view.pool.allow_mock
        assert config.mock_randomness


@settings(max_examples=500, deadline=None)
@given(state=reachable(), mock=st.booleans())
def test_waiting_always_ends_in_an_action_or_an_alert(
    state: tuple[ObservedPool, int, int], mock: bool
) -> None:
    """Follow the waits (the chain's clock and slot moving on, nothing else changing): within a few looks
    the pool gets an action or an alert. The recheck intervals are long here only to keep the walk short;
    the claim is about the timers, which the intervals never push back."""
    config = LifecycleSettings(
        dev_wallet=DEV, mock_randomness=mock, open_recheck_s=20 * DAY, idle_recheck_s=20 * DAY
    )
    view, now, slot = state
    for _ in range(8):
        decision = next_action(view, now, slot, config)
        if decision.action is not Action.WAIT or decision.alert is not None:
            assert covered(decision, now, view.pool.status)
            return
        assert decision.check_at is not None
        assert decision.check_at > now
        slot += max(1, round((decision.check_at - now) / NOMINAL_SLOT_S))
        now = decision.check_at
    raise AssertionError(f"still waiting after 8 looks: {decision}")


def test_exhaustive_grid_over_statuses_times_and_slots() -> None:
    """Every status x paused x mock x vault x a grid of times and slots that straddles each boundary."""
    times = [0, 1, 599, 600, 601, DAY, DAY + 1, 14 * DAY, 14 * DAY + 1, 31 * DAY, 61 * DAY]
    slots = [0, 1, 1_499, 1_500, 2_999, 3_000, 3_001, 10_000]
    checked = 0
    for status, paused, allow_mock, surplus, mock_setting in itertools.product(
        list(PoolStatus), [False, True], [False, True], [0, 1], [False, True]
    ):
        pool = pool_account(
            status=status,
            paused=paused,
            allow_mock=allow_mock,
            lock_start_time=T0 + 1,
            unlock_time=T0 + 700,
            close_time=T0 + 5,
            end_time=T0 + 800,
            randomness_commit_slot=SLOT0,
            randomness_account=SWITCHBOARD_ACCOUNT,
            status_reason=5 if status is PoolStatus.CANCELLED else 0,
        )
        config = dataclasses.replace(SETTINGS, mock_randomness=mock_setting)
        for offset, slot_offset, count in itertools.product(times, slots, [0, 1, 3]):
            view = observed(
                pool,
                count=count,
                vault=pool.total_amount + surplus,
                randomness=RandomnessState(exists=True, revealed=slot_offset % 2 == 0),
            )
            decision = next_action(view, T0 + offset, SLOT0 + slot_offset, config)
            assert covered(decision, T0 + offset, status), (status, offset, slot_offset, decision)
            if paused:
                assert not decision.sends
            checked += 1
    assert checked == 9 * 2 * 2 * 2 * 2 * len(times) * len(slots) * 3
