"""The program's clock rules the monitor plans with (docs/program.md §5.9, §8). Seconds and slots, as the
program counts them: `now` is the Clock sysvar's `unix_timestamp`, never the monitor's wall clock."""

from __future__ import annotations

POOL_OPEN_DURATION_S = 604_800  # joins close at start_time + duration
SWEEP_DELAY_S = 604_800  # sweep_expired_pool: now > expire_time + this
EMERGENCY_DELAY_S = 86_400  # emergency reveal (allow_mock pools): now > unlock_time + this
PAYOUT_TIMEOUT_S = 604_800  # after unlock_time + this anyone may select and pay
FORFEIT_DELAY_S = 2_592_000  # finalize_forfeited_pool / dev claim_rent: now > close_time + this
NOMINAL_SLOT_S = 0.4  # to turn a slot distance into a time to look again
# The randomness deadline and the refundable reasons live with the dead-end rules: missout.pools.payability.
