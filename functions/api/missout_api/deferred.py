"""The routers and the database routes' business modules that load on first use, not at init.

Most execution environments serve the pool list and details; the referral, profile, wallet-activity and
monitor-status code runs in few of them, so each of those routes imports its module inside the request (the
first one pays about 1-4 ms, later ones nothing) instead of every cold start paying for all of them
(bench/figures/cold_start.py). What every request needs (the tables, rate limiting, settings, the pool reads)
stays imported at init.

The rarer routers themselves (`ROUTERS`) are included as `DeferredRouter`s: their modules, with their
models and the signed-request code, load on the first request that walks them
(missout_api.routes.deferred_router).

SnapStart's `before_snapshot` imports every module listed here, as it does the chain routes'
(`missout_api.onchain`), so a restored snapshot pays nothing on any first request.
tests/handlers/test_cold_start_imports.py keeps this list whole: every module a route imports inside a
function must be in it, in `missout_api.onchain.MODULES`, or named there as deliberately left out.
"""

from __future__ import annotations

# The routes modules included as `DeferredRouter`s, in the order the app includes them (that of the OpenAPI
# document): imported on the first request that walks them, not at init (missout_api.routes.deferred_router).
ROUTERS = (
    "missout_api.routes.fairness",
    "missout_api.routes.wallets",
    "missout_api.routes.profiles",
    "missout_api.routes.referrals",
    "missout_api.routes.leaderboard",
    "missout_api.routes.monitor",
)

MODULES = (
    "missout.monitor.status",
    "missout.profiles.activity",
    "missout.profiles.profile",
    "missout.referrals.claims",
    "missout.referrals.reads",
    "missout.referrals.register",
)
