"""Per-wallet routes: a nonce for a signed request, and the wallet's activity (keyset-paged).

`missout.profiles.activity` is imported by the activity route on first use, not at init
(`missout_api.deferred`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from missout.auth import Action, issue_nonce
from missout.blocking import offloaded
from missout.db.transaction import transaction
from missout.profiles.patterns import ACTIVITY_CURSOR
from missout_api.deps import Limits, count_alone, counted_read, enforce
from missout_api.problems import problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import BASE58_KEY, ApiModel
from missout_api.signed import signin_terms

router = APIRouter(tags=["wallets"], route_class=LazyAPIRoute)

Wallet = Annotated[str, Path(pattern=BASE58_KEY, description="the wallet (base58)")]


class NonceOut(ApiModel):
    nonce: str
    action: Action
    issued_at: datetime
    expires_at: datetime
    message: str = Field(description="sign exactly this text (UTF-8) with the wallet, then send it back")


class ActivityItem(ApiModel):
    kind: str
    pool_id: int
    amount: str = Field(description="base units, decimal string")
    mint: str
    decimals: int
    signature: str
    block_time: datetime


class ActivityPage(ApiModel):
    items: list[ActivityItem]
    next_cursor: str | None


@router.get("/wallets/{wallet}/nonce", response_model=NonceOut, responses=problem_responses())
@offloaded
def get_nonce(
    request: Request,
    limits: Limits,
    wallet: Wallet,
    action: Annotated[Action, Query(description="the change the signed message will authorise")],
) -> NonceOut:
    """A single-use nonce (5 minutes) and the Sign-In-With-Solana message to sign for `action`."""
    enforce(count_alone(request, limits, wallet))
    with transaction() as conn:
        issued = issue_nonce(conn, wallet, action, signin_terms())
    return NonceOut(
        nonce=issued.nonce,
        action=action,
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
        message=issued.message,
    )


@router.get("/wallets/{wallet}/activity", response_model=ActivityPage, responses=problem_responses())
@offloaded
def get_activity(
    request: Request,
    limits: Limits,
    wallet: Wallet,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(pattern=ACTIVITY_CURSOR, description="`next_cursor` of the previous page")
    ] = None,
) -> ActivityPage:
    from missout.profiles.activity import wallet_activity

    page = counted_read(request, limits, lambda conn: wallet_activity(conn, wallet, limit, cursor))
    return ActivityPage(
        items=[
            ActivityItem(
                kind=row.kind,
                pool_id=row.pool_id,
                amount=str(row.amount),
                mint=row.mint,
                decimals=row.decimals,
                signature=row.signature,
                block_time=row.block_time,
            )
            for row in page.items
        ],
        next_cursor=page.next_cursor,
    )
