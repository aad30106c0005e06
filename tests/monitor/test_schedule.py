"""The monitor's cadence: absolute deadlines, a failing tick never ends the run, the budget is respected."""

from __future__ import annotations

from missout.monitor.schedule import run_on_cadence


class FakeTime:
    """A clock that only moves when the code sleeps or a tick 'takes' time, and a Lambda time budget."""

    def __init__(self, budget_ms: int) -> None:
        self.now = 0.0
        self.budget_ms = budget_ms

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds

    def remaining_ms(self) -> int:
        return int(self.budget_ms - self.now * 1000)


def test_ticks_every_period_until_the_safety_margin() -> None:
    t = FakeTime(budget_ms=60_000)
    starts: list[float] = []
    summary = run_on_cadence(
        lambda: starts.append(t.now),
        period_s=5,
        remaining_ms=t.remaining_ms,
        safety_margin_ms=10_000,
        sleep=t.sleep,
        clock=t.clock,
    )
    assert starts == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45]
    assert summary.ticks == 10
    assert summary.failed_ticks == 0
    assert summary.stopped_because == "time budget spent"
    assert t.remaining_ms() > 10_000  # never started work inside the margin


def test_slow_tick_keeps_the_grid_and_counts_skipped_slots() -> None:
    t = FakeTime(budget_ms=40_000)
    starts: list[float] = []

    def tick() -> None:
        starts.append(t.now)
        if len(starts) == 2:
            t.now += 7.0  # overruns its 5 s period

    summary = run_on_cadence(
        tick, period_s=5, remaining_ms=t.remaining_ms, safety_margin_ms=5_000, sleep=t.sleep, clock=t.clock
    )
    assert starts == [0, 5, 15, 20, 25, 30]
    assert summary.skipped_slots == 1


def test_failing_tick_is_counted_and_the_loop_goes_on() -> None:
    t = FakeTime(budget_ms=21_000)
    calls = 0
    errors: list[Exception] = []

    def tick() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database restarting")

    summary = run_on_cadence(
        tick,
        period_s=5,
        remaining_ms=t.remaining_ms,
        safety_margin_ms=1_000,
        on_error=errors.append,
        sleep=t.sleep,
        clock=t.clock,
    )
    assert summary.ticks == 4
    assert summary.failed_ticks == 1
    assert summary.errors == ["ConnectionError: database restarting"]
    assert isinstance(errors[0], ConnectionError)


def test_no_tick_when_the_budget_is_already_spent() -> None:
    t = FakeTime(budget_ms=5_000)
    summary = run_on_cadence(
        lambda: None,
        period_s=5,
        remaining_ms=t.remaining_ms,
        safety_margin_ms=10_000,
        sleep=t.sleep,
        clock=t.clock,
    )
    assert summary.ticks == 0
