"""Compute-unit limit and priority fee from a simulation and recent fees (docs/solana.md §3.4).
Pure functions."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

from missout.chain.send.policy import MAX_COMPUTE_UNITS, SendPolicy


def compute_unit_limit(units_consumed: int, policy: SendPolicy) -> int:
    """Simulated units plus the margin, within [policy floor, runtime ceiling]."""
    wanted = math.ceil(units_consumed * policy.compute_margin)
    return max(policy.min_compute_units, min(MAX_COMPUTE_UNITS, wanted))


def priority_fee(recent: Iterable[tuple[int, int]], policy: SendPolicy, attempt: int = 1) -> int:
    """Micro-lamports per CU: the median over the newest `fee_window_slots` slots of each slot's highest
    fee (the RPC may list a slot more than once), escalated per re-signed attempt, clamped to the policy.

    `recent` is (slot, fee) pairs as `getRecentPrioritizationFees` returns them."""
    per_slot: dict[int, int] = {}
    for slot, fee in recent:
        per_slot[slot] = max(fee, per_slot.get(slot, 0))
    newest = sorted(per_slot)[-policy.fee_window_slots :]
    median = statistics.median_low([per_slot[slot] for slot in newest]) if newest else 0
    escalated = math.ceil(median * policy.fee_escalation ** (attempt - 1))
    return max(policy.min_priority_fee, min(policy.max_priority_fee, escalated))
