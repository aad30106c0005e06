"""How `payout_winner` splits a pot (docs/program.md §5.1, §3.13), in integers, exactly as the program does.

This is the one place the backend does the program's fee arithmetic (`_split`): the payout cross-check uses
`payout_split`, and `pools.payability.pot_is_payable` asks `split_refused`, the same arithmetic without
building the parts.

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


def _split(total: int, dev_bps: int, burn_bps: int, treasury_bps: int) -> tuple[int, int, int, int] | str:
    """The program's arithmetic on inputs already checked: (winner, dev, burn, treasury), or which step
    leaves u64. One function for `payout_split` and `split_refused`, so there is one copy of it."""
    # Each fee is the program's checked multiply (a product outside u64 is Overflow, 6009), then floored.
    dev, burn, treasury = total * dev_bps, total * burn_bps, total * treasury_bps
    if dev > U64_MAX or burn > U64_MAX or treasury > U64_MAX:
        # The message is built only on failure (this runs for every pool the monitor looks at).
        name, bps = next(
            (name, bps)
            for name, bps in (("dev_bps", dev_bps), ("burn_bps", burn_bps), ("treasury_bps", treasury_bps))
            if total * bps > U64_MAX
        )
        return f"{total} x {name} {bps} = {total * bps} leaves u64"
    dev, burn, treasury = dev // BPS_DENOMINATOR, burn // BPS_DENOMINATOR, treasury // BPS_DENOMINATOR
    # Each fee is at most (2^64 - 1) / 10 000 by now, so the program's checked add of the three cannot
    # fail; its checked subtraction can, when the fees exceed the pot.
    winner = total - (dev + burn + treasury)
    if winner < 0:
        return f"{total} minus fees of {dev + burn + treasury} = {winner} leaves u64"
    return winner, dev, burn, treasury


def _require_inputs(total: int, dev_bps: int, burn_bps: int, treasury_bps: int) -> None:
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


def payout_split(total: int, *, dev_bps: int, burn_bps: int, treasury_bps: int) -> PayoutSplit:
    """The winner's, dev's, burn and treasury amounts `payout_winner` moves for a pot of `total` base
    units, or `SplitOverflow` where the program fails with 6009."""
    _require_inputs(total, dev_bps, burn_bps, treasury_bps)
    split = _split(total, dev_bps, burn_bps, treasury_bps)
    if isinstance(split, str):
        raise SplitOverflow(split)
    winner, dev, burn, treasury = split
    return PayoutSplit(winner=winner, dev=dev, burn=burn, treasury=treasury)


def split_refused(total: int, *, dev_bps: int, burn_bps: int, treasury_bps: int) -> bool:
    """True exactly where `payout_split` raises `SplitOverflow` (same checks, same errors for bad input),
    without building the split."""
    _require_inputs(total, dev_bps, burn_bps, treasury_bps)
    return isinstance(_split(total, dev_bps, burn_bps, treasury_bps), str)
