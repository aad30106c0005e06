"""Tunables of the durable sender, with the defaults docs/solana.md §3 argues for."""

from __future__ import annotations

from dataclasses import dataclass

from missout.settings import CrankSettings

MAX_COMPUTE_UNITS = 1_400_000  # the per-transaction ceiling of the runtime


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
    lease_s: float = 120.0  # how long a run owns an intent it drives (longer than one send loop)

    def __post_init__(self) -> None:
        if self.compute_margin < 1 or self.max_priority_fee < self.min_priority_fee:
            raise ValueError(f"inconsistent send policy: {self}")


def policy_from_settings(settings: CrankSettings) -> SendPolicy:
    """The policy the monitor runs with: the defaults above, and the fee cap the deployment configured."""
    return SendPolicy(max_priority_fee=settings.priority_fee_cap_microlamports)
