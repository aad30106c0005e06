"""What a referrer sees: the summary per mint, the rewards earned pool by pool, and the wallets invited.
Lists are keyset-paged by id (newest first): `before_id` is the last id of the previous page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from missout.db.tables import (
    OPEN_REFERRAL_CLAIM_STATUSES,
    mints,
    referral_claims,
    referral_relations,
    referral_reward_events,
    referral_rewards,
)


@dataclass(frozen=True, slots=True)
class MintBalance:
    mint: str
    decimals: int
    symbol: str | None
    earned: int  # pending + claiming + claimed
    pending: int
    claiming: int  # in open claims (queued or sending)
    claimed: int  # paid


@dataclass(frozen=True, slots=True)
class Summary:
    wallet: str
    referrer: str | None  # who referred this wallet
    invited: int
    balances: list[MintBalance]


@dataclass(frozen=True, slots=True)
class RewardRow:
    id: int
    pool_id: int
    mint: str
    decimals: int
    amount: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InvitedRow:
    id: int
    wallet: str
    source: str
    created_at: datetime


def summary(conn: Connection, wallet: str) -> Summary:
    invited = conn.execute(
        select(func.count()).where(referral_relations.c.referrer_wallet == wallet)
    ).scalar_one()
    referrer = conn.execute(
        select(referral_relations.c.referrer_wallet).where(referral_relations.c.referred_wallet == wallet)
    ).scalar_one_or_none()
    claiming = (
        select(referral_claims.c.mint, func.sum(referral_claims.c.amount).label("amount"))
        .where(
            referral_claims.c.referrer_wallet == wallet,
            referral_claims.c.status.in_(OPEN_REFERRAL_CLAIM_STATUSES),
        )
        .group_by(referral_claims.c.mint)
        .subquery()
    )
    rows = conn.execute(
        select(
            referral_rewards.c.mint,
            mints.c.decimals,
            mints.c.symbol,
            referral_rewards.c.amount_pending,
            referral_rewards.c.amount_claimed,
            func.coalesce(claiming.c.amount, 0).label("claiming"),
        )
        .join(mints, mints.c.address == referral_rewards.c.mint)
        .outerjoin(claiming, claiming.c.mint == referral_rewards.c.mint)
        .where(referral_rewards.c.referrer_wallet == wallet)
        .order_by(referral_rewards.c.mint)
    ).all()
    balances = [
        MintBalance(
            mint=row.mint,
            decimals=row.decimals,
            symbol=row.symbol,
            earned=int(row.amount_pending) + int(row.claiming) + int(row.amount_claimed),
            pending=int(row.amount_pending),
            claiming=int(row.claiming),
            claimed=int(row.amount_claimed),
        )
        for row in rows
    ]
    return Summary(wallet, referrer, int(invited), balances)


def rewards(conn: Connection, wallet: str, limit: int, before_id: int | None) -> list[RewardRow]:
    events = referral_reward_events
    query = (
        select(
            events.c.id,
            events.c.pool_id,
            events.c.mint,
            mints.c.decimals,
            events.c.amount,
            events.c.created_at,
        )
        .join(mints, mints.c.address == events.c.mint)
        .where(events.c.referrer_wallet == wallet)
    )
    if before_id is not None:
        query = query.where(events.c.id < before_id)
    rows = conn.execute(query.order_by(events.c.id.desc()).limit(limit)).all()
    return [RewardRow(r.id, r.pool_id, r.mint, r.decimals, int(r.amount), r.created_at) for r in rows]


def invited(conn: Connection, wallet: str, limit: int, before_id: int | None) -> list[InvitedRow]:
    relations = referral_relations
    condition = relations.c.referrer_wallet == wallet
    if before_id is not None:
        condition = and_(condition, relations.c.id < before_id)
    rows = conn.execute(
        select(relations.c.id, relations.c.referred_wallet, relations.c.source, relations.c.created_at)
        .where(condition)
        .order_by(relations.c.id.desc())
        .limit(limit)
    ).all()
    return [InvitedRow(r.id, r.referred_wallet, r.source, r.created_at) for r in rows]
