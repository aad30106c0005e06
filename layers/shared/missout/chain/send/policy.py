"""Tunables of the durable sender, with the defaults docs/solana.md §3 argues for, and the run's clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from missout.settings import CrankSettings

MAX_COMPUTE_UNITS = 1_400_000  # the per-transaction ceiling of the runtime
PACKET_DATA_SIZE = 1232  # the largest serialized transaction a cluster accepts (docs/solana.md §3.5)

# Milliseconds left in the run: in the monitor, the Lambda context's `get_remaining_time_in_millis`.
RemainingMs = Callable[[], int]


@dataclass(frozen=True, slots=True)
class SendPolicy:
    compute_margin: float = 1.2  # CU limit = simulated units × this (Tuktuk, Drift)
    min_compute_units: int = 10_000  # floor: the compute-budget instructions and sysvar reads vary slightly
    fee_window_slots: int = 20  # recent slots the priority fee median is taken over
    min_priority_fee: int = 1  # micro-lamports per CU: never 0, which some leaders deprioritise
    max_priority_fee: int = 200_000  # hard cap (micro-lamports per CU); bounds cost when fees spike
    fee_escalation: float = 1.5  # each re-signed attempt pays this much more, up to the cap
    resend_interval_s: float = 2.0  # rebroadcast the same bytes this often while unsettled
    poll_interval_s: float = 0.5  # signature status polls between rebroadcasts
    safety_margin_ms: int = 5_000  # stop this long before the caller's deadline (DB writes still fit)
    # An intent a run drives is leased to it until the run's own deadline plus `lease_margin_s`, and never
    # longer than `max_lease_s` (the monitor function's timeout plus the margin): a crashed run's intents
    # are free again by the time the next scheduled run starts.
    lease_margin_s: float = 5.0
    max_lease_s: float = 65.0
    resume_batch: int = 8  # stale intents one `resume` claims at most
    min_slice_ms: int = 3_000  # the least time worth giving one resumed intent (a status read and a resend)

    def __post_init__(self) -> None:
        if self.compute_margin < 1 or self.max_priority_fee < self.min_priority_fee:
            raise ValueError(f"inconsistent send policy: {self}")
        if self.max_lease_s < 0 or self.lease_margin_s < 0 or self.resume_batch < 1 or self.min_slice_ms < 1:
            raise ValueError(f"inconsistent send policy: {self}")

    def lease_s(self, remaining_ms: int) -> float:
        """How long to lease an intent to a run with `remaining_ms` left."""
        return min(self.max_lease_s, max(0, remaining_ms) / 1000 + self.lease_margin_s)


def policy_from_settings(settings: CrankSettings) -> SendPolicy:
    """The policy the monitor runs with: the defaults above, the fee cap and the lease bound of the
    deployment."""
    return SendPolicy(
        max_priority_fee=settings.priority_fee_cap_microlamports,
        lease_margin_s=settings.lease_margin_s,
        max_lease_s=settings.function_timeout_s + settings.lease_margin_s,
    )


def slice_of(remaining_ms: RemainingMs, budget_ms: int, margin_ms: int) -> RemainingMs:
    """A clock for spending at most `budget_ms` of the run: it reads like `remaining_ms` but reaches
    `margin_ms` (where the sender stops) once the budget is spent, or earlier if the run ends first."""
    end = time.monotonic() + budget_ms / 1000

    def remaining() -> int:
        return min(remaining_ms(), int((end - time.monotonic()) * 1000) + margin_ms)

    return remaining
