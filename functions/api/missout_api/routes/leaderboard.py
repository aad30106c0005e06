"""Leaderboards: winners and referrers, per mint (by amount) or across mints (by count)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from missout.blocking import offloaded
from missout.leaderboards import MAX_OFFSET, BoardRow, board, referrers_query, winners_query
from missout_api.deps import Limits, counted_read
from missout_api.problems import problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import BASE58_KEY, ApiModel

router = APIRouter(tags=["leaderboards"], route_class=LazyAPIRoute)

Mint = Annotated[
    str | None, Query(pattern=BASE58_KEY, description="rank by amount in this mint; omitted: by count")
]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


class BoardItem(ApiModel):
    rank: int
    wallet: str
    count: int = Field(description="wins / invited wallets (by count); pools won / pools rewarded (per mint)")
    amount: str | None = Field(description="per mint: base units won / earned; null when ranked by count")


class Board(ApiModel):
    mint: str | None
    items: list[BoardItem]
    next_offset: int | None


def _board(rows: list[BoardRow], mint: str | None, limit: int, offset: int) -> Board:
    return Board(
        mint=mint,
        items=[
            BoardItem(
                rank=r.rank,
                wallet=r.wallet,
                count=r.count,
                amount=None if r.amount is None else str(r.amount),
            )
            for r in rows
        ],
        next_offset=offset + limit if len(rows) == limit and offset + limit <= MAX_OFFSET else None,
    )


@router.get("/leaderboard/winners", response_model=Board, responses=problem_responses())
@offloaded
def get_winners(
    request: Request, limits: Limits, mint: Mint = None, limit: Limit = 20, offset: Offset = 0
) -> Board:
    rows = counted_read(request, limits, lambda conn: board(conn, winners_query(mint, limit, offset), offset))
    return _board(rows, mint, limit, offset)


@router.get("/leaderboard/referrers", response_model=Board, responses=problem_responses())
@offloaded
def get_referrers(
    request: Request, limits: Limits, mint: Mint = None, limit: Limit = 20, offset: Offset = 0
) -> Board:
    query = referrers_query(mint, limit, offset)
    rows = counted_read(request, limits, lambda conn: board(conn, query, offset))
    return _board(rows, mint, limit, offset)
