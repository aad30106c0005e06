"""Permanent dead ends: states from which the program offers no way to finish the pool (docs/program.md
§4.5, §5.1, §5.2, §9.2). The monitor never spends a transaction on such a pool; it alerts and watches."""

from __future__ import annotations

from missout.chain.accounts import PoolStatus
from missout.lifecycle.observed import ObservedPool
from missout.lifecycle.rules import FORFEITABLE_REASONS, RANDOMNESS_DEADLINE_SLOTS

U64_MAX = 2**64 - 1
VAULT_MISMATCH = "vault_mismatch"
POT_OVERFLOW = "pot_overflow"
RANDOMNESS_DEADLINE_MISSED = "randomness_deadline_missed"
PAUSED_CANCELLED = "paused_cancelled"

# Statuses that can only end by a payout: a payout that must fail makes them dead ends.
_HEADED_FOR_PAYOUT = frozenset(
    {
        PoolStatus.LOCKED,
        PoolStatus.UNLOCKED,
        PoolStatus.RANDOMNESS_COMMITTED,
        PoolStatus.RANDOMNESS_REVEALED,
        PoolStatus.WINNER_SELECTED,
    }
)


def dead_end_reason(observed: ObservedPool, slot: int) -> str | None:
    pool = observed.pool
    if pool.status in _HEADED_FOR_PAYOUT:
        # Payout demands vault == total_amount exactly; no instruction removes a surplus (§5.2).
        if observed.vault_amount is not None and observed.vault_amount != pool.total_amount:
            return VAULT_MISMATCH
        largest_bps = max(pool.dev_fee_bps, pool.burn_fee_bps, pool.treasury_fee_bps)
        if pool.total_amount * largest_bps > U64_MAX:  # checked_mul fails with 6009 (§5.1)
            return POT_OVERFLOW
    committed = pool.status in (PoolStatus.RANDOMNESS_COMMITTED, PoolStatus.RANDOMNESS_REVEALED)
    if committed and slot > pool.randomness_commit_slot + RANDOMNESS_DEADLINE_SLOTS:
        return RANDOMNESS_DEADLINE_MISSED  # select fails with 6047 before any other branch (§4.5)
    if (
        pool.status is PoolStatus.CANCELLED
        and pool.status_reason not in FORFEITABLE_REASONS
        and observed.participants_count > 0
    ):
        # A pause wiped the cancel reason: refunds and finalize refuse, and claim_rent needs count 0 (§9.2).
        return PAUSED_CANCELLED
    return None
