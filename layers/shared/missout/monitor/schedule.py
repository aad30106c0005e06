"""Run ticks on a fixed cadence until the invocation's time budget is spent.

Deadlines are absolute (`start + n * period`), so a slow tick shortens the next wait instead of shifting
every later tick. The loop stops before a tick could outlive the invocation: Lambda kills a handler at its
timeout, mid-transaction, and the next scheduled run would then overlap the tail of this one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ScheduleSummary:
    ticks: int = 0
    failed_ticks: int = 0
    skipped_slots: int = 0  # ticks that ran past their period, so later slots were dropped
    stopped_because: str = ""
    elapsed_ms: float = 0.0
    errors: list[str] = field(default_factory=list)


def run_on_cadence(
    tick: Callable[[], None],
    *,
    period_s: float,
    remaining_ms: Callable[[], int],
    safety_margin_ms: int,
    on_error: Callable[[Exception], None] = lambda exc: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ScheduleSummary:
    """Call `tick` every `period_s` seconds while more than `safety_margin_ms` of the budget is left.

    A failing tick is reported to `on_error` and counted; it never ends the loop: the next tick may succeed
    (a database restart, an RPC blip)."""
    summary = ScheduleSummary()
    start = clock()
    slot = 0
    while True:
        if remaining_ms() <= safety_margin_ms:
            summary.stopped_because = "time budget spent"
            break
        try:
            tick()
        except Exception as exc:  # a tick must never crash the invocation
            summary.failed_ticks += 1
            summary.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            on_error(exc)
        summary.ticks += 1
        slot += 1
        now = clock()
        due = start + slot * period_s
        if now > due:  # this tick overran: skip the slots it ate, keep the grid
            missed = math.floor((now - due) / period_s) + 1
            summary.skipped_slots += missed
            slot += missed
            due = start + slot * period_s
        wait_s = due - now
        if remaining_ms() - wait_s * 1000 <= safety_margin_ms:
            summary.stopped_because = "time budget spent"
            break
        sleep(wait_s)
    summary.elapsed_ms = round((clock() - start) * 1000, 1)
    return summary
