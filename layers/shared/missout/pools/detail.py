"""One pool in full for the API: the row, its participants in on-chain order (with display names from
profiles), its donations and activity, and once paid out, the split. Plus what a wallet can claim now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from missout.db.tables import activity, mints, participants, pool_payouts, pools, profiles
from missout.pools.listing import PoolRow, to_pool_row
from missout.pools.status import TERMINAL_POOL_STATUSES

ACTIVITY_SHOWN = 100
# claim_refund accepts only these reasons (docs/program.md §3.8): expired, creator-cancelled, admin-closed.
REFUNDABLE_REASONS = (1, 5, 6)
# claim_rent accepts these statuses once nobody is left to refund (docs/program.md §3.9).
RENT_STATUSES = ("ended", "cancelled", "closed", "winner_selected")


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    seat: int | None  # None once refunded (the wallet left the on-chain list)
    wallet: str
    display_name: str | None
    joined_at: datetime | None
    join_signature: str | None
    refund_claimed: bool


@dataclass(frozen=True, slots=True)
class ActivityRow:
    kind: str
    wallet: str
    amount: int
    signature: str
    slot: int
    block_time: datetime


@dataclass(frozen=True, slots=True)
class PayoutRow:
    winner: str
    winner_amount: int
    dev_amount: int
    burn_amount: int
    treasury_amount: int
    referral_amount: int
    total_amount: int
    signature: str
    block_time: datetime


@dataclass(frozen=True, slots=True)
class PoolDetail:
    pool: PoolRow
    status_reason: int
    paused: bool
    allow_mock: bool
    expire_time: datetime | None
    unlock_time: datetime | None
    close_time: datetime | None
    randomness_account: str | None
    rent_claimed: bool
    create_signature: str
    synced_slot: int
    participants: list[ParticipantRow]
    donations: list[ActivityRow]
    activity: list[ActivityRow]
    payout: PayoutRow | None


def pool_detail(
    conn: Connection, *, address: str | None = None, pool_id: int | None = None
) -> PoolDetail | None:
    """The live pool at `address`, or the pool with `pool_id` (live or not)."""
    query = select(pools, mints.c.decimals, mints.c.symbol).join(mints, mints.c.address == pools.c.mint)
    if pool_id is not None:
        query = query.where(pools.c.id == pool_id)
    else:
        # The live pool at the address; a closed pool's address may be re-used (docs/program.md §2.4), and
        # without a live one the most recent closed one is shown. Earlier ones are reachable by id.
        query = query.where(pools.c.pool_address == address).order_by(
            pools.c.status.in_(TERMINAL_POOL_STATUSES), pools.c.created_at.desc(), pools.c.id.desc()
        )
    row = conn.execute(query.limit(1)).mappings().first()
    if row is None:
        return None
    pid = row["id"]
    people = conn.execute(
        select(
            participants.c.seat,
            participants.c.wallet,
            profiles.c.nickname,
            participants.c.joined_at,
            participants.c.join_signature,
            participants.c.refund_claimed,
        )
        .outerjoin(profiles, profiles.c.wallet == participants.c.wallet)
        .where(participants.c.pool_id == pid)
        .order_by(participants.c.seat.asc().nulls_last(), participants.c.id)
    ).all()
    history = [
        ActivityRow(r.kind, r.wallet, int(r.amount), r.signature, r.slot, r.block_time)
        for r in conn.execute(
            select(activity)
            .where(activity.c.pool_id == pid)
            .order_by(activity.c.block_time.desc(), activity.c.id.desc())
            .limit(ACTIVITY_SHOWN)
        )
    ]
    payout = conn.execute(select(pool_payouts).where(pool_payouts.c.pool_id == pid)).first()
    return PoolDetail(
        pool=to_pool_row(row),
        status_reason=row["status_reason"],
        paused=row["paused"],
        allow_mock=row["allow_mock"],
        expire_time=row["expire_time"],
        unlock_time=row["unlock_time"],
        close_time=row["close_time"],
        randomness_account=row["randomness_account"],
        rent_claimed=row["rent_claimed"],
        create_signature=row["create_signature"],
        synced_slot=row["synced_slot"],
        participants=[
            ParticipantRow(p.seat, p.wallet, p.nickname, p.joined_at, p.join_signature, p.refund_claimed)
            for p in people
        ],
        donations=[a for a in history if a.kind == "donate"],
        activity=history,
        payout=None
        if payout is None
        else PayoutRow(
            winner=payout.winner,
            winner_amount=int(payout.winner_amount),
            dev_amount=int(payout.dev_amount),
            burn_amount=int(payout.burn_amount),
            treasury_amount=int(payout.treasury_amount),
            referral_amount=int(payout.referral_amount),
            total_amount=int(payout.total_amount),
            signature=payout.signature,
            block_time=payout.block_time,
        ),
    )


@dataclass(frozen=True, slots=True)
class Claimables:
    refunds: list[PoolRow]  # cancelled pools where the wallet still holds a seat
    rents: list[PoolRow]  # the wallet's own finished pools with nobody left to refund


def claimable(conn: Connection, wallet: str) -> Claimables:
    """By the program's rules (docs/program.md §3.8, §3.9): a refund needs a Cancelled pool with a refundable
    reason and the wallet still in the list; rent needs the creator, a finished status and an empty list."""
    base = select(pools, mints.c.decimals, mints.c.symbol).join(mints, mints.c.address == pools.c.mint)
    refunds = conn.execute(
        base.join(
            participants,
            and_(
                participants.c.pool_id == pools.c.id,
                participants.c.wallet == wallet,
                participants.c.seat.is_not(None),
                participants.c.refund_claimed.is_(False),
            ),
        )
        .where(pools.c.status == "cancelled", pools.c.status_reason.in_(REFUNDABLE_REASONS))
        .order_by(pools.c.created_at.desc(), pools.c.id.desc())
    ).mappings()
    rents = conn.execute(
        base.where(
            pools.c.creator_wallet == wallet,
            pools.c.status.in_(RENT_STATUSES),
            pools.c.participants_count == 0,
            pools.c.rent_claimed.is_(False),
        ).order_by(pools.c.created_at.desc(), pools.c.id.desc())
    ).mappings()
    return Claimables(refunds=[to_pool_row(r) for r in refunds], rents=[to_pool_row(r) for r in rents])
