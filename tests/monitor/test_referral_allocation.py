"""A paid-out pool's referral allocation: the treasury share split equally among the distinct referrers of
its participants, the remainder kept, in base units, at most once per pool; sums exact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from missout.db.tables import (
    activity,
    referral_allocations,
    referral_relations,
    referral_reward_events,
    referral_rewards,
)
from missout.db.transaction import transaction
from missout.pools.outcome import Payout, record_outcome, split_referral_share
from tests.support.database import TestDatabase
from tests.support.factories import MINT, SIG, insert_mint, insert_pool, key

pytestmark = pytest.mark.integration

PLAYERS = [key(100 + n) for n in range(5)]


def payout(pool_n: int, treasury: int) -> Payout:
    total = 100_000_000 + treasury
    return Payout(
        signature=SIG(9_000 + pool_n),
        slot=1_000 + pool_n,
        block_time=datetime(2026, 12, 1, tzinfo=UTC),
        winner=PLAYERS[0],
        winner_amount=total - 5_000_000 - treasury,
        dev_amount=5_000_000,
        treasury_amount=treasury,
        burn_amount=0,
        total_amount=total,
        dev_wallet=key(900),
        treasury_wallet=key(901),
    )


def refer(engine: Engine, pairs: list[tuple[str, str]]) -> None:
    with engine.begin() as conn:
        for referred, referrer in pairs:
            conn.execute(
                insert(referral_relations).values(referred_wallet=referred, referrer_wallet=referrer)
            )


def rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    with engine.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


@pytest.fixture
def pool_id(app_database: TestDatabase, direct_engine: Engine) -> int:
    insert_mint(direct_engine)
    return insert_pool(direct_engine, status="ended", pool_address=key(5_000), create_signature=SIG(5_000))


@pytest.mark.parametrize(
    ("treasury", "referrers", "share", "kept"),
    [
        (1_500_000, [], 0, 1_500_000),  # nobody referred: the treasury keeps everything
        (1_500_000, ["A"], 1_500_000, 0),  # one referrer takes the whole share
        (1_000_001, ["A", "B", "C"], 333_333, 2),  # several: equal shares, the remainder kept
        (2, ["A", "B", "C"], 0, 2),  # less than one base unit each: nothing allocated
    ],
)
def test_the_split_is_equal_floored_and_sums_exactly(
    treasury: int, referrers: list[str], share: int, kept: int
) -> None:
    split = split_referral_share(treasury, [*referrers, *referrers])  # repeats count once
    assert (split.share, split.kept) == (share, kept)
    assert split.allocated + split.kept == treasury


@pytest.mark.parametrize(
    ("relations", "expected_share"),
    [
        ([], None),
        ([(PLAYERS[1], key(700))], 1_000_001),
        # Two players referred by the same wallet count once; three distinct referrers, remainder 2 kept.
        (
            [(PLAYERS[1], key(700)), (PLAYERS[2], key(700)), (PLAYERS[3], key(701)), (PLAYERS[4], key(702))],
            333_333,
        ),
    ],
)
def test_a_pools_referral_allocation_is_recorded_once_with_exact_sums(
    pool_id: int, direct_engine: Engine, relations: list[tuple[str, str]], expected_share: int | None
) -> None:
    refer(direct_engine, [*relations, (key(800), key(701))])  # a relation of someone not in the pool
    paid = payout(1, 1_000_001)
    for _ in range(2):  # a second run (a resumed crash, an overlapping monitor) changes nothing
        with transaction() as conn:
            record_outcome(conn, pool_id=pool_id, mint=MINT, payout=paid, participants=PLAYERS)
    [allocation] = rows(direct_engine, referral_allocations)
    events = rows(direct_engine, referral_reward_events)
    rewards = {r["referrer_wallet"]: r["amount_pending"] for r in rows(direct_engine, referral_rewards)}
    referrers = sorted({referrer for _, referrer in relations})
    assert sorted(e["referrer_wallet"] for e in events) == referrers
    if expected_share is None:
        assert allocation["total"] == 0
        assert events == []
        assert rewards == {}
    else:
        assert {e["amount"] for e in events} == {expected_share}
        assert rewards == dict.fromkeys(referrers, expected_share)
        assert allocation["total"] == expected_share * len(referrers)
    assert paid.treasury_amount - allocation["total"] == 1_000_001 - (expected_share or 0) * len(referrers)
    # The payout's activity rows: winner, DEV wallet and treasury, each once.
    assert sorted(r["amount"] for r in rows(direct_engine, activity)) == sorted(
        [paid.winner_amount, paid.dev_amount, paid.treasury_amount]
    )
