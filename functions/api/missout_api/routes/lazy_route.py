"""The route class of our routers: it keeps a route's declaration and builds FastAPI's state for it only if
something asks the route itself for that state, which serving the app never does (docs/architecture.md,
"Lambda facts the code relies on").

FastAPI (0.163) builds every included route twice. `@router.get(...)` builds an `APIRoute` at once: its
dependency tree, a pydantic adapter for every parameter and for the response, its request handler (about
1.7 ms of CPU a route on Python 3.11; 28 routes, a third of what our code added to the API's init, measured as
bench/figures/cold_start.py times it). Then `app.include_router` keeps the router and, on the first request
that walks it, builds its own copy of each of its routes with the prefix applied
(`_EffectiveRouteContext.from_api_route`): requests are matched and served by those copies, and the OpenAPI
document is made from them. The router's own route only lends its copy its declaration (path, endpoint,
response model, status code, tags, responses, ...) and its `get_route_handler`, which builds from the copy.

So a `LazyAPIRoute` sets at construction the declaration the copies read, as `APIRoute` stores it, and
nothing else; anything more (dependency tree, adapters, handler) is FastAPI's own build, run on the first
access to any of it. The copies come out the same as from an `APIRoute` (compared field by field and by the
OpenAPI document in tests/api/test_route_building.py, so a FastAPI release that reads more of the route fails
there). The copies the common requests walk are built at init (`missout_api.app.build_common_routes`), where
the declaration-time build used to warm the caches they share, so those requests build none.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import get_name

# What `APIRoute.__init__` takes beside the path and endpoint, with its default when the router leaves it out.
_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(APIRoute.__init__).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}

_build_lock = threading.RLock()


class LazyAPIRoute(APIRoute):
    _declared: dict[str, Any] | None  # what the router passed; None once FastAPI's own build has run

    def __init__(self, path: str, endpoint: Any, **declared: Any) -> None:
        self._declared = declared
        options = {**_DEFAULTS, **declared}
        # The declaration as `APIRoute` stores it (fastapi.routing._populate_api_route_state), for the
        # included copies, which read these and build the rest themselves.
        self.path = path
        self.endpoint = endpoint
        self.stream_item_type = None
        self.response_model = options["response_model"]
        self.status_code = options["status_code"]
        self.tags = options["tags"] or []
        self.dependencies = list(options["dependencies"] or [])
        self.summary = options["summary"]
        self.description = options["description"]
        self.response_description = options["response_description"]
        self.responses = options["responses"] or {}
        self.deprecated = options["deprecated"]
        self.methods = {method.upper() for method in options["methods"] or ["GET"]}
        self.operation_id = options["operation_id"]
        self.response_model_include = options["response_model_include"]
        self.response_model_exclude = options["response_model_exclude"]
        self.response_model_by_alias = options["response_model_by_alias"]
        self.response_model_exclude_unset = options["response_model_exclude_unset"]
        self.response_model_exclude_defaults = options["response_model_exclude_defaults"]
        self.response_model_exclude_none = options["response_model_exclude_none"]
        self.include_in_schema = options["include_in_schema"]
        self.response_class = options["response_class"]
        self.name = get_name(endpoint) if options["name"] is None else options["name"]
        self.dependency_overrides_provider = options["dependency_overrides_provider"]
        self.callbacks = options["callbacks"]
        self.openapi_extra = options["openapi_extra"]
        self.generate_unique_id_function = options["generate_unique_id_function"]
        self.strict_content_type = options["strict_content_type"]

    def __getattr__(self, name: str) -> Any:
        """Runs only for an attribute not set yet: builds the route as `APIRoute` does, then answers."""
        if name.startswith("__") or "_declared" not in self.__dict__:
            raise AttributeError(name)
        # Reentrant: `APIRoute.__init__` reading an attribute it has not set yet finds the build under way and
        # gets AttributeError, as on an `APIRoute`; another thread waits for the build and gets the attribute.
        with _build_lock:
            declared = self._declared
            if declared is not None:
                self._declared = None
                APIRoute.__init__(self, self.path, self.endpoint, **declared)
        return object.__getattribute__(self, name)

    @property
    def built(self) -> bool:
        """Whether FastAPI's own state was built for this route (never, when it is only served included)."""
        return self._declared is None
