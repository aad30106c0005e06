"""Leaderboards computed in SQL, each query reading one index in board order (docs/people.md):

- winners per mint: `winner_totals` (mint, total_won DESC, wallet);
- winners by count: `winner_counts` (wins DESC, wallet);
- referrers by count: `referrer_counts` (invited DESC, wallet);
- referrers per mint: `referrer_mint_totals` (mint, earned DESC, referrer_wallet).
The three board tables are kept by triggers (migration 0004) in the transaction of the rows they count: a
top-N over a `GROUP BY` of the source tables must aggregate every row before it can rank one.
Pages are offset-based: boards are short and re-ranked constantly (a keyset over a moving rank would not
hold).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import null, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from missout.db.tables import referrer_counts, referrer_mint_totals, winner_counts, winner_totals

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
    return (
        select(winner_counts.c.wallet, winner_counts.c.wins, null().label("amount"))
        .where(winner_counts.c.wins > 0)
        .order_by(winner_counts.c.wins.desc(), winner_counts.c.wallet)
        .limit(limit)
        .offset(offset)
    )


def referrers_query(mint: str | None, limit: int, offset: int) -> Select[Any]:
    if mint is not None:
        totals = referrer_mint_totals
        return (
            select(totals.c.referrer_wallet, totals.c.pools, totals.c.earned)
            .where(totals.c.mint == mint, totals.c.pools > 0)
            .order_by(totals.c.earned.desc(), totals.c.referrer_wallet)
            .limit(limit)
            .offset(offset)
        )
    return (
        select(referrer_counts.c.wallet, referrer_counts.c.invited, null().label("amount"))
        .where(referrer_counts.c.invited > 0)
        .order_by(referrer_counts.c.invited.desc(), referrer_counts.c.wallet)
        .limit(limit)
        .offset(offset)
    )


def board(conn: Connection, query: Select[Any], offset: int) -> list[BoardRow]:
    rows = conn.execute(query).all()
    return [
        BoardRow(offset + index + 1, row[0], int(row[1]), None if row[2] is None else int(row[2]))
        for index, row in enumerate(rows)
    ]
