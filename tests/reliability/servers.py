"""Real HTTP servers on 127.0.0.1 for the RPC faults: any ASGI app served by uvicorn in the test's own event
loop, and an RPC node that answers only after the client has given up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tests.support.http_server import serve_on_this_loop


def free_port() -> int:
    """A loopback port nothing listens on right now (for a server started right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[str]:
    """`app` on the test's loop; its URL with the trailing slash the RPC endpoints are configured with."""
    async with serve_on_this_loop(app) as url:
        yield url + "/"


def slow_node(delay_s: float) -> Starlette:
    """Answers a well-formed slot number, but only after `delay_s` (past the client's timeout)."""

    async def endpoint(request: Request) -> Response:
        body = await request.json()
        await asyncio.sleep(delay_s)
        return JSONResponse({"jsonrpc": "2.0", "id": body.get("id", 1), "result": 1})

    return Starlette(routes=[Route("/", endpoint, methods=["POST"])])
