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
from sqlalchemy.sql.elements import ColumnElement

from missout.db.tables import referrer_counts, referrer_mint_totals, winner_counts, winner_totals

MAX_OFFSET = 10_000


@dataclass(frozen=True, slots=True)
class BoardRow:
    rank: int
    wallet: str
    count: int  # wins, or invited wallets (by count); pools won / rewarded (per mint)
    amount: int | None  # base units of the mint (per mint only)


def _ranked(
    wallet: ColumnElement[Any],
    count: ColumnElement[Any],
    amount: ColumnElement[Any],
    *conditions: ColumnElement[bool],
    by: ColumnElement[Any],
    limit: int,
    offset: int,
) -> Select[Any]:
    """One board page: (wallet, count, amount) rows, best `by` first, ties broken by wallet for a stable
    order across pages."""
    return (
        select(wallet, count, amount)
        .where(*conditions)
        .order_by(by.desc(), wallet)
        .limit(limit)
        .offset(offset)
    )


def winners_query(mint: str | None, limit: int, offset: int) -> Select[Any]:
    if mint is not None:
        t = winner_totals.c
        return _ranked(
            t.wallet, t.wins, t.total_won, t.mint == mint, by=t.total_won, limit=limit, offset=offset
        )
    c = winner_counts.c
    return _ranked(
        c.wallet, c.wins, null().label("amount"), c.wins > 0, by=c.wins, limit=limit, offset=offset
    )


def referrers_query(mint: str | None, limit: int, offset: int) -> Select[Any]:
    if mint is not None:
        t = referrer_mint_totals.c
        return _ranked(
            t.referrer_wallet,
            t.pools,
            t.earned,
            t.mint == mint,
            t.pools > 0,
            by=t.earned,
            limit=limit,
            offset=offset,
        )
    c = referrer_counts.c
    return _ranked(
        c.wallet, c.invited, null().label("amount"), c.invited > 0, by=c.invited, limit=limit, offset=offset
    )


def board(conn: Connection, query: Select[Any], offset: int) -> list[BoardRow]:
    rows = conn.execute(query).all()
    return [
        BoardRow(offset + index + 1, row[0], int(row[1]), None if row[2] is None else int(row[2]))
        for index, row in enumerate(rows)
    ]
