"""Referral property (hypothesis): the allocation the monitor records for a paid-out pool
(`pools.outcome.split_referral_share`, written by `allocate_referrals`) always sums to the treasury share the
payout split gave: what the referrers get plus what the treasury keeps, to the base unit, and never more."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from missout.pools.outcome import split_referral_share
from missout.pools.split import U64_MAX, payout_split

wallets = st.lists(st.sampled_from([f"wallet-{n}" for n in range(40)]), max_size=60)


@given(st.integers(min_value=0, max_value=U64_MAX), wallets)
def test_every_referral_allocation_sums_to_the_treasury_share(treasury: int, referrers: list[str]) -> None:
    split = split_referral_share(treasury, referrers)
    assert split.allocated + split.kept == treasury
    assert split.share >= 0
    assert split.kept >= 0
    assert split.referrers == tuple(sorted(set(split.referrers)))  # each referrer once, whatever the repeats
    assert set(split.referrers) <= set(referrers)
    if split.referrers:
        assert split.kept < len(split.referrers)  # floored: the treasury keeps less than one unit each
        assert set(split.referrers) == set(referrers)  # nobody referred is left out
    else:
        assert split.kept == treasury


@given(
    st.integers(min_value=0, max_value=U64_MAX // 10_000),
    st.integers(min_value=0, max_value=10_000),
    wallets,
)
def test_the_allocation_of_a_real_payout_split_sums_to_its_treasury_share(
    pot: int, treasury_bps: int, referrers: list[str]
) -> None:
    fees = payout_split(pot, dev_bps=0, burn_bps=0, treasury_bps=treasury_bps)
    split = split_referral_share(fees.treasury, referrers)
    assert split.allocated + split.kept == fees.treasury
    assert split.allocated <= fees.treasury
