"""Referral routes: register a referrer (signed by the referred wallet), the summary, the rewards and the
invited lists, a claim per mint (signed), and the claims' status.

The referral code (`missout.referrals`) is imported by the route that runs it, on first use: most
environments never serve a referral request, so it stays off their cold start (`missout_api.deferred`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from missout.auth import Action
from missout.blocking import offloaded
from missout.db.transaction import transaction
from missout.settings import api_settings
from missout_api.deps import Limits, counted_read
from missout_api.problems import ProblemException, problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import BASE58_KEY, ApiModel
from missout_api.signed import SignedFields, admit, check_request, refusal, spend_nonce

if TYPE_CHECKING:
    from missout.referrals.claims import Claim

router = APIRouter(tags=["referrals"], route_class=LazyAPIRoute)


Wallet = Annotated[str, Path(pattern=BASE58_KEY, description="the wallet (base58)")]
PageLimit = Annotated[int, Query(ge=1, le=100)]
BeforeId = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="`next_before_id` of the previous page")
]


class RegisterIn(SignedFields):
    wallet: str = Field(pattern=BASE58_KEY, description="the referred wallet: the signer")
    referrer: str = Field(pattern=BASE58_KEY, description="the wallet that referred it")
    source: Literal["link", "code", "manual"] = "link"


class RelationOut(ApiModel):
    wallet: str
    referrer: str
    created_at: datetime


class BalanceOut(ApiModel):
    mint: str
    decimals: int
    symbol: str | None
    earned: str = Field(description="base units: pending + claiming + claimed")
    pending: str = Field(description="base units, claimable now")
    claiming: str = Field(description="base units in claims being paid")
    claimed: str = Field(description="base units paid")


class SummaryOut(ApiModel):
    wallet: str
    referrer: str | None
    invited: int
    balances: list[BalanceOut]


class RewardOut(ApiModel):
    id: int
    pool_id: int
    mint: str
    decimals: int
    amount: str
    created_at: datetime


class RewardsPage(ApiModel):
    items: list[RewardOut]
    next_before_id: int | None


class InvitedOut(ApiModel):
    id: int
    wallet: str
    source: str
    created_at: datetime


class InvitedPage(ApiModel):
    items: list[InvitedOut]
    next_before_id: int | None


class ClaimIn(SignedFields):
    mint: str = Field(pattern=BASE58_KEY, description="the mint whose pending rewards to claim")


class ClaimOut(ApiModel):
    id: int
    wallet: str
    mint: str
    amount: str
    status: Literal["queued", "sending", "paid", "failed"]
    signature: str | None = Field(description="the payout transaction, once signed")
    error: str | None = Field(description="why a failed claim failed (its amount is pending again)")
    created_at: datetime
    completed_at: datetime | None


class ClaimsPage(ApiModel):
    items: list[ClaimOut]
    next_before_id: int | None


def _claim_out(claim: Claim) -> ClaimOut:
    return ClaimOut(
        id=claim.id,
        wallet=claim.wallet,
        mint=claim.mint,
        amount=str(claim.amount),
        status=claim.status,
        signature=claim.signature,
        error=claim.error,
        created_at=claim.created_at,
        completed_at=claim.completed_at,
    )


def _next(ids: list[int], limit: int) -> int | None:
    return ids[-1] if len(ids) == limit else None


@router.post(
    "/referrals", response_model=RelationOut, status_code=201, responses=problem_responses(400, 401, 409)
)
@offloaded
def post_referral(request: Request, limits: Limits, body: RegisterIn) -> RelationOut:
    """Bind the signing wallet to its referrer: first referrer wins forever, no self-referral, no cycles,
    not after the wallet joined a pool."""
    from missout.referrals.register import RegistrationRefused, register_referrer

    signed = check_request(body, body.wallet, Action.REFERRAL_REGISTER)
    if body.referrer == body.wallet:
        raise ProblemException(
            422,
            "Invalid request",
            "invalid value for: referrer",
            type_="/problems/invalid-request",
            errors=[{"field": "referrer", "in": "body", "message": "a wallet cannot refer itself"}],
        )
    admit(request, limits, body.wallet)
    try:
        with transaction() as conn:
            spend_nonce(conn, signed)
            relation = register_referrer(conn, body.wallet, body.referrer, body.source)
    except RegistrationRefused as refused:
        raise refusal(refused, type_prefix="referral-", referrer=refused.current_referrer) from None
    return RelationOut(wallet=relation.referred, referrer=relation.referrer, created_at=relation.created_at)


@router.post(
    "/referrals/{wallet}/claim",
    response_model=ClaimOut,
    status_code=202,
    responses=problem_responses(400, 401, 409),
)
@offloaded
def post_claim(request: Request, limits: Limits, wallet: Wallet, body: ClaimIn) -> ClaimOut:
    """Move the wallet's pending rewards in `mint` (up to the per-claim cap) into a queued claim; the
    monitor pays it from the treasury. 202: queued, follow it at GET /api/referrals/claims/{id}."""
    from missout.referrals.claims import ClaimRefused, open_claim

    signed = check_request(body, wallet, Action.REFERRAL_CLAIM)
    admit(request, limits, wallet)
    try:
        with transaction() as conn:
            spend_nonce(conn, signed)
            claim = open_claim(conn, wallet, body.mint, api_settings().referral_claim_cap)
    except ClaimRefused as refused:
        raise refusal(refused, type_prefix="claim-") from None
    return _claim_out(claim)


@router.get("/referrals/claims/{claim_id}", response_model=ClaimOut, responses=problem_responses(404))
@offloaded
def get_claim(
    request: Request, limits: Limits, claim_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> ClaimOut:
    from missout.referrals.claims import claim_by_id

    claim = counted_read(request, limits, lambda conn: claim_by_id(conn, claim_id))
    if claim is None:
        raise ProblemException(
            404, "Not found", f"no claim has id {claim_id}", type_="/problems/claim-not-found"
        )
    return _claim_out(claim)


@router.get("/referrals/{wallet}", response_model=SummaryOut, responses=problem_responses())
@offloaded
def get_summary(request: Request, limits: Limits, wallet: Wallet) -> SummaryOut:
    from missout.referrals.reads import summary

    found = counted_read(request, limits, lambda conn: summary(conn, wallet))
    return SummaryOut(
        wallet=found.wallet,
        referrer=found.referrer,
        invited=found.invited,
        balances=[
            BalanceOut(
                mint=b.mint,
                decimals=b.decimals,
                symbol=b.symbol,
                earned=str(b.earned),
                pending=str(b.pending),
                claiming=str(b.claiming),
                claimed=str(b.claimed),
            )
            for b in found.balances
        ],
    )


@router.get("/referrals/{wallet}/rewards", response_model=RewardsPage, responses=problem_responses())
@offloaded
def get_rewards(
    request: Request, limits: Limits, wallet: Wallet, limit: PageLimit = 20, before_id: BeforeId = None
) -> RewardsPage:
    from missout.referrals.reads import rewards

    rows = counted_read(request, limits, lambda conn: rewards(conn, wallet, limit, before_id))
    return RewardsPage(
        items=[
            RewardOut(
                id=r.id,
                pool_id=r.pool_id,
                mint=r.mint,
                decimals=r.decimals,
                amount=str(r.amount),
                created_at=r.created_at,
            )
            for r in rows
        ],
        next_before_id=_next([r.id for r in rows], limit),
    )


@router.get("/referrals/{wallet}/invited", response_model=InvitedPage, responses=problem_responses())
@offloaded
def get_invited(
    request: Request, limits: Limits, wallet: Wallet, limit: PageLimit = 20, before_id: BeforeId = None
) -> InvitedPage:
    from missout.referrals.reads import invited

    rows = counted_read(request, limits, lambda conn: invited(conn, wallet, limit, before_id))
    return InvitedPage(
        items=[InvitedOut(id=r.id, wallet=r.wallet, source=r.source, created_at=r.created_at) for r in rows],
        next_before_id=_next([r.id for r in rows], limit),
    )


@router.get("/referrals/{wallet}/claims", response_model=ClaimsPage, responses=problem_responses())
@offloaded
def get_claims(
    request: Request, limits: Limits, wallet: Wallet, limit: PageLimit = 20, before_id: BeforeId = None
) -> ClaimsPage:
    from missout.referrals.claims import claims_of

    rows = counted_read(request, limits, lambda conn: claims_of(conn, wallet, limit, before_id))
    return ClaimsPage(items=[_claim_out(c) for c in rows], next_before_id=_next([c.id for c in rows], limit))
