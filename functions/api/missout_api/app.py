"""The FastAPI application: the same object is served by uvicorn locally and by Mangum on Lambda."""

from __future__ import annotations

from fastapi import FastAPI

from missout_api.problems import install_problem_handlers, install_problem_schema
from missout_api.request_context import RequestContext
from missout_api.routes import fairness, health, leaderboard, pools, profiles, referrals, reports, wallets
from missout_api.routes import monitor as monitor_routes


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
    app.include_router(fairness.router, prefix="/api")
    app.include_router(wallets.router, prefix="/api")
    app.include_router(profiles.router, prefix="/api")
    app.include_router(referrals.router, prefix="/api")
    app.include_router(leaderboard.router, prefix="/api")
    app.include_router(monitor_routes.router, prefix="/api")
    install_problem_schema(app)
    return app
