"""How `payout_winner` splits a pot (docs/program.md §5.1, §3.13), in integers, exactly as the program does.

This is the one place the backend does the program's fee arithmetic: the payout cross-check uses the split,
and `pools.payability.pot_is_payable` asks whether it refuses.

The program works in u64 with every step checked: each fee is `pot × bps` (a checked multiply) floored by
10 000, then the winner gets `pot − (dev + burn + treasury)` (a checked subtraction), so the rounding
remainder goes to the winner and the four parts sum to the pot. A step that leaves u64 fails the payout
with `Overflow` (6009), which is `SplitOverflow` here. The payout itself does not look at the fee sum: only
`create_pool` refuses more than 10 000 bps in total (§3.1 step 3), and no instruction changes the fees
afterwards, so every pool carries at most 10 000 bps. The split still takes any u16 fee, as the payout would,
so that a reader of odd bytes gets the program's answer rather than a rule the payout does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

U64_MAX = 2**64 - 1
U16_MAX = 2**16 - 1  # the fee fields are u16 (docs/program.md §2.1)
BPS_DENOMINATOR = 10_000


class SplitOverflow(ValueError):
    """A step of the split leaves u64: the program's payout fails with Overflow (6009). Either a fee
    product `pot × bps` exceeds u64, or the fees exceed the pot (only possible above 10 000 bps in all)."""


@dataclass(frozen=True, slots=True)
class PayoutSplit:
    winner: int
    dev: int
    burn: int
    treasury: int

    @property
    def total(self) -> int:
        return self.winner + self.dev + self.burn + self.treasury


def _require_uint(name: str, value: int, high: int) -> None:
    """Inputs the chain cannot hold (not an int, negative, wider than the field) are a caller's bug."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value <= high:
        raise ValueError(f"{name} must be between 0 and {high}, got {value}")


def _overflow(step: str, value: int) -> SplitOverflow:
    return SplitOverflow(f"{step} = {value} leaves u64")


def _fee(total: int, name: str, bps: int) -> int:
    # The program's checked multiply (a product outside u64 is Overflow, 6009). Messages are built only on
    # failure: the monitor asks `pot_is_payable` for every pool it looks at.
    product = total * bps
    if product > U64_MAX:
        raise _overflow(f"{total} x {name} {bps}", product)
    return product // BPS_DENOMINATOR


def payout_split(total: int, *, dev_bps: int, burn_bps: int, treasury_bps: int) -> PayoutSplit:
    """The winner's, dev's, burn and treasury amounts `payout_winner` moves for a pot of `total` base
    units, or `SplitOverflow` where the program fails with 6009."""
    # The common case in one expression (plain ints in range); anything else gets the checks that name the
    # field. The monitor splits every pool it looks at, so this is on its hot path.
    in_range = (
        type(total) is int
        and type(dev_bps) is int
        and type(burn_bps) is int
        and type(treasury_bps) is int
        and 0 <= total <= U64_MAX
        and 0 <= dev_bps <= U16_MAX
        and 0 <= burn_bps <= U16_MAX
        and 0 <= treasury_bps <= U16_MAX
    )
    if not in_range:
        _require_uint("total", total, U64_MAX)
        for name, bps in (("dev_bps", dev_bps), ("burn_bps", burn_bps), ("treasury_bps", treasury_bps)):
            _require_uint(name, bps, U16_MAX)
    dev = _fee(total, "dev_bps", dev_bps)
    burn = _fee(total, "burn_bps", burn_bps)
    treasury = _fee(total, "treasury_bps", treasury_bps)
    # Each fee is at most (2^64 - 1) / 10 000 by now, so the program's checked add of the three cannot
    # fail; its checked subtraction can, when the fees exceed the pot.
    fees = dev + burn + treasury
    winner = total - fees  # the program's checked subtraction
    if winner < 0:
        raise _overflow(f"{total} minus fees of {fees}", winner)
    return PayoutSplit(winner=winner, dev=dev, burn=burn, treasury=treasury)
