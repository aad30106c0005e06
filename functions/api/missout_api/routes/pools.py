"""Pool reads: the list (filters, sorts, keyset paging), one pool in full, and what a wallet can claim.

Every read counts the request against the per-IP limit in the same database transaction as the read itself
(one round trip to pgBouncer, not two) and answers 429 after that transaction commits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from missout.blocking import offloaded
from missout.pools.detail import ActivityRow, PoolDetail, claimable, pool_detail
from missout.pools.listing import (
    CURSOR_PATTERN,
    MAX_PAGE_SIZE,
    PoolFilters,
    PoolRow,
    PoolSort,
    list_pools,
)
from missout_api.deps import Limits, counted_read
from missout_api.problems import ProblemException, problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import BASE58_KEY, ClaimableOut, PoolDetailOut, PoolList, StatusName

router = APIRouter(tags=["pools"], route_class=LazyAPIRoute)

# The original's cache lifetimes (docs/original-backend.md §1.2): the list 30 s, one pool 20 s. Shared caches
# may keep them too (CloudFront in front of API Gateway); a report's answer is never cached.
LIST_CACHE = "public, max-age=30"
DETAIL_CACHE = "public, max-age=20"
CLAIMABLE_CACHE = "private, max-age=5"

# The routes answer with plain dicts shaped as their `response_model`: FastAPI validates each against it in
# pydantic-core, once, then serializes it. Models built here were validated in Python, model by model (61
# `__init__` calls for a page of 20), and FastAPI then passed the built model through.
Json = dict[str, Any]

Address = Annotated[str, Path(pattern=BASE58_KEY, description="the Pool account (base58)")]


@router.get("/pools", response_model=PoolList, responses=problem_responses())
@offloaded
def get_pools(
    request: Request,
    response: Response,
    limits: Limits,
    status: Annotated[
        list[StatusName] | None,
        Query(description="any of the statuses; repeat for several"),
    ] = None,
    mint: Annotated[str | None, Query(pattern=BASE58_KEY)] = None,
    creator: Annotated[str | None, Query(pattern=BASE58_KEY)] = None,
    participant: Annotated[
        str | None, Query(pattern=BASE58_KEY, description="pools this wallet holds a seat in")
    ] = None,
    sort: Annotated[PoolSort, Query(description="newest, ending_soon (open or locked only), biggest_pot")] = (
        PoolSort.NEWEST
    ),
    payable_only: Annotated[
        bool, Query(description="leave out pools that can never pay out (see `unpayable_reason`)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[
        str | None, Query(pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page")
    ] = None,
) -> Json:
    filters = PoolFilters(
        statuses=tuple(dict.fromkeys(status or ())),
        mint=mint,
        creator=creator,
        participant=participant,
        payable_only=payable_only,
    )
    page = counted_read(
        request, limits, lambda conn: list_pools(conn, filters, limit=limit, cursor=cursor, sort=sort)
    )
    response.headers["Cache-Control"] = LIST_CACHE
    return {"items": [pool_out(row) for row in page.items], "next_cursor": page.next_cursor}


@router.get("/pools/claimable", response_model=ClaimableOut, responses=problem_responses())
@offloaded
def get_claimable(
    request: Request,
    response: Response,
    limits: Limits,
    wallet: Annotated[str, Query(pattern=BASE58_KEY, description="the wallet that would claim")],
) -> Json:
    found = counted_read(request, limits, lambda conn: claimable(conn, wallet))
    response.headers["Cache-Control"] = CLAIMABLE_CACHE
    return {"refunds": [pool_out(r) for r in found.refunds], "rents": [pool_out(r) for r in found.rents]}


@router.get("/pools/by-id/{pool_id}", response_model=PoolDetailOut, responses=problem_responses(404))
@offloaded
def get_pool_by_id(
    request: Request,
    response: Response,
    limits: Limits,
    pool_id: Annotated[
        int, Path(ge=1, le=2**63 - 1, description="the record's id (any pool, live or closed)")
    ],
) -> Json:
    return _detail(request, response, limits, pool_id=pool_id)


@router.get("/pools/{address}", response_model=PoolDetailOut, responses=problem_responses(404))
@offloaded
def get_pool(request: Request, response: Response, limits: Limits, address: Address) -> Json:
    """The live pool at this address (or, if none is live, the latest closed one there)."""
    return _detail(request, response, limits, address=address)


def _detail(
    request: Request,
    response: Response,
    limits: Limits,
    *,
    address: str | None = None,
    pool_id: int | None = None,
) -> Json:
    detail = counted_read(request, limits, lambda conn: pool_detail(conn, address=address, pool_id=pool_id))
    if detail is None:
        raise ProblemException(
            404,
            "Not found",
            f"no pool is recorded at {address}" if address else f"no pool has id {pool_id}",
            type_="/problems/pool-not-found",
        )
    response.headers["Cache-Control"] = DETAIL_CACHE
    return detail_out(detail)


def pool_out(row: PoolRow) -> Json:
    """A PoolOut's fields."""
    return {
        "id": row.id,
        "address": row.address,
        "mint": {"address": row.mint, "decimals": row.mint_decimals, "symbol": row.mint_symbol},
        "creator": row.creator,
        "status": row.status,
        "entry_amount": str(row.entry_amount),
        "total_amount": str(row.total_amount),
        "donated_amount": str(row.donated_amount),
        "max_participants": row.max_participants,
        "participants_count": row.participants_count,
        "lock_duration_seconds": row.lock_duration_seconds,
        "fees": {
            "dev_bps": row.dev_fee_bps,
            "burn_bps": row.burn_fee_bps,
            "treasury_bps": row.treasury_fee_bps,
        },
        "winner": row.winner,
        "start_time": row.start_time,
        "lock_start_time": row.lock_start_time,
        "end_time": row.end_time,
        "created_at": row.created_at,
        "unpayable_reason": row.unpayable_reason,
    }


def _activity_out(row: ActivityRow) -> Json:
    # An ActivityOut's fields (the model orders them, not this dict).
    return {
        "amount": str(row.amount),
        "kind": row.kind,
        "wallet": row.wallet,
        "signature": row.signature,
        "slot": row.slot,
        "block_time": row.block_time,
    }


def detail_out(detail: PoolDetail) -> Json:
    """A PoolDetailOut's fields."""
    payout = detail.payout
    out = pool_out(detail.pool)
    out.update(
        status_reason=detail.status_reason,
        paused=detail.paused,
        allow_mock=detail.allow_mock,
        expire_time=detail.expire_time,
        unlock_time=detail.unlock_time,
        close_time=detail.close_time,
        randomness_account=detail.randomness_account,
        rent_claimed=detail.rent_claimed,
        create_signature=detail.create_signature,
        synced_slot=detail.synced_slot,
        participants=[
            {
                "seat": p.seat,
                "wallet": p.wallet,
                "display_name": p.display_name,
                "joined_at": p.joined_at,
                "join_signature": p.join_signature,
                "refund_claimed": p.refund_claimed,
            }
            for p in detail.participants
        ],
        donations=[_activity_out(a) for a in detail.donations],
        activity=[_activity_out(a) for a in detail.activity],
        payout=None
        if payout is None
        else {
            "winner": payout.winner,
            "winner_amount": str(payout.winner_amount),
            "dev_amount": str(payout.dev_amount),
            "burn_amount": str(payout.burn_amount),
            "treasury_amount": str(payout.treasury_amount),
            "referral_amount": str(payout.referral_amount),
            "total_amount": str(payout.total_amount),
            "signature": payout.signature,
            "block_time": payout.block_time,
        },
    )
    return out
