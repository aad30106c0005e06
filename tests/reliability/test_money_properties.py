"""Money properties (hypothesis): the payout split conserves the pot to the base unit, rounds every fee down
like the program, and agrees with the local chain's model of the program on every input, overflow included."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localnet.programs.pool_state import payout_split as modelled_split
from missout.pools.split import U64_MAX, PayoutSplit, SplitOverflow, payout_split

pots = st.integers(min_value=0, max_value=U64_MAX)
bps = st.integers(min_value=0, max_value=10_000)


@st.composite
def fee_triples(draw: st.DrawFn) -> tuple[int, int, int]:
    dev = draw(bps)
    burn = draw(st.integers(min_value=0, max_value=10_000 - dev))
    treasury = draw(st.integers(min_value=0, max_value=10_000 - dev - burn))
    return dev, burn, treasury


def _split(total: int, fees: tuple[int, int, int]) -> PayoutSplit:
    return payout_split(total, dev_bps=fees[0], burn_bps=fees[1], treasury_bps=fees[2])


@given(st.integers(min_value=0, max_value=U64_MAX // 10_000), fee_triples())
def test_every_split_sums_to_the_pot(total: int, fees: tuple[int, int, int]) -> None:
    split = _split(total, fees)
    assert split.total == total
    assert min(split.winner, split.dev, split.burn, split.treasury) >= 0


@given(st.integers(min_value=0, max_value=U64_MAX // 10_000), fee_triples())
def test_fees_round_down_and_the_winner_takes_the_remainder(total: int, fees: tuple[int, int, int]) -> None:
    split = _split(total, fees)
    for amount, fee_bps in zip((split.dev, split.burn, split.treasury), fees, strict=True):
        assert amount * 10_000 <= total * fee_bps < (amount + 1) * 10_000
    exact_winner_share = total * (10_000 - sum(fees))
    assert split.winner * 10_000 >= exact_winner_share  # never less than the winner's exact share


@given(pots, fee_triples())
def test_agrees_with_the_program_model_including_overflow(total: int, fees: tuple[int, int, int]) -> None:
    modelled = modelled_split(total, *fees)
    if modelled is None:
        with pytest.raises(SplitOverflow):
            _split(total, fees)
    else:
        split = _split(total, fees)
        assert (split.winner, split.dev, split.burn, split.treasury) == (
            modelled.winner,
            modelled.dev,
            modelled.burn,
            modelled.treasury,
        )


def test_the_documented_example() -> None:
    assert _split(100_000_007, (500, 350, 150)) == PayoutSplit(90_000_007, 5_000_000, 3_500_000, 1_500_000)


def test_overflow_starts_exactly_where_the_program_fails() -> None:
    limit = U64_MAX // 500  # 36,893,488,147,419,103 base units at a 5 % fee
    assert _split(limit, (500, 350, 150)).total == limit
    with pytest.raises(SplitOverflow):
        _split(limit + 1, (500, 350, 150))


@pytest.mark.parametrize(
    ("total", "fees", "error"),
    [(-1, (0, 0, 0), ValueError), (1, (10_001, 0, 0), ValueError), (1, (6_000, 5_000, 0), ValueError),
     (True, (0, 0, 0), TypeError), (1.5, (0, 0, 0), TypeError)],
    ids=["negative-pot", "bps-above-100%", "fees-above-100%", "bool-pot", "float-pot"],
)  # fmt: skip
def test_impossible_inputs_are_refused(
    total: object, fees: tuple[int, int, int], error: type[Exception]
) -> None:
    with pytest.raises(error):
        _split(total, fees)  # type: ignore[arg-type]
