"""Reported on-chain actions: `POST /api/pools` after create_pool, `POST /api/pools/{address}/{action}` after
join, donate, cancel, claim-refund or claim-rent. Each is proven on chain before anything is recorded.

Answers: 201 recorded; 200 the same report again (same record); 202 + Retry-After not finalized yet; 404 pool
unknown; 409 signature already used for something else; 422 the chain does not prove it (`reason`); 429 rate
limited (per IP and per wallet); 503 + Retry-After the database or the chain is down.

The work behind the routes (the verifier, the RPC client) lives in `missout_api.onchain.reports`, imported by
the first report (see `missout_api.onchain`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from missout.pools.actions import Action, Report
from missout_api.deps import Chain, Limits
from missout_api.problems import problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import (
    BASE58_KEY,
    ActionRecordOut,
    DonationReport,
    EntryReport,
    PendingOut,
    PlainReport,
    PoolReport,
)

router = APIRouter(tags=["reports"], route_class=LazyAPIRoute)

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
    from missout_api.onchain.reports import handle_report  # the chain stack, on first use

    return await handle_report(request, response, report, chain, limits)
