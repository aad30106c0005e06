"""The API against the local chain: the chain served over HTTP on 127.0.0.1 (an ephemeral port) from a thread,
the API configured to use it, and the real Lambda handler fed API Gateway v2 events.

The test thread also sends transactions straight into the same `LocalChain` (the world's builders). It does so
only while no request is in flight, so the chain (a single-threaded state machine) is never entered twice.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from local_lambda import lambda_context
from localnet.default_programs import register_default_programs
from localnet.programs.pool import PoolProgram
from localnet.runtime import LocalChain
from localnet.server import create_rpc_app
from localnet.transport import in_process_client
from missout import settings
from missout.chain.program import shipped_codec
from missout.wiring import reset_wiring
from tests.support.http_server import serve_in_thread
from tests.support.verify_world import VerifyWorld

EVENT_TEMPLATE = Path(__file__).resolve().parents[2] / "events" / "api_get_pools.json"
CLIENT_IP = "203.0.113.45"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json", self.body
        assert isinstance(self.body, dict)
        return self.body


def api_event(
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    query: Mapping[str, str] | None = None,
    ip: str = CLIENT_IP,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, shaped like the recorded one in events/."""
    event: dict[str, Any] = json.loads(EVENT_TEMPLATE.read_text())
    raw_query = urlencode(query or {})
    event["rawPath"] = path
    event["rawQueryString"] = raw_query
    event["queryStringParameters"] = dict(query) if query else None
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["sourceIp"] = ip
    event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
        event["headers"]["content-length"] = str(len(event["body"]))
    if not event["queryStringParameters"]:
        event.pop("queryStringParameters")
    return event


def invoke(
    method: str,
    path: str,
    *,
    body: Mapping[str, Any] | None = None,
    query: Mapping[str, str] | None = None,
    ip: str = CLIENT_IP,
) -> Answer:
    """The real API handler, as Lambda calls it. Safe from worker threads: the handler gives each thread its
    own event loop, as each Lambda instance has its own."""
    from missout_api.handler import handler

    response = handler(api_event(method, path, body=body, query=query, ip=ip), lambda_context("api", 29))
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    text = response.get("body") or ""
    parsed = json.loads(text) if text else None
    return Answer(response["statusCode"], headers, parsed)


@contextmanager
def served_world(monkeypatch: pytest.MonkeyPatch, *, seed: bytes = b"api-tests") -> Iterator[VerifyWorld]:
    """A `VerifyWorld` whose chain the API reads over HTTP; the API's settings point at it."""
    chain = LocalChain(seed=seed, unix_timestamp=int(time.time()))
    register_default_programs(chain, gateway_url="http://127.0.0.1:9")
    pool_program = chain.programs[shipped_codec().default_program_id]
    assert isinstance(pool_program, PoolProgram)
    with serve_in_thread(create_rpc_app(chain)) as url:
        client = in_process_client(create_rpc_app(chain))
        try:
            world = VerifyWorld(client, chain, pool_program)
            monkeypatch.setenv("SOLANA_RPC_URLS", url)
            monkeypatch.setenv("PROGRAM_ID", str(world.program_id))
            monkeypatch.setenv("DEV_WALLET_PUBKEY", str(world.config.dev_wallet))
            monkeypatch.setenv("TREASURY_WALLET_PUBKEY", str(world.config.treasury_wallet))
            settings.clear_caches()
            reset_wiring()
            yield world
        finally:
            reset_wiring()
            settings.clear_caches()
            # A private loop: asyncio.run would leave the main thread without a current loop for later tests.
            closer = asyncio.new_event_loop()
            closer.run_until_complete(client.close())
            closer.close()


def away_from_a_window_edge(window_s: int = 60, margin_s: float = 10.0) -> None:
    """Rate limits count in fixed windows on the database's clock (the same machine's): requests that straddle
    a window's end are counted in two windows. Tests that count a few requests start well inside one."""
    into = time.time() % window_s
    if into > window_s - margin_s:
        time.sleep(window_s - into + 0.1)
