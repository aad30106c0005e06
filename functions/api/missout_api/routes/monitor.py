"""GET /api/monitor/status: the monitor's state as the database records it (read-only; there is no way to
start, stop or steer the monitor over HTTP, docs/original-backend.md W3)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from missout.db import DatabaseUnavailable, transaction
from missout.monitor.status import monitor_status
from missout_api.problems import RETRY_AFTER_SECONDS, problem_response

router = APIRouter(prefix="/monitor", tags=["monitor"])


@router.get("/status", responses={503: {"description": "database unreachable"}})
def status(request: Request) -> Any:
    try:
        with transaction() as conn:
            current = monitor_status(conn)
    except DatabaseUnavailable:
        return problem_response(
            request,
            503,
            "Service unavailable",
            "the database is unreachable",
            type_="/problems/dependency-unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            dependency="database",
        )
    body = asdict(current)
    return JSONResponse(
        {
            **body,
            "now": current.now.isoformat(),
            "last_pool_sync_at": current.last_pool_sync_at.isoformat() if current.last_pool_sync_at else None,
        }
    )
