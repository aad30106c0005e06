"""Reported on-chain actions: `POST /api/pools` after create_pool, `POST /api/pools/{address}/{action}` after
join, donate, cancel, claim-refund or claim-rent. Each is proven on chain before anything is recorded.

Answers: 201 recorded; 200 the same report again (same record); 202 + Retry-After not finalized yet; 404 pool
unknown; 409 signature already used for something else; 422 the chain does not prove it (`reason`); 429 rate
limited (per IP and per wallet); 503 + Retry-After the database or the chain is down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from missout.db.transaction import transaction
from missout.pools.reporting import (
    Known,
    Outcome,
    Pending,
    PoolUnknown,
    Recorded,
    Rejected,
    Report,
    SignatureTaken,
    report_action,
)
from missout.pools.reports import Action, ActionRecord, find_live_pool, find_uses
from missout.pools.transient import once_more_if_unavailable
from missout.ratelimit import LimitState
from missout_api.deps import Chain, Limits, count_request, enforce, limits_for
from missout_api.problems import ProblemException, problem_responses
from missout_api.schemas import (
    BASE58_KEY,
    ActionRecordOut,
    DonationReport,
    EntryReport,
    PendingOut,
    PlainReport,
    PoolReport,
)

router = APIRouter(tags=["reports"])

PENDING_RETRY_AFTER_S = 10  # finalization takes ~13 s after a transaction lands
NO_STORE = "no-store"

_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the same report was recorded before: the same record", "model": ActionRecordOut},
    202: {
        "description": "not finalized (or not found) yet: nothing recorded, report again after Retry-After",
        "model": PendingOut,
        "headers": {"Retry-After": {"description": "seconds", "schema": {"type": "integer", "minimum": 0}}},
    },
    **problem_responses(400, 404, 409),
}


@router.post(
    "/pools",
    status_code=201,
    response_model=ActionRecordOut,
    responses=_REPORT_RESPONSES,
    summary="Register a pool after create_pool",
)
async def report_create(
    request: Request, response: Response, body: PoolReport, chain: Chain, limits: Limits
) -> ActionRecordOut | JSONResponse:
    report = Report(Action.CREATE, body.pool, body.signature, body.wallet)
    return await _handle(request, response, report, chain, limits)


_Route = TypeVar("_Route", bound=Callable[..., Awaitable[Any]])
Address = Annotated[str, Path(pattern=BASE58_KEY, description="the Pool account")]


def _action_route(action: Action, summary: str) -> Callable[[_Route], _Route]:
    return router.post(
        f"/pools/{{address}}/{action.value}",
        status_code=201,
        response_model=ActionRecordOut,
        responses=_REPORT_RESPONSES,
        summary=summary,
        name=f"report_{action.name.lower()}",
    )


@_action_route(Action.JOIN, "Record a join_pool")
async def report_join(
    request: Request, response: Response, address: Address, body: EntryReport, chain: Chain, limits: Limits
) -> ActionRecordOut | JSONResponse:
    return await _handle(request, response, _report(Action.JOIN, address, body, body.amount), chain, limits)


@_action_route(Action.DONATE, "Record a donation")
async def report_donate(
    request: Request, response: Response, address: Address, body: DonationReport, chain: Chain, limits: Limits
) -> ActionRecordOut | JSONResponse:
    return await _handle(request, response, _report(Action.DONATE, address, body, body.amount), chain, limits)


@_action_route(Action.CANCEL, "Record a cancel_pool")
async def report_cancel(
    request: Request, response: Response, address: Address, body: PlainReport, chain: Chain, limits: Limits
) -> ActionRecordOut | JSONResponse:
    return await _handle(request, response, _report(Action.CANCEL, address, body, None), chain, limits)


@_action_route(Action.CLAIM_REFUND, "Record a claim_refund")
async def report_claim_refund(
    request: Request, response: Response, address: Address, body: EntryReport, chain: Chain, limits: Limits
) -> ActionRecordOut | JSONResponse:
    report = _report(Action.CLAIM_REFUND, address, body, body.amount)
    return await _handle(request, response, report, chain, limits)


@_action_route(Action.CLAIM_RENT, "Record a claim_rent")
async def report_claim_rent(
    request: Request, response: Response, address: Address, body: PlainReport, chain: Chain, limits: Limits
) -> ActionRecordOut | JSONResponse:
    return await _handle(request, response, _report(Action.CLAIM_RENT, address, body, None), chain, limits)


def _report(
    action: Action, address: str, body: PlainReport | EntryReport | DonationReport, amount: str | None
) -> Report:
    return Report(action, address, body.signature, body.wallet, None if amount is None else int(amount))


async def _handle(
    request: Request, response: Response, report: Report, chain: Chain, limits: Limits
) -> ActionRecordOut | JSONResponse:
    states, known = await run_in_threadpool(_preflight, request, limits, report)
    enforce(states)
    outcome = await report_action(report, chain, known)
    return _answer(response, outcome)


def _preflight(request: Request, limits: Limits, report: Report) -> tuple[list[LimitState], Known]:
    """One short transaction before any RPC: count the request, and look up what is already recorded."""

    def attempt() -> tuple[list[LimitState], Known]:
        with transaction() as conn:
            known = Known(uses=find_uses(conn, report.signature), live=find_live_pool(conn, report.pool))
            # Last: the upsert locks this IP's and wallet's counter rows until the commit right after it.
            states = count_request(conn, request, limits_for(request, limits, wallet=report.wallet))
        return states, known

    return once_more_if_unavailable(attempt)


def _answer(response: Response, outcome: Outcome) -> ActionRecordOut | JSONResponse:
    response.headers["Cache-Control"] = NO_STORE
    match outcome:
        case Recorded(record=record, created=created):
            response.status_code = 201 if created else 200
            return record_out(record)
        case Pending(detail=detail):
            return JSONResponse(
                PendingOut(status="pending", detail=detail, retry_after_s=PENDING_RETRY_AFTER_S).model_dump(),
                status_code=202,
                headers={"Retry-After": str(PENDING_RETRY_AFTER_S), "Cache-Control": NO_STORE},
            )
        case PoolUnknown(detail=detail):
            raise ProblemException(404, "Not found", detail, type_="/problems/pool-not-found")
        case SignatureTaken(first_use=first, reason=reason):
            extra: dict[str, Any] = {"first_use": record_out(first).model_dump(mode="json")}
            if reason is not None:
                extra["reason"] = reason.reason.value
            raise ProblemException(
                409,
                "Signature already used",
                f"{first.signature} was already recorded as {first.action.value} on pool {first.pool_address}"
                f" by {first.wallet}",
                type_="/problems/signature-used",
                **extra,
            )
        case Rejected(reason=reason, detail=detail):
            raise ProblemException(
                422, "Report not proven", detail, type_="/problems/rejected-report", reason=reason
            )
    raise AssertionError(f"unexpected outcome {outcome!r}")


def record_out(record: ActionRecord) -> ActionRecordOut:
    return ActionRecordOut(
        signature=record.signature,
        action=record.action.value,
        pool_id=record.pool_id,
        pool=record.pool_address,
        wallet=record.wallet,
        amount=str(record.amount),
        slot=record.slot,
        block_time=record.block_time,
        recorded_at=record.recorded_at,
        pool_unpayable_reason=record.pool_unpayable_reason,
    )
