"""Errors as RFC 9457 problem details (`application/problem+json`), for every way a request can fail.

Clients get one shape everywhere: a type, a title, the status, a human detail, the request id to quote to
support, and for validation errors the offending fields by name. Nothing internal (stack traces, SQL, hosts)
leaks into a response; it goes to the log under the same request id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from missout.chain.rpc import RpcError
from missout.db.transaction import DatabaseUnavailable
from missout.observability import logger

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5


class ProblemException(Exception):
    """Raise from a route to answer with a specific problem."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        type_: str = "about:blank",
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.type, self.extra = status, title, detail, type_, extra
        self.headers = dict(headers or {})


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    # ("query", "limit") -> "limit"; ("body", "pool", "amount") -> "pool.amount": the name the client sent.
    # A repeated query parameter is reported by position ("status", 1); the client only knows the name.
    parts = list(location[1:]) if len(location) > 1 else list(location)
    if location and location[0] == "query":
        parts = [p for p in parts if not isinstance(p, int)]
    return ".".join(str(p) for p in parts)


def _message(err: Mapping[str, Any]) -> str:
    """pydantic's message, plus the offending value when it is a short scalar (the client's own input)."""
    value = err.get("input")
    if isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) <= 100:
        return f"{err['msg']} (got {value!r})"
    return str(err["msg"])


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "field": _field_name(tuple(err.get("loc", ()))),
            "in": str(err.get("loc", ("",))[0]),
            "message": _message(err),
        }
        for err in exc.errors()
    ]
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(
        request,
        422,
        "Invalid request",
        f"invalid value for: {names}",
        type_="/problems/invalid-request",
        errors=errors,
    )


def _allowed_methods(request: Request) -> str:
    """Every method the OpenAPI document lists for this path. Starlette names only the first route that
    matched, but one path may be served by several routers (GET and POST /api/pools)."""
    app = request.app
    templates: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_templates", None)
    if templates is None:
        templates = [
            (re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"), list(item))
            for path, item in app.openapi().get("paths", {}).items()
        ]
        app.state.allow_templates = templates
    methods = {m.upper() for pattern, listed in templates if pattern.match(request.url.path) for m in listed}
    return ", ".join(sorted(methods))


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
            headers["Allow"] = _allowed_methods(request)
        return problem_response(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Request failed"),
            detail,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, exc)

    @app.exception_handler(ProblemException)
    async def domain_problem(request: Request, exc: ProblemException) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.title, exc.detail, type_=exc.type, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(RpcError)
    async def chain_down(request: Request, exc: RpcError) -> JSONResponse:
        return dependency_unavailable(request, "chain", "the Solana RPC endpoints are unavailable", exc)

    @app.exception_handler(TimeoutError)
    async def database_too_slow(request: Request, exc: TimeoutError) -> JSONResponse:
        # pg8000's socket timeout while waiting for the database (or pgBouncer's queue): the dependency is
        # overloaded, not the request wrong.
        return dependency_unavailable(request, "database", "the database is unavailable", exc)

    @app.exception_handler(DatabaseUnavailable)
    async def database_down(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return dependency_unavailable(request, "database", "the database is unavailable", exc)


def dependency_unavailable(
    request: Request, dependency: str, what: str, exc: BaseException | None = None, **extra: Any
) -> JSONResponse:
    """503 + Retry-After naming the dependency; the cause goes to the log, never to the client."""
    if exc is not None:
        logger().warning(f"{dependency} unavailable", extra={"error": str(exc)[:300]})
    return problem_response(
        request,
        503,
        "Service unavailable",
        f"{what}; retry shortly",
        type_="/problems/dependency-unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        dependency=dependency,
        **extra,
    )


def internal_error(request: Request) -> JSONResponse:
    return problem_response(request, 500, "Internal error", "the server failed to answer this request")


# -- OpenAPI ------------------------------------------------------------------------------------------------

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 0}}
}
_DESCRIPTIONS = {
    400: "the body is not valid JSON",
    404: "no such resource",
    409: "the signature was already used for another action",
    422: "invalid request, or a report the chain does not prove (`reason` says why)",
    429: "rate limited",
    503: "the database or the chain is unavailable",
}
_WITH_RETRY_AFTER = {429, 503}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem+json answers: every route lists the ones it can give (always
    422, 429 and 503), so generated clients and schemathesis know the content type and shape."""
    wanted = sorted({422, 429, 503, *codes})
    responses: dict[int | str, dict[str, Any]] = {}
    for code in wanted:
        entry: dict[str, Any] = {
            "description": _DESCRIPTIONS.get(code, "problem"),
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
        }
        if code in _WITH_RETRY_AFTER:
            entry["headers"] = _RETRY_AFTER
        responses[code] = entry
    return responses


def install_problem_schema(app: FastAPI) -> None:
    """Add the `Problem` schema (and what it refers to) to the generated document's components."""
    from missout_api.schemas import Problem

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(schema.pop("$defs", {}))
        components["Problem"] = schema
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
