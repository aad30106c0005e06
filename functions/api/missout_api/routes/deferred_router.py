"""A router that stands in for a routes module until FastAPI first reads its routes; then it imports the
module and hands over that module's routes.

The app is one list of included routers, and a request is matched against them in order until one matches in
full (starlette's Router, which FastAPI 0.163 keeps): health, reports and the pool reads come first, so the
requests most execution environments serve (health, the pool list and details) never look at the routers
after them. Those routers' modules (their models, their business imports, the signed-request code) cost
about 15 ms of CPU at init on Python 3.11 (bench/figures/cold_start.py), for routes few environments serve.
Included as a `DeferredRouter`, such a module is imported the first time FastAPI walks it: its first
request, a request that reaches it unmatched (an unknown path), or the OpenAPI document (built by
SnapStart's `before_snapshot`, so a restored snapshot has every router). The routes are the module's own
`router.routes`, declared with that router's prefix and tags, so what gets included is what including the
module's router would include (tests/api/test_route_building.py compares the OpenAPI documents).

FastAPI reads an included router's routes only through `routes` and, at `include_router`, through
`_contains_router` (which looks for the parent among the included routers). A routes module declares routes,
never includes routers (checked by the test above), so before it is imported the answer is known: no.
"""

from __future__ import annotations

import threading
from importlib import import_module
from typing import Any

from fastapi import APIRouter
from starlette.routing import BaseRoute

_load_lock = threading.Lock()


class DeferredRouter(APIRouter):
    def __init__(self, module: str) -> None:
        self.module = module
        self._module_routes: list[BaseRoute] | None = None
        super().__init__()  # prefix, tags and the rest as `APIRouter()`: the module's router applied its own

    @property
    def routes(self) -> list[BaseRoute]:
        if self._module_routes is None:
            with _load_lock:  # uvicorn serves from several threads: one import, one list
                if self._module_routes is None:
                    self._module_routes = import_module(self.module).router.routes
        return self._module_routes

    @routes.setter
    def routes(self, routes: list[BaseRoute]) -> None:
        # `APIRouter.__init__` gives every router an empty list; nothing else sets it.
        if routes:
            raise ValueError(f"{self.module} declares its own routes; none can be given to its stand-in")

    @property
    def loaded(self) -> bool:
        return self._module_routes is not None

    def _contains_router(self, router: APIRouter, seen: Any = None) -> bool:
        if self._module_routes is None:
            return False  # a routes module includes no router (see the module doc)
        return super()._contains_router(router, seen)
