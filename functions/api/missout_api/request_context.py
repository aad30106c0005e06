"""Around every request: the correlation id, the access log line, the rate-limit headers, the request's one
database connection (missout/db/scope.py), and the last line of defence (no exception escapes as a bare 500).

A plain ASGI middleware, not Starlette's `BaseHTTPMiddleware`: that one runs the rest of the app in a second
task and passes the response through memory streams, per request (bench/api_profile.py shows the cost).
"""

from __future__ import annotations

import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from missout.db.scope import connection_scope
from missout.observability import logger
from missout_api.deps import rate_limit_headers
from missout_api.problems import internal_error

REQUEST_ID_HEADER = "x-request-id"


def request_id(request: Request) -> str:
    # On Lambda the API Gateway request id ties our log lines to API Gateway's access log.
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        rid = event.get("requestContext", {}).get("requestId")
        if isinstance(rid, str) and rid:
            return rid
    header = request.headers.get(REQUEST_ID_HEADER, "")
    if 0 < len(header) <= 128 and header.isprintable():
        return header
    return str(uuid.uuid4())


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        rid = request.state.request_id = request_id(request)
        log = logger()
        log.set_correlation_id(rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = rid
                # Set by the rate limiter on every counted request, including refused and failed ones.
                headers.update(rate_limit_headers(getattr(request.state, "rate_limit", [])))
            await send(message)

        # The request's transactions share one database connection, closed when the request ends (a join's
        # preflight and its write: one login instead of two). Closing only writes to the socket: no wait.
        with connection_scope():
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                log.exception("unhandled error", extra={"method": request.method, "path": request.url.path})
                if response_started:
                    raise  # too late for a problem response: the client already has a status line
                await internal_error(request)(scope, receive, send_with_headers)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
