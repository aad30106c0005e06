"""API Lambda entry point: API Gateway HTTP API (payload 2.0) -> Mangum -> the FastAPI app.

The app is built at import (cold start) and reused by every invocation of this execution environment.
`lifespan="off"`: Mangum would otherwise run startup and shutdown on every request; there is nothing to set up
anyway, since the engine is lazy and keeps no pool behind pgBouncer.
"""

from __future__ import annotations

from missout.coldstart import begin_init, end_init

_collector_was_running = begin_init()  # before the heavy imports below: see missout.coldstart

import asyncio
import threading
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from missout.blocking import serving_one_request
from missout.observability import logger
from missout_api import snapstart
from missout_api.app import build_common_routes, create_app

_loops = threading.local()


def _ensure_event_loop() -> None:
    """Mangum runs the app on `asyncio.get_event_loop()`, which fails once anything in the process has run
    `asyncio.run` (it leaves the thread without a current loop) and in any thread but the main one. Each
    thread keeps one loop of its own and sets it before every call, so Mangum always finds a current loop.
    (Asking `get_event_loop()` first would warn on Python 3.12 whenever none is set.)"""
    loop: asyncio.AbstractEventLoop | None = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _loops.loop = loop
    asyncio.set_event_loop(loop)


# Mangum base64-encodes any body whose type is not in its text list; problem+json is not in the default one,
# so without this every error would reach clients as base64 (caught by the handler tests).
_TEXT_TYPES = ["text/", "application/json", "application/problem+json"]
_app = create_app()
build_common_routes(_app)  # the first health, list or detail request builds no route
_ensure_event_loop()  # Mangum's constructor asks for the current loop too
_asgi = Mangum(_app, lifespan="off", text_mime_types=_TEXT_TYPES)
# SnapStart (published versions only): warm everything before the snapshot, rebuild sockets after restore.
snapstart.register(_app)
end_init(_collector_was_running)


@logger().inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _ensure_event_loop()
    # One invocation, one request: the routes' blocking work runs on this thread, not a worker's
    # (missout.blocking).
    with serving_one_request():
        # Mangum types its own LambdaContext protocol; Powertools' class is the same object at run time.
        response: dict[str, Any] = _asgi(event, context)  # type: ignore[arg-type]
    return response
