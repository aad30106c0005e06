"""GET /api/pools: the pools we know, newest first, filtered in SQL before paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from missout.db.tables import POOL_STATUSES
from missout.db.transaction import transaction
from missout.pools.listing import MAX_PAGE_SIZE, InvalidCursor, PoolFilters, PoolRow, list_pools
from missout_api.problems import ProblemException
from missout_api.schemas import FeesOut, MintOut, PoolList, PoolOut

router = APIRouter(tags=["pools"])

_BASE58_KEY = r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"


@router.get("/pools", response_model=PoolList)
def get_pools(
    status: Annotated[list[str] | None, Query(description=f"any of: {', '.join(POOL_STATUSES)}")] = None,
    mint: Annotated[str | None, Query(pattern=_BASE58_KEY)] = None,
    creator: Annotated[str | None, Query(pattern=_BASE58_KEY)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PoolList:
    statuses = tuple(dict.fromkeys(status or ()))
    unknown = [s for s in statuses if s not in POOL_STATUSES]
    if unknown:
        raise _invalid("status", f"unknown status {unknown[0]!r}; expected one of {', '.join(POOL_STATUSES)}")
    filters = PoolFilters(statuses=statuses, mint=mint, creator=creator)
    try:
        with transaction() as conn:
            page = list_pools(conn, filters, limit=limit, cursor=cursor)
    except InvalidCursor as exc:
        raise _invalid("cursor", str(exc)) from None
    return PoolList(items=[_pool_out(row) for row in page.items], next_cursor=page.next_cursor)


def _invalid(field: str, message: str) -> ProblemException:
    return ProblemException(
        422,
        "Invalid request",
        f"invalid value for: {field}",
        type_="/problems/invalid-request",
        errors=[{"field": field, "in": "query", "message": message}],
    )


def _pool_out(row: PoolRow) -> PoolOut:
    return PoolOut(
        id=row.id,
        address=row.address,
        mint=MintOut(address=row.mint, decimals=row.mint_decimals, symbol=row.mint_symbol),
        creator=row.creator,
        status=row.status,
        entry_amount=str(row.entry_amount),
        total_amount=str(row.total_amount),
        donated_amount=str(row.donated_amount),
        max_participants=row.max_participants,
        participants_count=row.participants_count,
        lock_duration_seconds=row.lock_duration_seconds,
        fees=FeesOut(dev_bps=row.dev_fee_bps, burn_bps=row.burn_fee_bps, treasury_bps=row.treasury_fee_bps),
        winner=row.winner,
        start_time=row.start_time,
        lock_start_time=row.lock_start_time,
        end_time=row.end_time,
        created_at=row.created_at,
    )
