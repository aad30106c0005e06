"""How the program splits a pot at payout (docs/program.md §5.1), in integers, exactly as it does.

Each fee is the pot times its basis points, floored; the winner gets the rest, so the four parts always sum to
the pot and rounding never loses a base unit. The program computes each product in u64 and fails with
`Overflow` (6009) when one does not fit: such a pool cannot be paid out, which `SplitOverflow` says here.
"""

from __future__ import annotations

from dataclasses import dataclass

U64_MAX = 2**64 - 1
BPS_DENOMINATOR = 10_000


class SplitOverflow(ValueError):
    """pot x basis points exceeds u64: the program's payout fails with Overflow (6009)."""


@dataclass(frozen=True, slots=True)
class PayoutSplit:
    winner: int
    dev: int
    burn: int
    treasury: int

    @property
    def total(self) -> int:
        return self.winner + self.dev + self.burn + self.treasury


def _check_int(name: str, value: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value <= high:
        raise ValueError(f"{name} must be between 0 and {high}, got {value}")


def payout_split(total: int, *, dev_bps: int, burn_bps: int, treasury_bps: int) -> PayoutSplit:
    """The winner's, dev's, burn and treasury amounts for a pot of `total` base units."""
    _check_int("total", total, U64_MAX)
    for name, bps in (("dev_bps", dev_bps), ("burn_bps", burn_bps), ("treasury_bps", treasury_bps)):
        _check_int(name, bps, BPS_DENOMINATOR)
        if total * bps > U64_MAX:
            raise SplitOverflow(f"{total} x {name} {bps} does not fit in u64")
    if dev_bps + burn_bps + treasury_bps > BPS_DENOMINATOR:
        raise ValueError("fees add up to more than 10,000 basis points")
    dev = total * dev_bps // BPS_DENOMINATOR
    burn = total * burn_bps // BPS_DENOMINATOR
    treasury = total * treasury_bps // BPS_DENOMINATOR
    return PayoutSplit(winner=total - dev - burn - treasury, dev=dev, burn=burn, treasury=treasury)
