"""The environment the monitor Lambda handler reads, set up as a deployment would set it. The local chain it
talks to is served from a thread by `tests.support.http_server.serve_in_thread` (the handler runs its own
event loop per tick)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities import parameters
from solders.keypair import Keypair

from missout import settings
from missout.monitor import service
from missout.monitor.engine import reset_monitor_engine


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
