"""GET /health: is the database reachable through the same pooled path the API uses."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from missout.blocking import offloaded
from missout.db import app_engine, app_plan
from missout.db.health import probe
from missout_api.problems import dependency_unavailable, problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.schemas import DatabaseStatus, Health

router = APIRouter(tags=["health"], route_class=LazyAPIRoute)


# Only the 503 of the problem answers: /health takes no parameters and is not rate limited.
@router.get("/health", response_model=Health, responses={503: problem_responses()[503]})
@offloaded
def health(request: Request) -> Health | JSONResponse:
    result = probe(app_engine(), app_plan())
    database = DatabaseStatus(
        reachable=result.ok,
        latency_ms=result.latency_ms,
        server_version=result.server_version,
        pgbouncer=result.behind_pooler,
        pooler_reason=result.pooler_reason,
        target=result.target,
    )
    if not result.ok:
        return dependency_unavailable(
            request, "database", "the database is unreachable", database=database.model_dump(mode="json")
        )
    return Health(status="ok", time=datetime.now(UTC), database=database)
