"""The FastAPI application: the same object is served by uvicorn locally and by Mangum on Lambda."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from missout.observability import logger
from missout_api.deps import rate_limit_headers
from missout_api.problems import install_problem_handlers, install_problem_schema, internal_error
from missout_api.routes import fairness, health, leaderboard, pools, profiles, referrals, reports, wallets
from missout_api.routes import monitor as monitor_routes

_REQUEST_ID_HEADER = "x-request-id"


def _request_id(request: Request) -> str:
    # On Lambda the API Gateway request id ties our log lines to API Gateway's access log.
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        rid = event.get("requestContext", {}).get("requestId")
        if isinstance(rid, str) and rid:
            return rid
    header = request.headers.get(_REQUEST_ID_HEADER, "")
    if 0 < len(header) <= 128 and header.isprintable():
        return header
    return str(uuid.uuid4())


async def _request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Correlation id, access log and the last line of defence: no exception escapes as a bare 500."""
    request.state.request_id = _request_id(request)
    log = logger()
    log.set_correlation_id(request.state.request_id)
    started = time.perf_counter()
    try:
        response = await call_next(request)
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": request.url.path})
        response = internal_error(request)
    response.headers[_REQUEST_ID_HEADER] = request.state.request_id
    # Set by the rate limiter on every counted request, including refused and failed ones.
    response.headers.update(rate_limit_headers(getattr(request.state, "rate_limit", [])))
    log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return response


def create_app() -> FastAPI:
    app = FastAPI(
        title="MissOut API",
        version="0.1.0",
        description="Off-chain record and verification service for MissOut lottery pools on Solana.",
    )
    app.middleware("http")(_request_context)
    install_problem_handlers(app)
    app.include_router(health.router)
    # Reports first: `/pools/{address}/{action}` and `/pools` POST never collide with the reads, but keeping
    # the order fixed keeps the OpenAPI document stable.
    app.include_router(reports.router, prefix="/api")
    app.include_router(pools.router, prefix="/api")
    app.include_router(fairness.router, prefix="/api")
    app.include_router(wallets.router, prefix="/api")
    app.include_router(profiles.router, prefix="/api")
    app.include_router(referrals.router, prefix="/api")
    app.include_router(leaderboard.router, prefix="/api")
    app.include_router(monitor_routes.router, prefix="/api")
    install_problem_schema(app)
    return app
