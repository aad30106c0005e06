"""A reported on-chain action, proven and recorded (the routes are declared in `missout_api.routes.reports`):
one short database transaction before any RPC, the proof on chain, then the answer."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from missout.blocking import run_blocking
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
from missout.pools.reports import ActionRecord, find_live_pool, find_uses
from missout.pools.transient import once_more_if_unavailable
from missout.ratelimit import LimitState, count_hits_later
from missout.wiring import ChainWiring, RateLimits
from missout_api.deps import counted, enforce, limits_for
from missout_api.problems import ProblemException
from missout_api.schemas import ActionRecordOut, PendingOut

PENDING_RETRY_AFTER_S = 10  # finalization takes ~13 s after a transaction lands
NO_STORE = "no-store"


async def handle_report(
    request: Request, response: Response, report: Report, chain: ChainWiring, limits: RateLimits
) -> ActionRecordOut | JSONResponse:
    states, known = await run_blocking(_preflight, request, limits, report)
    enforce(states)
    outcome = await report_action(report, chain, known)
    return _answer(response, outcome)


def _preflight(request: Request, limits: RateLimits, report: Report) -> tuple[list[LimitState], Known]:
    """One short transaction before any RPC: count the request, and look up what is already recorded."""

    def attempt() -> tuple[list[LimitState], Known]:
        with transaction() as conn:
            known = Known(uses=find_uses(conn, report.signature), live=find_live_pool(conn, report.pool))
            # Last: the upsert travels with the COMMIT, so it locks this IP's and wallet's counter rows only
            # while the COMMIT does.
            pending = count_hits_later(conn, limits_for(request, limits, wallet=report.wallet))
        return counted(request, pending), known

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
