"""The local chain served over real HTTP on 127.0.0.1 from a background thread, for code under test that runs
its own event loops (the monitor Lambda handler calls `asyncio.run` per tick), and the environment that
handler reads, set up as a deployment would set it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socket import socket

import pytest
import uvicorn
from aws_lambda_powertools.utilities import parameters
from solders.keypair import Keypair
from starlette.types import ASGIApp

from localnet.server import bind_listening_socket
from missout import settings
from missout.monitor import service
from missout.monitor.engine import reset_monitor_engine


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


def _forget_loaded_configuration() -> None:
    settings.clear_caches()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    service.rpc_endpoints.cache_clear()
    service.load_keys.cache_clear()
    service.treasury_key.cache_clear()
    reset_monitor_engine()


@contextmanager
def monitor_handler_env(
    monkeypatch: pytest.MonkeyPatch,
    folder: Path,
    *,
    rpc_url: str,
    dev: Keypair,
    randomness_secret: bytes,
    **extra: str,
) -> Iterator[None]:
    """The variables the monitor handler reads (the DEV key and the randomness secret as files in `folder`,
    fast ticks, no gateway probe) plus `extra`, with every cached setting, key and engine forgotten before and
    after, so the handler loads this configuration and leaves nothing for the next test."""
    keypair, secret = folder / "dev.json", folder / "randomness.hex"
    keypair.write_text(json.dumps(list(bytes(dev))))
    secret.write_text(randomness_secret.hex())
    variables = {
        "SOLANA_RPC_URLS": rpc_url,
        "DEV_WALLET_PUBKEY": str(dev.pubkey()),
        "DEV_WALLET_KEYPAIR_PATH": str(keypair),
        "RANDOMNESS_SECRET_PATH": str(secret),
        "MONITOR_TICK_SECONDS": "0.3",
        "MONITOR_SAFETY_MARGIN_MS": "500",
        "MONITOR_PROBE_GATEWAY_HEALTH": "false",
        **extra,
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    _forget_loaded_configuration()
    try:
        yield
    finally:
        _forget_loaded_configuration()
