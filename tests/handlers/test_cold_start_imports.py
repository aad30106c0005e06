"""The monitor never pays for FastAPI, neither handler touches the network or AWS at import, and the API
leaves its chain stack and the business code of its rarer routes to the routes that need it (loaded on first
use, and by SnapStart's warm-up)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from missout_api import deferred, onchain
from tests.support.database import TestDatabase
from tests.support.fresh_process import run_fresh
from tests.support.stack import REPO

if TYPE_CHECKING:
    from pathlib import Path

# What only the chain routes (reports, fairness) need: never imported by `import missout_api.handler`.
API_CHAIN_STACK = (
    "solana",
    "solders",
    "httpx2",
    "missout.chain.switchboard",
    "missout.chain.verify",
    "missout.chain.rpc.failover",
    "missout.chain.program",
    "missout.pools.reporting",
    "missout_api.onchain.fairness",
    "missout_api.onchain.reports",
)


def _modules_after_import(module: str, then: str = "") -> set[str]:
    code = f"import json, sys, {module}\n{then}\nprint(json.dumps({{'modules': sorted(sys.modules)}}))"
    return set(run_fresh(code, env={})["modules"])


def test_monitor_handler_does_not_import_fastapi_or_starlette() -> None:
    loaded = _modules_after_import("missout_monitor.handler")
    assert "missout_monitor.handler" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("fastapi", "starlette", "mangum")}


def test_monitor_handler_leaves_the_verifier_to_discovery_and_payout_reads() -> None:
    # Only a newly found pool or a payout read needs a transaction fetched and viewed (measured: ~10 ms of
    # init on both interpreters for the whole verifier package). The payout reader itself loads with the
    # first paid pool (tests/monitor/test_handler_cold_paths.py).
    loaded = _modules_after_import("missout_monitor.handler")
    assert "missout.monitor.discover" in loaded
    assert "missout.monitor.payout_tx" not in loaded
    assert not {m for m in loaded if m.startswith("missout.chain.verify")}


def test_handlers_import_without_boto3() -> None:
    # boto3 is only needed when a secret ARN is configured; importing it costs ~100 ms of cold start.
    for module in ("missout_monitor.handler", "missout_api.handler"):
        loaded = _modules_after_import(module)
        assert module in loaded
        assert "boto3" not in loaded


def test_neither_handler_loads_pydantic_settings() -> None:
    # The settings groups are plain pydantic models (missout.settings): pydantic-settings' sources cost
    # 10-14 ms of each cold start.
    for module in ("missout_monitor.handler", "missout_api.handler"):
        loaded = _modules_after_import(module)
        assert "missout.settings" in loaded
        assert not {m for m in loaded if m.split(".")[0] in ("pydantic_settings", "dotenv")}, module


def test_api_handler_import_leaves_the_chain_stack_to_the_routes_that_need_it() -> None:
    loaded = _modules_after_import("missout_api.handler")
    assert "missout_api.handler" in loaded
    assert not [m for m in API_CHAIN_STACK if m in loaded]


# Our pydantic models (API bodies and responses, settings groups) whose validator is built; each is deferred
# to its first use (`ApiModel`, `missout.settings._Group`), so init builds none of them.
_BUILT_MODELS = """
def built_models():
    from pydantic import BaseModel
    built, pending = set(), list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("missout") and model.__pydantic_complete__:
            built.add(model.__name__)
    return sorted(built)
"""


def test_handler_init_builds_none_of_our_models() -> None:
    for module in ("missout_api.handler", "missout_monitor.handler"):
        code = f"import json, {module}\n{_BUILT_MODELS}\nprint(json.dumps({{'built': built_models()}}))"
        assert run_fresh(code, env={})["built"] == [], module


def test_handler_init_pauses_the_collector_and_freezes_what_it_built() -> None:
    # Without the pause, the imports run full (generation 2) collections that find nothing to free.
    code = (
        "import gc, json, {module}\n"
        "print(json.dumps({{'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count(),"
        " 'full_collections': gc.get_stats()[2]['collections']}}))"
    )
    for module in ("missout_api.handler", "missout_monitor.handler"):
        state = run_fresh(code.format(module=module), env={})
        assert state["enabled"], module
        assert state["frozen"] > 10_000, module  # the modules, classes and functions init made
        assert state["full_collections"] == 0, module


def test_a_host_that_turned_the_collector_off_keeps_it_off() -> None:
    code = (
        "import gc, json\ngc.disable()\nfrom missout.coldstart import begin_init, end_init\n"
        "end_init(begin_init())\nprint(json.dumps({'enabled': gc.isenabled()}))"
    )
    assert run_fresh(code, env={}) == {"enabled": False}


def test_api_handler_import_leaves_the_rarer_routes_business_modules_to_their_first_request() -> None:
    loaded = _modules_after_import("missout_api.handler")
    assert "missout_api.routes.pools" in loaded  # the routes most environments serve are registered...
    assert [m for m in deferred.MODULES if m in loaded] == []  # ...the rarer routes' code is not loaded
    # ...nor the rarer routers (missout_api.routes.deferred_router)
    assert [m for m in deferred.ROUTERS if m in loaded] == []


# Imported inside a route but never before a snapshot, and why.
NOT_WARMED = {
    # boto3 (S3): a snapshot must not start it (credentials would be frozen into every copy); only a profile
    # with an uploaded image, or an upload, needs it.
    "missout.profiles.avatars",
}


def _imports_inside_functions(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    found.add(inner.module)
                elif isinstance(inner, ast.Import):
                    found.update(alias.name for alias in inner.names)
    return found


def test_every_module_a_route_imports_on_first_use_is_warmed_before_the_snapshot() -> None:
    # A route module that defers an import without listing it would leave a restored snapshot to pay for it
    # on its first request: every deferred import must be in a list `before_snapshot` imports.
    routes = REPO / "functions" / "api" / "missout_api" / "routes"
    deferred_imports = set().union(*(_imports_inside_functions(p) for p in routes.glob("*.py")))
    assert {"missout.referrals.claims", "missout_api.onchain.reports"} <= deferred_imports  # the scan works
    warmed = set(deferred.MODULES) | set(onchain.MODULES)
    assert sorted(deferred_imports - warmed - NOT_WARMED) == []
    assert sorted(set(deferred.MODULES) - deferred_imports) == []  # nothing listed that no route defers


def test_snapstart_warm_up_loads_the_whole_chain_stack() -> None:
    # What `before_snapshot` imports: a restored snapshot must not pay for any of it on its first request.
    loaded = _modules_after_import(
        "missout_api.handler", "from missout_api.snapstart import warm_chain_modules; warm_chain_modules()"
    )
    assert [m for m in API_CHAIN_STACK if m not in loaded] == []
    assert "boto3" not in loaded


# The first requests most environments serve: the database reads. Deferring the chain stack is only a saving
# if they never load it; a fresh interpreter serves each through the real handler and says what got loaded.
_READS_CHILD = """
import copy, json, sys
from local_lambda import lambda_context
import missout_api.handler as api
from fastapi.routing import _EffectiveRouteContext

# FastAPI's copies of included routes (missout_api.routes.lazy_route): init builds those these requests walk
# (missout_api.app.build_common_routes), so the requests build none.
copies_built = []
_from_api_route = _EffectiveRouteContext.from_api_route
def _counted(**kwargs):
    copies_built.append(kwargs["original_route"].path)
    return _from_api_route(**kwargs)
_EffectiveRouteContext.from_api_route = _counted

template = json.load(open(sys.argv[1]))
statuses = []
for path in ("/health", "/api/pools", "/api/pools/11111111111111111111111111111112"):
    event = copy.deepcopy(template)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    statuses.append(api.handler(event, lambda_context("api", 29))["statusCode"])
loaded = sorted(m for m in sys.argv[2].split(",") if m in sys.modules)
# Our routes (missout_api.routes.lazy_route): served through the copies FastAPI includes, never built.
# (Listing them loads the rarer routers: after `loaded` is taken.)
routes = [r for included in api._app.router.routes if hasattr(included, "original_router")
          for r in included.original_router.routes]
built_routes = [r.path for r in routes if r.built]
print(json.dumps({"statuses": statuses, "loaded": loaded, "built": built_models(), "routes": len(routes),
                  "built_routes": built_routes, "copies_built": copies_built}))
"""


def test_the_database_reads_never_load_the_chain_stack_nor_the_rarer_routes_code(
    app_database: TestDatabase,
) -> None:
    template = str(REPO / "events" / "api_get_pools.json")
    result = run_fresh(
        _BUILT_MODELS + _READS_CHILD,
        template,
        ",".join((*API_CHAIN_STACK, *deferred.ROUTERS, *deferred.MODULES)),
        env={"DATABASE_URL": app_database.pooled_url},
    )
    assert result["statuses"] == [200, 200, 404]  # health, the list, an unknown pool's detail
    assert result["loaded"] == []  # neither the chain stack nor the rarer routers and routes' code
    assert result["routes"] == 28
    assert result["built_routes"] == []  # FastAPI's included copies serve them (lazy_route)...
    assert result["copies_built"] == []  # ...built at init for these requests (app.build_common_routes)
    # Deferred model building is only a saving if the first requests build what they serve, not everything:
    # the settings they read and the models they answer with, never the referral or profile models. (The pool
    # reads answer with dicts that FastAPI's adapter for their response model validates: routes/pools.py; the
    # model classes themselves need no build of their own.)
    built = set(result["built"])
    assert {"DatabaseSettings", "ApiSettings", "Health"} <= built
    assert not built & {
        "ClaimOut",
        "RegisterIn",
        "ProfileOut",
        "ProfileIn",
        "MonitorSettings",
        "SignerSettings",
    }


# The first request of each route whose code is deferred, served by a fresh handler: its module is absent
# before it and loaded after it, and the request is answered as usual.
_FIRST_USE_CHILD = """
import copy, json, sys
from local_lambda import lambda_context
import missout_api.handler as api

template = json.load(open(sys.argv[1]))
wallet = "11111111111111111111111111111112"
steps = []
for path, module in (
    ("/api/monitor/status", "missout.monitor.status"),
    (f"/api/profiles/{wallet}", "missout.profiles.profile"),
    (f"/api/wallets/{wallet}/activity", "missout.profiles.activity"),
    (f"/api/referrals/{wallet}", "missout.referrals.reads"),
    ("/api/referrals/claims/1", "missout.referrals.claims"),
):
    before = module in sys.modules
    event = copy.deepcopy(template)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    status = api.handler(event, lambda_context("api", 29))["statusCode"]
    steps.append([path, module, before, status, module in sys.modules])
print(json.dumps({"steps": steps}))
"""


def test_the_first_request_of_a_deferred_route_loads_its_module_and_is_answered(
    app_database: TestDatabase,
) -> None:
    template = str(REPO / "events" / "api_get_pools.json")
    result = run_fresh(_FIRST_USE_CHILD, template, env={"DATABASE_URL": app_database.pooled_url})
    statuses = {path: status for path, _, _, status, _ in result["steps"]}
    assert statuses == {
        "/api/monitor/status": 200,
        "/api/profiles/11111111111111111111111111111112": 200,
        "/api/wallets/11111111111111111111111111111112/activity": 200,
        "/api/referrals/11111111111111111111111111111112": 200,
        "/api/referrals/claims/1": 404,  # no such claim: answered after the claims code ran
    }
    assert [(module, before, after) for _, module, before, _, after in result["steps"]] == [
        (module, False, True) for _, module, _, _, _ in result["steps"]
    ]


# The rarer routers load as requests walk them (missout_api.routes.deferred_router): a request loads the
# routers before the one that serves it and that one, never those after it.
_ROUTERS_CHILD = """
import copy, json, sys
from local_lambda import lambda_context
import missout_api.handler as api

template = json.load(open(sys.argv[1]))
routers = sys.argv[2].split(",")
steps = []
for path in ("/api/wallets/11111111111111111111111111111112/activity", "/api/leaderboard/winners"):
    event = copy.deepcopy(template)
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    status = api.handler(event, lambda_context("api", 29))["statusCode"]
    steps.append([status, [m.rsplit(".", 1)[1] for m in routers if m in sys.modules]])
print(json.dumps({"steps": steps}))
"""


def test_a_request_loads_the_rarer_routers_up_to_the_one_that_serves_it(app_database: TestDatabase) -> None:
    result = run_fresh(
        _ROUTERS_CHILD,
        str(REPO / "events" / "api_get_pools.json"),
        ",".join(deferred.ROUTERS),
        env={"DATABASE_URL": app_database.pooled_url},
    )
    assert result["steps"] == [
        [200, ["fairness", "wallets"]],
        [200, ["fairness", "wallets", "profiles", "referrals", "leaderboard"]],
    ]
