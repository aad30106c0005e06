"""ASGI apps served over real HTTP on 127.0.0.1 (an ephemeral port) by uvicorn, for tests and benchmarks:
on the caller's event loop, or on a loop of its own in a thread (for code under test that runs its own loops,
as the monitor's `asyncio.run` per tick does). Every server is stopped when its context exits.

Always listen on `free_socket()`: it sets TCP_NODELAY, without which every answer waits about 40 ms for the
client's delayed ACK (docs/local-stack.md, "Serving the local chain over HTTP").
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from socket import socket

import uvicorn
from starlette.types import ASGIApp

from localnet.server import bind_listening_socket


def free_socket() -> socket:
    """A listening loopback socket on a port the system picks, TCP_NODELAY set."""
    return bind_listening_socket("127.0.0.1", 0)


def _server(app: ASGIApp) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))


@contextmanager
def serve_in_thread(app: ASGIApp, sock: socket | None = None) -> Iterator[str]:
    """`app` served from a thread with its own event loop; yields its base URL (no trailing slash)."""
    sock = sock or free_socket()
    server = _server(app)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if server.started:
                break
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("uvicorn did not start within 10 s")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@asynccontextmanager
async def serve_on_this_loop(app: ASGIApp) -> AsyncIterator[str]:
    """`app` served on the running loop; yields its base URL (no trailing slash). Exits without draining:
    a handler still sleeping (a slow node's) is cancelled, and the test's clients are closed by then."""
    sock = free_socket()
    server = _server(app)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # serve() failed before it started: raise its error here
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        server.force_exit = True
        await task
        sock.close()
