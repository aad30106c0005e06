"""A solana-py `AsyncClient` wired to an ASGI app in the same process: no port, no server, same code path."""

from __future__ import annotations

import importlib.util
import sys

import httpx2
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Commitment, Finalized
from starlette.types import ASGIApp

IN_PROCESS_URL = "http://localnet.invalid"

# httpx2's ASGITransport runs `import sniffio` on every request (to tell trio from asyncio). sniffio is not
# installed here, nor in the Lambda layer, and Python does not remember a failed import: each request
# searched the whole sys.path again, about 0.3 ms (7 % of a monitor crank's time, profiled in
# bench/monitor_throughput.py). A None entry in sys.modules is Python's documented way to say "not
# importable": the same ImportError, at once. Whatever imports sniffio afterwards behaves as without it.
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


def in_process_client(app: ASGIApp, *, commitment: Commitment = Finalized) -> AsyncClient:
    """`AsyncClient` whose requests go straight into `app`.

    solana-py has no public hook for the HTTP transport, so this replaces the provider's private `session`
    (solana 0.41: `AsyncClient._provider.session`, an `httpx2.AsyncClient`). The assertions make a solana-py
    upgrade that moves it fail here, loudly, instead of sending requests to the placeholder URL.
    """
    client = AsyncClient(IN_PROCESS_URL, commitment=commitment)
    provider = getattr(client, "_provider", None)
    if provider is None or not isinstance(getattr(provider, "session", None), httpx2.AsyncClient):
        raise RuntimeError("solana-py no longer keeps its HTTP session at AsyncClient._provider.session")
    provider.session = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app))
    return client
