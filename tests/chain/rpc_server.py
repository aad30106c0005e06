"""A tiny JSON-RPC server on 127.0.0.1 (ephemeral port) whose answers each test scripts, served by
`tests.support.http_server` on the test's own event loop (or a thread's) and stopped when the block exits.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.http_server import serve_in_thread, serve_on_this_loop

Handler = Callable[[dict[str, Any]], Response]


def result(request: dict[str, Any], value: Any) -> Response:
    return JSONResponse({"jsonrpc": "2.0", "id": request.get("id", 1), "result": value})


def rpc_error(request: dict[str, Any], error: dict[str, Any]) -> Response:
    return JSONResponse({"jsonrpc": "2.0", "id": request.get("id", 1), "error": error})


def slot_answer(slot: int) -> Handler:
    return lambda request: result(request, slot)


@dataclass
class ScriptedRpc:
    handler: Handler
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Each request's client address: which TCP connection it came over.
    peers: list[tuple[str, int]] = field(default_factory=list)

    def methods(self) -> list[str]:
        return [str(r.get("method")) for r in self.requests]


def _app(scripted: ScriptedRpc, path: str) -> Starlette:
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            parsed = json.loads(body)
        except ValueError:
            return Response("bad request", status_code=400)
        scripted.requests.append(parsed)
        if request.client is not None:
            scripted.peers.append((request.client.host, request.client.port))
        return scripted.handler(parsed)

    return Starlette(routes=[Route(path, endpoint, methods=["POST"])])


@asynccontextmanager
async def scripted_rpc(handler: Handler, path: str = "/") -> AsyncIterator[ScriptedRpc]:
    scripted = ScriptedRpc(handler)
    async with serve_on_this_loop(_app(scripted, path)) as url:
        scripted.url = url + path
        yield scripted


@contextmanager
def scripted_rpc_in_thread(handler: Handler) -> Iterator[ScriptedRpc]:
    """The same server on a loop of its own in a thread: for tests whose clients run on several loops in turn
    (`asyncio.run` per call, as the monitor does)."""
    scripted = ScriptedRpc(handler)
    with serve_in_thread(_app(scripted, "/")) as url:
        scripted.url = url + "/"
        yield scripted


def refused_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/"
