"""GET /api/monitor/status: the monitor's state as the database records it (read-only; there is no way to
start, stop or steer the monitor over HTTP, docs/original-backend.md W3). A database outage answers the
app-wide 503 problem (`missout_api.problems`).

`missout.monitor.status` is imported on the first status request, not at init (`missout_api.deferred`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from missout.blocking import offloaded
from missout.db import transaction
from missout_api.problems import problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute

router = APIRouter(prefix="/monitor", tags=["monitor"], route_class=LazyAPIRoute)


@router.get("/status", responses=problem_responses())
@offloaded
def status() -> Any:
    from missout.monitor.status import monitor_status

    with transaction() as conn:
        current = monitor_status(conn)
    synced = current.last_pool_sync_at
    return JSONResponse(
        {
            **asdict(current),
            "now": current.now.isoformat(),
            "last_pool_sync_at": synced.isoformat() if synced else None,
        }
    )
