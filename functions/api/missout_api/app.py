"""The FastAPI application: the same object is served by uvicorn locally and by Mangum on Lambda."""

from __future__ import annotations

from fastapi import FastAPI

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
