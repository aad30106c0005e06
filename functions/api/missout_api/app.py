"""The FastAPI application: the same object is served by uvicorn locally and by Mangum on Lambda."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Match

from missout_api import deferred
from missout_api.problems import install_problem_handlers, install_problem_schema
from missout_api.request_context import RequestContext
from missout_api.routes import health, pools, reports
from missout_api.routes.deferred_router import DeferredRouter


def create_app() -> FastAPI:
    app = FastAPI(
        title="MissOut API",
        version="0.1.0",
        description="Off-chain record and verification service for MissOut lottery pools on Solana.",
    )
    app.add_middleware(RequestContext)
    install_problem_handlers(app)
    app.include_router(health.router)
    # Reports first: `/pools/{address}/{action}` and `/pools` POST never collide with the reads, but keeping
    # the order fixed keeps the OpenAPI document stable.
    app.include_router(reports.router, prefix="/api")
    app.include_router(pools.router, prefix="/api")
    # Health and the pool reads, the requests most environments serve, match before any router below is
    # walked: those routers' modules are imported when first walked (missout_api.routes.deferred_router).
    for module in deferred.ROUTERS:
        app.include_router(DeferredRouter(module), prefix="/api")
    install_problem_schema(app)
    return app


# A request the most environments serve first: matching it walks the routers every such request walks (health,
# reports, the pool reads) and no further.
_POOL_LIST = {"type": "http", "method": "GET", "path": "/api/pools", "root_path": ""}


def build_common_routes(app: FastAPI) -> None:
    """Build, at init, FastAPI's copies of the routes that health and the pool reads walk.

    FastAPI builds an included router's copies of its routes on the first request that walks it (see
    missout_api.routes.lazy_route), and the first build of any route also fills caches FastAPI, pydantic and
    `re` keep for the process. Matching the pool list here, as its first request would, moves that work into
    init, where the discarded declaration-time build used to fill those caches: a cold start's first health,
    list or detail request then builds nothing. The rarer routers stay unwalked
    (missout_api.routes.deferred_router).
    """
    for route in app.router.routes:
        match, _ = route.matches(dict(_POOL_LIST))
        if match is Match.FULL:
            return
    raise LookupError("no route serves the pool list")
