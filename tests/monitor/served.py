"""The local chain served over real HTTP on 127.0.0.1 from a background thread, for code under test that runs
its own event loops (the monitor Lambda handler calls `asyncio.run` per tick)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socket import socket

import uvicorn
from starlette.types import ASGIApp

from localnet.server import bind_listening_socket


def free_socket() -> socket:
    return bind_listening_socket("127.0.0.1", 0)


@contextmanager
def serve_in_thread(app: ASGIApp, sock: socket) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
