"""Money properties (hypothesis) of the payout split (`pools.split.payout_split`, docs/program.md §5.1): it
conserves the pot to the base unit, rounds every fee down like the program, refuses exactly where the
program's checked u64 arithmetic fails (6009), agrees with the local chain's model of the program on every
u64 pot and every u16 fee, and `pot_is_payable` is nothing but "the split does not refuse".

Fees come in two ranges: what `create_pool` accepts (at most 10 000 bps in all, §3.1 step 3), which is what
every pool carries, and any u16 per fee, which only a payout of odd bytes would see: the payout itself does
not check the sum (§5.1), so the split must not either."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from localnet.programs.pool_state import payout_split as modelled_split
from missout.pools.payability import pot_is_payable
from missout.pools.split import U16_MAX, U64_MAX, PayoutSplit, SplitOverflow, payout_split, split_refused

# Every u64, but spread over the orders of magnitude (a plain draw from [0, 2^64) is almost always ~2^63),
# so pots land on both sides of each fee's overflow threshold and of "the fees exceed the pot".
pots = st.one_of(
    st.integers(min_value=0, max_value=U64_MAX),
    st.integers(min_value=0, max_value=64).flatmap(lambda bits: st.integers(0, min(2**bits, U64_MAX))),
)
any_bps = st.integers(min_value=0, max_value=U16_MAX)
any_fees = st.tuples(any_bps, any_bps, any_bps)


@st.composite
def create_fees(draw: st.DrawFn) -> tuple[int, int, int]:
    """Fee triples `create_pool` accepts: at most 10 000 bps in all."""
    dev = draw(st.integers(min_value=0, max_value=10_000))
    burn = draw(st.integers(min_value=0, max_value=10_000 - dev))
    treasury = draw(st.integers(min_value=0, max_value=10_000 - dev - burn))
    return dev, burn, treasury


def _split(total: int, fees: tuple[int, int, int]) -> PayoutSplit:
    return payout_split(total, dev_bps=fees[0], burn_bps=fees[1], treasury_bps=fees[2])


def _payable(total: int, fees: tuple[int, int, int]) -> bool:
    return pot_is_payable(total, dev_fee_bps=fees[0], burn_fee_bps=fees[1], treasury_fee_bps=fees[2])


def _split_or_none(total: int, fees: tuple[int, int, int]) -> PayoutSplit | None:
    try:
        return _split(total, fees)
    except SplitOverflow:
        return None


@given(pots, create_fees())
def test_with_fees_create_accepts_only_a_product_beyond_u64_refuses(
    total: int, fees: tuple[int, int, int]
) -> None:
    split = _split_or_none(total, fees)
    assert (split is None) == (total * max(fees) > U64_MAX)  # the subtraction cannot fail below 10 000 bps
    if split is not None:
        assert split.total == total
        assert min(split.winner, split.dev, split.burn, split.treasury) >= 0


@given(pots, any_fees)
@example(1, (6_000, 5_000, 0))  # 11 000 bps that floor to nothing
@example(100, (10_000, 100, 0))  # fees one unit above the pot
def test_whenever_the_split_pays_the_parts_sum_to_the_pot(total: int, fees: tuple[int, int, int]) -> None:
    split = _split_or_none(total, fees)
    if split is not None:
        assert split.total == total
        assert min(split.winner, split.dev, split.burn, split.treasury) >= 0


@given(pots, any_fees)
def test_payable_means_the_split_does_not_refuse(total: int, fees: tuple[int, int, int]) -> None:
    refused = split_refused(total, dev_bps=fees[0], burn_bps=fees[1], treasury_bps=fees[2])
    assert _payable(total, fees) == (_split_or_none(total, fees) is not None) == (not refused)


def test_a_pot_beyond_u64_is_not_payable() -> None:
    # The joins and donations that would build it are checked adds (docs/program.md §3.2, §3.3).
    assert not _payable(U64_MAX + 1, (0, 0, 0))


@given(pots, any_fees)
@example(100, (10_000, 100, 0))  # the model once paid this with a negative winner share
def test_agrees_with_the_program_model_including_every_refusal(
    total: int, fees: tuple[int, int, int]
) -> None:
    modelled = modelled_split(total, *fees)
    split = _split_or_none(total, fees)
    if modelled is None:
        assert split is None
    else:
        assert split is not None
        assert (split.winner, split.dev, split.burn, split.treasury) == (
            modelled.winner,
            modelled.dev,
            modelled.burn,
            modelled.treasury,
        )


@given(st.integers(min_value=0, max_value=U64_MAX // 10_000), create_fees())
def test_fees_round_down_and_the_winner_takes_the_remainder(total: int, fees: tuple[int, int, int]) -> None:
    split = _split(total, fees)
    for amount, fee_bps in zip((split.dev, split.burn, split.treasury), fees, strict=True):
        assert amount * 10_000 <= total * fee_bps < (amount + 1) * 10_000
    exact_winner_share = total * (10_000 - sum(fees))
    assert split.winner * 10_000 >= exact_winner_share  # never less than the winner's exact share


def test_the_documented_example() -> None:
    assert _split(100_000_007, (500, 350, 150)) == PayoutSplit(90_000_007, 5_000_000, 3_500_000, 1_500_000)


def test_overflow_starts_exactly_where_the_program_fails() -> None:
    limit = U64_MAX // 500  # 36,893,488,147,419,103 base units at a 5 % fee
    assert _split(limit, (500, 350, 150)).total == limit
    with pytest.raises(SplitOverflow):
        _split(limit + 1, (500, 350, 150))


@pytest.mark.parametrize(
    ("total", "fees", "expected"),
    [(1, (6_000, 5_000, 0), PayoutSplit(1, 0, 0, 0)), (2, (6_000, 5_000, 0), PayoutSplit(0, 1, 1, 0)),
     (1, (10_001, 0, 0), PayoutSplit(0, 1, 0, 0)), (3, (0, 0, U16_MAX), None),
     (100, (10_000, 100, 0), None), (10_000, (10_000, 0, 1), None)],
    ids=["11000bps-pot-1", "11000bps-pot-2", "one-fee-above-100%", "u16-fee-of-19-on-pot-3",
         "fees-one-above-the-pot", "fees-one-above-a-big-pot"],
)  # fmt: skip
def test_fees_above_10000_bps_pay_out_until_they_exceed_the_pot(
    total: int, fees: tuple[int, int, int], expected: PayoutSplit | None
) -> None:
    # docs/program.md §5.1: the payout does not check the fee sum; only its checked subtraction can refuse.
    assert _split_or_none(total, fees) == expected
    assert _payable(total, fees) == (expected is not None)


@pytest.mark.parametrize(
    ("total", "fees", "error"),
    [(-1, (0, 0, 0), ValueError), (U64_MAX + 1, (0, 0, 0), ValueError), (1, (U16_MAX + 1, 0, 0), ValueError),
     (1, (0, -1, 0), ValueError), (True, (0, 0, 0), TypeError), (1.5, (0, 0, 0), TypeError),
     (1, (0, 0, 1.0), TypeError)],
    ids=["negative-pot", "pot-above-u64", "bps-above-u16", "negative-bps", "bool-pot", "float-pot",
         "float-bps"],
)  # fmt: skip
def test_values_no_account_can_hold_are_refused(
    total: object, fees: tuple[object, object, object], error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        _split(total, fees)  # type: ignore[arg-type]
    assert not isinstance(raised.value, SplitOverflow)  # a caller's bug, not a program refusal
    with pytest.raises(error):  # the monitor's question gets the same answer
        split_refused(total, dev_bps=fees[0], burn_bps=fees[1], treasury_bps=fees[2])  # type: ignore[arg-type]
