"""solana-py clients kept per event loop, all built on the process's one TLS context.

Why: solana-py 0.41 builds a new httpx2 client for every `AsyncClient`, and httpx2 loads the CA bundle into a
new SSL context for each one (about 30 ms of CPU here, even for an http:// URL); a client per request also
throws away its keep-alive connections, so against a real https:// node every request paid a TLS handshake.

- One SSL context per process (`process_ssl_context`): an SSL context is plain data (the trusted CAs and
  the TLS settings), not tied to a loop, safe to share between clients and threads.
- Clients per event loop (`LoopClients`): httpx clients belong to the loop that made them; a client used
  from another loop, or after its loop closed, fails with "Event loop is closed" (docs/architecture.md,
  "Lambda facts the code relies on"). A loop that lives across requests (the API handler's loop per thread,
  uvicorn's) reuses its clients and their connections; a loop per call (the monitor's `asyncio.run` per
  tick) gets new clients for each call, which cost about a millisecond now that the SSL context is shared.
- Clients are closed on their own loop when it shuts down (`asyncio.run`, pytest-asyncio and uvicorn all run
  `shutdown_asyncgens`, which finalizes the generator `_close_at_shutdown` parks in each loop), when a client
  failed in a way that may have left its connection pool broken (connect, timeout, transport errors), and by
  `forget_clients` (SnapStart: no socket may be in the snapshot, and none restored from it may be reused).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from functools import cache

import httpx2
from aiolimiter import AsyncLimiter
from solana.rpc.async_api import AsyncClient
from solana.rpc.async_http_provider import AsyncHTTPProvider
from solana.rpc.commitment import Commitment
from solana.rpc.core import _ClientCore
from solana.rpc.types import URI

from missout.chain.rpc.errors import FailureKind

# Failures after which a client's connection pool may hold a half-used connection: build a fresh client.
# The others (HTTP statuses, bad bodies, a node saying it is behind) came over a healthy connection.
SUSPECT_KINDS = frozenset({FailureKind.CONNECT, FailureKind.TIMEOUT, FailureKind.TRANSPORT})


@cache
def process_ssl_context() -> ssl.SSLContext:
    """The TLS context every RPC client of this process uses: httpx2's default (the system's CAs, or
    SSL_CERT_FILE / SSL_CERT_DIR), which is what solana-py's own clients would load each time."""
    return httpx2.create_ssl_context()


class _SharedTlsProvider(AsyncHTTPProvider):
    """solana-py's HTTP provider over an httpx2 client built by us (with the shared SSL context).

    `AsyncHTTPProvider.__init__` is not called: it would build its own httpx2 client and SSL context, which is
    the cost this module removes. The attributes set here are the ones solana 0.41's constructor sets;
    tests/chain/test_rpc_clients.py compares them with a stock provider's, so an upgrade that adds one fails
    there instead of at the first request.
    """

    def __init__(self, url: str, http: httpx2.AsyncClient, timeout_s: float, rate_limit_rps: float) -> None:
        self.endpoint_uri = URI(url)
        self.timeout = timeout_s
        self.extra_headers = None
        self._max_transport_retries = 0  # retrying is our job (and must never happen blindly for sends)
        self.session = http
        self._limiter = AsyncLimiter(rate_limit_rps, time_period=1) if rate_limit_rps > 0 else None


class SharedTlsClient(AsyncClient):
    """A solana-py `AsyncClient` (every RPC method unchanged) whose HTTP client we build and can inspect."""

    def __init__(self, url: str, commitment: Commitment, timeout_s: float, rate_limit_rps: float) -> None:
        _ClientCore.__init__(self, commitment)  # not AsyncClient.__init__: it builds its own provider
        self.http = httpx2.AsyncClient(
            http2=True,  # solana-py's default
            timeout=httpx2.Timeout(timeout_s),
            verify=process_ssl_context(),
        )
        self._provider = _SharedTlsProvider(url, self.http, timeout_s, rate_limit_rps)


@dataclass(eq=False)
class Lease:
    """One endpoint's client as a session holds it."""

    client: SharedTlsClient
    users: int = 0
    retired: bool = False  # no new session gets it; closed once the last user lets go


@dataclass(eq=False)
class _LoopEntry:
    leases: list[Lease | None]
    closer: AsyncGenerator[None, None] | None = None


async def _close_quietly(client: AsyncClient) -> None:
    with contextlib.suppress(Exception):  # a client that cannot close cleanly is dropped all the same
        await client.close()


async def _close_at_shutdown(entry: _LoopEntry) -> AsyncGenerator[None, None]:
    """Parked at its `yield` for the life of the loop; the loop's `shutdown_asyncgens` (or `forget`) closes
    it, which closes the loop's clients while the loop still runs."""
    try:
        yield
    finally:
        leases = [lease for lease in entry.leases if lease is not None]
        entry.leases = [None] * len(entry.leases)
        await asyncio.gather(*(_close_quietly(lease.client) for lease in leases))


class LoopClients:
    """One client per endpoint per event loop, reused by every session opened on that loop."""

    def __init__(self, build: Sequence[Callable[[], SharedTlsClient]]) -> None:
        self._build = tuple(build)
        # Weak on the loop: a loop that is gone takes its entry with it. Threads each run their own loop,
        # so the mapping itself is guarded.
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopEntry] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        _ALL.add(self)

    async def acquire(self) -> list[Lease]:
        """The running loop's clients, one per endpoint in order, each counted as in use until `release`."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for other in [other for other in self._loops if other.is_closed()]:
                # Closed without `shutdown_asyncgens`: nothing can be awaited on it any more, so its clients
                # are only dropped (their sockets close when collected).
                del self._loops[other]
            entry = self._loops.get(loop)
            new_entry = entry is None
            if entry is None:
                entry = self._loops[loop] = _LoopEntry([None] * len(self._build))
        if new_entry:
            entry.closer = _close_at_shutdown(entry)
            await anext(entry.closer)  # first step inside this loop: the loop now finalizes it on shutdown
        leases = []
        for index, build in enumerate(self._build):
            lease = entry.leases[index]
            if lease is None or lease.retired or lease.client.http.is_closed:
                lease = entry.leases[index] = Lease(build())
            lease.users += 1
            leases.append(lease)
        return leases

    async def release(self, leases: Sequence[Lease], suspect: Sequence[AsyncClient] = ()) -> None:
        """Give the clients back; those in `suspect` are retired and closed once no session uses them."""
        for lease in leases:
            lease.users -= 1
            if any(lease.client is client for client in suspect):
                lease.retired = True
            if lease.retired and lease.users == 0:
                await _close_quietly(lease.client)

    async def close(self) -> None:
        """Close the running loop's clients now (a loop about to be closed without `shutdown_asyncgens`)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._loops.pop(loop, None)
        if entry is not None and entry.closer is not None:
            await entry.closer.aclose()

    def forget(self) -> None:
        """Close every loop's clients where that loop is idle, and drop all of them (SnapStart hooks)."""
        with self._lock:
            entries = list(self._loops.items())
            self._loops.clear()
        for loop, entry in entries:
            if entry.closer is None:
                continue
            if not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(entry.closer.aclose())

    def cached(self) -> int:
        """Clients held across all loops (for tests and the snapshot report)."""
        with self._lock:
            entries = list(self._loops.values())
        return sum(1 for entry in entries for lease in entry.leases if lease is not None)


_ALL: weakref.WeakSet[LoopClients] = weakref.WeakSet()


def forget_clients() -> None:
    """Every `LoopClients` of the process forgets its clients (closing those it can)."""
    for clients in list(_ALL):
        clients.forget()
