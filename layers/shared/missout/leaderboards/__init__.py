"""Leaderboards computed in SQL, each query shaped to walk one index (docs/people.md):

- winners per mint: `winner_totals` (mint, total_won DESC, wallet): an index range in board order;
- winners by count: `winner_totals` (wallet, wins): an index-only scan grouped by wallet;
- referrers by count: `referral_relations` (referrer_wallet): an index-only scan grouped by referrer;
- referrers per mint: `referral_reward_events` (mint, referrer_wallet, amount): index-only, grouped.
Pages are offset-based (boards are short and re-ranked constantly; a keyset over an aggregate would not hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, null, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from missout.db.tables import referral_relations, referral_reward_events, winner_totals

MAX_OFFSET = 10_000


@dataclass(frozen=True, slots=True)
class BoardRow:
    rank: int
    wallet: str
    count: int  # wins, or invited wallets (by count); pools won / rewarded (per mint)
    amount: int | None  # base units of the mint (per mint only)


def winners_query(mint: str | None, limit: int, offset: int) -> Select[Any]:
    if mint is not None:
        return (
            select(winner_totals.c.wallet, winner_totals.c.wins, winner_totals.c.total_won)
            .where(winner_totals.c.mint == mint)
            .order_by(winner_totals.c.total_won.desc(), winner_totals.c.wallet)
            .limit(limit)
            .offset(offset)
        )
    wins = func.sum(winner_totals.c.wins)
    return (
        select(winner_totals.c.wallet, wins.label("wins"), null().label("amount"))
        .group_by(winner_totals.c.wallet)
        .order_by(wins.desc(), winner_totals.c.wallet)
        .limit(limit)
        .offset(offset)
    )


def referrers_query(mint: str | None, limit: int, offset: int) -> Select[Any]:
    if mint is not None:
        events = referral_reward_events
        earned = func.sum(events.c.amount)
        return (
            select(events.c.referrer_wallet, func.count().label("pools"), earned.label("earned"))
            .where(events.c.mint == mint)
            .group_by(events.c.referrer_wallet)
            .order_by(earned.desc(), events.c.referrer_wallet)
            .limit(limit)
            .offset(offset)
        )
    invited = func.count()
    return (
        select(
            referral_relations.c.referrer_wallet,
            invited.label("invited"),
            null().label("amount"),
        )
        .group_by(referral_relations.c.referrer_wallet)
        .order_by(invited.desc(), referral_relations.c.referrer_wallet)
        .limit(limit)
        .offset(offset)
    )


def board(conn: Connection, query: Select[Any], offset: int) -> list[BoardRow]:
    rows = conn.execute(query).all()
    return [
        BoardRow(offset + index + 1, row[0], int(row[1]), None if row[2] is None else int(row[2]))
        for index, row in enumerate(rows)
    ]
