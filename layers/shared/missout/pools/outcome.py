"""Recording a paid-out pool: the payout, the activity rows, the winner's totals and the pool's referral
allocation, in one database transaction, at most once per pool (docs/original-backend.md W9, W14, W15).

Idempotency is carried by keys, not by reads: `pool_payouts` has one row per pool and `referral_allocations`
one per pool; the run whose `INSERT ... ON CONFLICT DO NOTHING RETURNING` gets the row back writes the rest,
every other run (an overlapping monitor, a resumed crash) gets nothing back and writes nothing. The amounts
are those the finalized payout transaction moved (`missout.monitor.payout_tx`), never a recomputation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from solders.pubkey import Pubkey
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from missout.chain.events import WinnerSelectedEvent
from missout.db.tables import (
    activity,
    referral_allocations,
    referral_relations,
    referral_reward_events,
    referral_rewards,
)
from missout.pools.records import record_payout


@dataclass(frozen=True, slots=True)
class Payout:
    """A finalized payout as its transaction moved the tokens (base units of the pool's mint)."""

    signature: str
    slot: int
    block_time: datetime
    winner: str
    winner_amount: int
    dev_amount: int
    treasury_amount: int
    burn_amount: int
    total_amount: int
    dev_wallet: str
    treasury_wallet: str


@dataclass(frozen=True, slots=True)
class ReferralSplit:
    share: int  # to each referrer
    referrers: tuple[str, ...]
    kept: int  # the remainder of the integer division, and everything when nobody was referred

    @property
    def allocated(self) -> int:
        return self.share * len(self.referrers)


def split_referral_share(treasury_amount: int, referrers: Iterable[str]) -> ReferralSplit:
    """The treasury's share of a pool split equally among the distinct referrers of its participants
    (original-backend §5 intent), floored; the remainder stays with the treasury."""
    distinct = tuple(sorted(set(referrers)))
    if not distinct or treasury_amount <= 0:
        return ReferralSplit(0, (), max(treasury_amount, 0))
    share = treasury_amount // len(distinct)
    if share == 0:
        return ReferralSplit(0, (), treasury_amount)
    return ReferralSplit(share, distinct, treasury_amount - share * len(distinct))


@dataclass(frozen=True, slots=True)
class Recorded:
    payout_written: bool  # False: another run recorded this pool's payout first
    referral: ReferralSplit | None  # None: the allocation existed already


def record_outcome(
    conn: Connection, *, pool_id: int, mint: str, payout: Payout, participants: Sequence[str]
) -> Recorded:
    """Everything the payout makes true, in the caller's transaction (one `transaction()` block): the
    payout row and the winner's totals (`pools.records.record_payout`, once per pool), the activity rows
    of the wallets paid, and the pool's referral allocation."""
    event = WinnerSelectedEvent(
        pool=Pubkey.default(),  # not read by record_payout
        pool_id=0,
        winner=Pubkey.from_string(payout.winner),
        winner_amount=payout.winner_amount,
        dev_amount=payout.dev_amount,
        burn_amount=payout.burn_amount,
        treasury_amount=payout.treasury_amount,
        randomness=0,
    )
    written = record_payout(
        conn,
        pool_id,
        event,
        signature=payout.signature,
        slot=payout.slot,
        block_time=payout.block_time,
    )
    if written:
        _activity(conn, pool_id, payout)
    return Recorded(written, allocate_referrals(conn, pool_id, mint, payout, participants))


def allocate_referrals(
    conn: Connection, pool_id: int, mint: str, payout: Payout, participants: Sequence[str]
) -> ReferralSplit | None:
    referrers = conn.execute(
        select(referral_relations.c.referrer_wallet)
        .where(referral_relations.c.referred_wallet.in_(list(participants)))
        .distinct()
    ).scalars()
    split = split_referral_share(payout.treasury_amount, referrers)
    claimed = conn.execute(
        insert(referral_allocations)
        .values(pool_id=pool_id, mint=mint, total=split.allocated)
        .on_conflict_do_nothing(index_elements=[referral_allocations.c.pool_id])
        .returning(referral_allocations.c.pool_id)
    ).one_or_none()
    if claimed is None:
        return None
    for referrer in split.referrers:
        conn.execute(
            insert(referral_reward_events).values(
                pool_id=pool_id, mint=mint, referrer_wallet=referrer, amount=split.share
            )
        )
        conn.execute(
            insert(referral_rewards)
            .values(referrer_wallet=referrer, mint=mint, amount_pending=split.share, amount_claimed=0)
            .on_conflict_do_update(
                index_elements=[referral_rewards.c.referrer_wallet, referral_rewards.c.mint],
                set_={
                    "amount_pending": referral_rewards.c.amount_pending + split.share,
                    "updated_at": func.now(),
                },
            )
        )
    return split


def _activity(conn: Connection, pool_id: int, payout: Payout) -> None:
    rows = [
        {"wallet": wallet, "amount": amount}
        for wallet, amount in (
            (payout.winner, payout.winner_amount),
            (payout.dev_wallet, payout.dev_amount),
            (payout.treasury_wallet, payout.treasury_amount),
        )
        if amount > 0
    ]
    for row in rows:
        conn.execute(
            insert(activity)
            .values(
                pool_id=pool_id,
                kind="payout",
                signature=payout.signature,
                slot=payout.slot,
                block_time=payout.block_time,
                **row,
            )
            .on_conflict_do_nothing()
        )
