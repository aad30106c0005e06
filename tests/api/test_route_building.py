"""What the API builds at init is less than FastAPI would, and the app that comes out is the same.

Our routers' routes are `LazyAPIRoute`s (missout_api.routes.lazy_route): FastAPI serves and documents them
through the copies `include_router` builds, so the routes' own build never runs. The rarer routers are
included as `DeferredRouter`s (missout_api.routes.deferred_router), whose modules load when first walked.
Either way the app is the one FastAPI's own route class and the modules' routers included directly make: the
same OpenAPI document byte for byte, the same included copies field by field.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from missout_api.deferred import ROUTERS
from missout_api.problems import problem_responses
from missout_api.routes.lazy_route import LazyAPIRoute
from missout_api.routes.pools import get_pool
from missout_api.schemas import PoolDetailOut
from tests.support.fresh_process import run_fresh

# The app as a fresh interpreter builds it: as written ("as-built"), with FastAPI's own route class swapped in
# before any router exists ("apiroute"), with each deferred module's router included directly
# ("routers-direct"), or with every route asked for its own state before FastAPI makes its copies
# ("built-first"). It prints its OpenAPI document and what every included copy of a route holds.
_APP_CHILD = """
import json, sys
from importlib import import_module
from missout_api.routes import deferred_router, lazy_route
DeferredRouter = deferred_router.DeferredRouter
if sys.argv[1] == "apiroute":
    from fastapi.routing import APIRoute
    lazy_route.LazyAPIRoute = APIRoute  # what the routers are built with: FastAPI's own route class
if sys.argv[1] == "routers-direct":
    deferred_router.DeferredRouter = lambda module: import_module(module).router
from fastapi.routing import iter_route_contexts
from missout_api.app import create_app

app = create_app()

def our_routes():
    return [r for included in app.router.routes if hasattr(included, "original_router")
            for r in included.original_router.routes]

if sys.argv[1] == "built-first":  # every route asked for its own state before FastAPI makes its copies
    for route in our_routes():
        assert route.dependant is not None and route.built
deferred = [r.original_router for r in app.router.routes
            if isinstance(getattr(r, "original_router", None), DeferredRouter)]
loaded_by_create_app = [router.module for router in deferred if router.loaded]
document = json.dumps(app.openapi())
assert all(router.loaded for router in deferred)  # the document walks every router
ours = our_routes()

from fastapi.datastructures import DefaultPlaceholder

def shown(value):  # a placeholder's repr names its address: show what it holds
    return f"Default({value.value!r})" if isinstance(value, DefaultPlaceholder) else repr(value)

def field(model_field):
    return None if model_field is None else [model_field.name, model_field.mode, repr(model_field.field_info)]

routes = []
for route in iter_route_contexts(app.routes):
    if route.original_route.__class__.__module__.startswith("starlette"):
        continue  # FastAPI's own /openapi.json and /docs
    dependant = route.dependant
    routes.append({
        "path": route.path, "path_format": route.path_format, "methods": sorted(route.methods),
        "name": route.name, "unique_id": route.unique_id, "status_code": route.status_code,
        "response_model": repr(route.response_model), "response_field": field(route.response_field),
        "response_fields": {str(k): field(v) for k, v in route.response_fields.items()},
        "body_field": field(route.body_field), "embed_body_fields": route._embed_body_fields,
        "tags": route.tags, "summary": route.summary, "description": route.description,
        "responses": repr(route.responses), "response_class": shown(route.response_class),
        "dependencies": repr(route.dependencies), "include_in_schema": route.include_in_schema,
        "stream_item_type": repr(route.stream_item_type), "is_json_stream": route.is_json_stream,
        "is_sse_stream": route.is_sse_stream, "operation_id": route.operation_id,
        "parameters": sorted(
            [kind, f.name, f.alias, repr(f.field_info)]
            for kind in ("path", "query", "header", "cookie", "body")
            for f in getattr(dependant, f"{kind}_params")
        ),
        "sub_dependencies": [d.call.__qualname__ for d in dependant.dependencies],
    })
built = [r.path for r in ours if getattr(r, "built", True)]
print(json.dumps({"document": document, "routes": routes, "built": built,
                  "deferred_routers": [router.module for router in deferred],
                  "loaded_by_create_app": loaded_by_create_app}))
"""


def _app(route_class: str) -> dict[str, Any]:
    return run_fresh(_APP_CHILD, route_class, env={})


def test_the_app_is_the_one_fastapis_own_routes_make() -> None:
    lazy, eager = _app("as-built"), _app("apiroute")
    assert len(lazy["routes"]) == 28  # every route of ours is compared
    assert lazy["document"] == eager["document"]  # the OpenAPI document, byte for byte
    for ours, fastapis in zip(lazy["routes"], eager["routes"], strict=True):
        assert ours == fastapis, ours["path"]
    # ...and the document and every copy were made without building one route of ours.
    assert lazy["built"] == []


def test_the_deferred_routers_include_what_their_modules_routers_would() -> None:
    deferred, direct = _app("as-built"), _app("routers-direct")
    assert deferred["deferred_routers"] == list(ROUTERS)  # in this order, all loaded by the document...
    assert deferred["loaded_by_create_app"] == []  # ...none by building the app
    assert direct["deferred_routers"] == []
    assert deferred["document"] == direct["document"]
    assert deferred["routes"] == direct["routes"]


def test_a_routes_module_includes_no_router() -> None:
    # What lets a DeferredRouter answer "no" for `_contains_router` without importing its module.
    for module in ROUTERS:
        assert not [r for r in import_module(module).router.routes if not isinstance(r, APIRoute)], module


def test_a_route_built_before_it_is_included_makes_the_same_app() -> None:
    # The build overwrites the declaration with FastAPI's own values (the response model read from the
    # endpoint's return annotation, the description from its docstring): the copies come out the same.
    built_first, eager = _app("built-first"), _app("apiroute")
    assert len(built_first["built"]) == 28
    assert built_first["document"] == eager["document"]
    assert built_first["routes"] == eager["routes"]


def test_a_route_asked_for_its_own_state_builds_it_as_apiroute_does() -> None:
    # Nothing in serving asks; code that does (a test, a tool walking a router) gets FastAPI's answer.
    declaration: dict[str, Any] = {"response_model": PoolDetailOut, "responses": problem_responses(404)}
    ours, fastapis = APIRouter(route_class=LazyAPIRoute), APIRouter()
    ours.add_api_route("/pools/{address}", get_pool, **declaration)
    fastapis.add_api_route("/pools/{address}", get_pool, **declaration)
    route, eager = ours.routes[0], fastapis.routes[0]
    assert isinstance(route, LazyAPIRoute)
    assert isinstance(eager, APIRoute)
    built_before = route.built
    unique_id = route.unique_id  # the first question builds it
    assert (built_before, route.built) == (False, True)
    assert unique_id == eager.unique_id == "get_pool_pools__address__get"
    assert [p.name for p in route.dependant.path_params] == [p.name for p in eager.dependant.path_params]
    assert route.response_field is not None
    assert eager.response_field is not None
    assert route.response_field.field_info.annotation is PoolDetailOut
    assert eager.response_field.field_info.annotation is PoolDetailOut
    assert route.path_regex.pattern == eager.path_regex.pattern
    assert route.methods == eager.methods == {"GET"}
    assert route.description == eager.description


def test_threads_asking_at_once_get_one_build() -> None:
    # uvicorn serves from a thread pool: every thread must see the one build, not a second one replacing it.
    router = APIRouter(route_class=LazyAPIRoute)
    router.add_api_route("/pools/{address}", get_pool, response_model=PoolDetailOut)
    route = router.routes[0]
    assert isinstance(route, LazyAPIRoute)
    start = threading.Barrier(8)

    def ask() -> object:
        start.wait()
        return route.dependant

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: ask(), range(8)))
    assert route.built
    assert all(answer is route.dependant for answer in answers)
