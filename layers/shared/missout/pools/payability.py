"""Can this pool still pay out? A pure reading of the decoded on-chain `Pool` (plus its vault balance and
the slot it was read at) that names the permanent dead end it is in, if any.

The program offers no rescue from any of these: once a pool is in one, the tokens in its vault can never
reach a winner (or, for `paused_cancelled`, the refunds can never be claimed). The backend reads this on
every chain read of a pool (registration, each report, each monitor tick), records the reason in
`pools.unpayable_reason`, shows it, raises an alarm, and stops spending transactions on a payout that must
fail.

Reasons (the closed set; the first that applies is returned, in this order):

* `vault_mismatch` (docs/program.md §5.2, §9.2): the vault's token balance differs from `total_amount`
  while the payout is still ahead (status Open, Locked, Unlocked, RandomnessCommitted or
  WinnerSelected). `payout_winner` requires `vault.amount == total_amount` exactly (6036) and nothing moves
  the surplus, so one base unit sent straight into the vault blocks the payout forever. Not applied to
  Cancelled pools: refunds pay fixed amounts and the excess is burned or forfeited (§5.2), and refunds
  lower the vault without lowering `total_amount` (§3.8).
* `pot_overflow` (docs/program.md §5.1, §3.13): the full pot — `total_amount` plus the entries of the
  seats still empty — cannot be paid: a join's checked add leaves u64 (6009), or the program's split
  (`pools.split.payout_split`) refuses it (6009). The same test (`pot_is_payable`) is what
  `check_pool_config` applies to a new pool's configuration.
* `randomness_deadline_missed` (docs/program.md §4.5, §3.12, §9.2): the pool is RandomnessCommitted and
  the slot is past `randomness_commit_slot + 3000`. `select_winner` checks that deadline before anything
  else, so even the mock pools' emergency reveal (which runs inside `select_winner`) is no way out; no
  other instruction accepts that status.
* `paused_cancelled` (docs/program.md §9.2, §5.8): the pool is Cancelled but its `status_reason` is no
  longer one of expired/cancelled/admin-closed (1, 5, 6) because the dev paused it after the cancel
  (reason 2) and perhaps unpaused it (reason 0). `claim_refund` and `finalize_forfeited_pool` require one
  of those reasons, so no refund can ever be claimed nor the vault forfeited. (`claim_rent` stays possible
  only if every refund had already been claimed before the pause.)
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from missout.chain.pool_constants import PoolStatus, StatusReason
from missout.pools.split import U64_MAX, split_refused

if TYPE_CHECKING:
    from missout.chain.accounts import PoolAccount

RANDOMNESS_DEADLINE_SLOTS = 3_000  # docs/program.md §4.5

# Statuses in which the payout is still ahead: the pot must stay payable.
PAYOUT_AHEAD = frozenset(
    {
        PoolStatus.OPEN,
        PoolStatus.LOCKED,
        PoolStatus.UNLOCKED,
        PoolStatus.RANDOMNESS_COMMITTED,
        PoolStatus.RANDOMNESS_REVEALED,
        PoolStatus.WINNER_SELECTED,
    }
)
# The `status_reason` values `claim_refund` and `finalize_forfeited_pool` accept (docs/program.md §3.8).
REFUNDABLE_REASONS = frozenset({StatusReason.EXPIRED, StatusReason.CANCELLED, StatusReason.ADMIN_CLOSED})


class UnpayableReason(StrEnum):
    """Why a pool can never pay out; the value is what the record and the API show."""

    VAULT_MISMATCH = "vault_mismatch"
    POT_OVERFLOW = "pot_overflow"
    RANDOMNESS_DEADLINE_MISSED = "randomness_deadline_missed"
    PAUSED_CANCELLED = "paused_cancelled"


def pot_is_payable(pot: int, *, dev_fee_bps: int, burn_fee_bps: int, treasury_fee_bps: int) -> bool:
    """True when `payout_winner` would split `pot` with these fees: the pot fits in u64 (the joins and
    donations that build it are checked adds, docs/program.md §3.2, §3.3) and the program's split
    (`payout_split`, §5.1) does not fail with Overflow (6009): `split_refused` asks it without building it."""
    if not 0 <= pot <= U64_MAX:
        return False
    return not split_refused(pot, dev_bps=dev_fee_bps, burn_bps=burn_fee_bps, treasury_bps=treasury_fee_bps)


def full_pot(pool: PoolAccount) -> int:
    """What the vault will owe once every seat is taken: `total_amount` (entries and donations so far)
    plus one entry per empty seat. Before a cancel nothing leaves the list, so `total_joins` is the count
    of seats taken (docs/program.md §3.2)."""
    empty_seats = max(0, pool.max_participants - pool.total_joins)
    return pool.total_amount + empty_seats * pool.amount


def unpayable_reason(pool: PoolAccount, *, vault_balance: int, slot: int) -> UnpayableReason | None:
    """The dead end `pool` is in, or None while it can still pay out (or has nothing left to pay).

    `vault_balance` is the vault's token amount read together with the pool (0 if the account does not
    exist); `slot` is the slot at which both were read (the RPC answer's context slot)."""
    if pool.status in PAYOUT_AHEAD:
        if vault_balance != pool.total_amount:
            return UnpayableReason.VAULT_MISMATCH
        payable = pot_is_payable(
            full_pot(pool),
            dev_fee_bps=pool.dev_fee_bps,
            burn_fee_bps=pool.burn_fee_bps,
            treasury_fee_bps=pool.treasury_fee_bps,
        )
        if not payable:
            return UnpayableReason.POT_OVERFLOW
    if (
        pool.status is PoolStatus.RANDOMNESS_COMMITTED
        and pool.randomness_commit_slot != 0  # the program skips the deadline then (docs/program.md §3.12)
        and slot > pool.randomness_commit_slot + RANDOMNESS_DEADLINE_SLOTS
    ):
        return UnpayableReason.RANDOMNESS_DEADLINE_MISSED
    if pool.status is PoolStatus.CANCELLED and pool.status_reason not in REFUNDABLE_REASONS:
        return UnpayableReason.PAUSED_CANCELLED
    return None
