"""`RpcEndpoints`: several RPC endpoints behind one interface, with failover, breakers and read retries.

Lifetime (Lambda and anywhere else):

    RPC = RpcEndpoints(settings.rpc_urls)            # module level: plain state, no I/O, no event loop

    async def run_tick() -> None:                    # called through asyncio.run(...) per invocation
        async with RPC.session() as rpc:             # the running loop's clients (built on its first use)
            pools = await rpc.get_program_accounts(program_id, filters)

httpx clients are bound to the event loop that created them; reusing one across `asyncio.run` calls
fails with "Event loop is closed" (docs/architecture.md, "Lambda facts the code relies on"). So clients are
kept per event loop (`missout.chain.rpc.clients`): a loop that serves many requests reuses its clients and
their connections, and a loop's clients are closed when it shuts down. Breaker state and statistics live in
`RpcEndpoints`, so they survive between invocations of a warm Lambda environment, whatever the loop.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Commitment, Finalized
from solana.rpc.models import MemcmpOpts, TxOpts
from solders.account import Account
from solders.pubkey import Pubkey
from solders.rpc.responses import (
    GetAccountInfoResp,
    GetBlockHeightResp,
    GetLatestBlockhashResp,
    GetMultipleAccountsResp,
    GetProgramAccountsResp,
    GetSignatureStatusesResp,
    GetSlotResp,
    GetTransactionResp,
    RpcKeyedAccount,
    SendTransactionResp,
)
from solders.signature import Signature

from missout.chain.rpc.breaker import CircuitBreaker
from missout.chain.rpc.broadcast import BroadcastResult, BroadcastTally
from missout.chain.rpc.classify import classify_exception, must_propagate
from missout.chain.rpc.clients import SUSPECT_KINDS, LoopClients, SharedTlsClient
from missout.chain.rpc.endpoint import Endpoint, EndpointStats
from missout.chain.rpc.errors import (
    EndpointFailure,
    FailureKind,
    RpcRequestRejected,
    RpcSendFailed,
    RpcUnavailable,
)

T = TypeVar("T")

MAX_ACCOUNTS_PER_REQUEST = 100  # getMultipleAccounts limit of Solana RPC nodes


@dataclass(frozen=True, slots=True)
class RpcEndpointsConfig:
    commitment: Commitment = Finalized
    request_timeout_s: float = 10.0  # per request, per endpoint
    failure_threshold: int = 3  # consecutive failures that open an endpoint's breaker
    cooldown_s: float = 30.0  # open → half-open
    read_rounds: int = 3  # passes over all endpoints for a read before giving up
    backoff_base_s: float = 0.25  # first pause between rounds; doubles each round, full jitter
    backoff_max_s: float = 4.0
    max_retry_after_s: float = 30.0  # cap on a 429's Retry-After
    rate_limit_rps: float = 0.0  # client-side limit per endpoint (0 = none)
    read_concurrency: int = 4  # parallel chunked requests (getMultipleAccounts)


class RpcEndpoints:
    """Endpoints in priority order (the first URL is the primary) and their health."""

    def __init__(
        self,
        urls: Sequence[str],
        config: RpcEndpointsConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("at least one RPC URL is required")
        self.config = config or RpcEndpointsConfig()
        self.endpoints = tuple(
            Endpoint(
                url,
                CircuitBreaker(self.config.failure_threshold, self.config.cooldown_s, clock),
                self.config.max_retry_after_s,
                clock,
            )
            for url in urls
        )
        self._clients = LoopClients([self._client_builder(url) for url in urls])

    def stats(self) -> list[EndpointStats]:
        return [endpoint.stats() for endpoint in self.endpoints]

    @asynccontextmanager
    async def session(self) -> AsyncIterator[RpcSession]:
        """The running event loop's clients, one per endpoint; a client that failed in a way that may have
        broken its connections (connect, timeout, transport) is closed after the block and rebuilt."""
        leases = await self._clients.acquire()
        session = RpcSession(self, [lease.client for lease in leases])
        try:
            yield session
        finally:
            await self._clients.release(leases, suspect=session.suspect_clients)

    async def close_clients(self) -> None:
        """Close the running loop's clients now: for a loop that will be closed without `shutdown_asyncgens`
        (`asyncio.run` runs it, and with it the clients' own closing)."""
        await self._clients.close()

    def _client_builder(self, url: str) -> Callable[[], SharedTlsClient]:
        config = self.config
        return lambda: SharedTlsClient(
            url, config.commitment, config.request_timeout_s, config.rate_limit_rps
        )


class RpcSession:
    """The RPC calls the backend makes, each with failover; obtained from `RpcEndpoints.session()`."""

    def __init__(self, endpoints: RpcEndpoints, clients: Sequence[AsyncClient]) -> None:
        self._config = endpoints.config
        self._routes = list(zip(endpoints.endpoints, clients, strict=True))
        # Clients whose connections may be broken (see `SUSPECT_KINDS`): `RpcEndpoints.session` drops them.
        self.suspect_clients: list[AsyncClient] = []

    # -- generic --------------------------------------------------------------------------------------

    async def read(self, method: str, call: Callable[[AsyncClient], Awaitable[T]], expected: type[T]) -> T:
        """Run an idempotent read with failover across endpoints and jittered backoff between rounds.

        Raises `RpcUnavailable` (all endpoints failed every round) or `RpcRequestRejected` (a node
        answered that the request itself is wrong; asking another node would not help).
        """
        reasons: dict[str, str] = {}
        for round_index in range(self._config.read_rounds):
            for endpoint, client in self._routes:
                if not endpoint.acquire():
                    reasons.setdefault(endpoint.masked_url, endpoint.unavailable_reason() or "busy")
                    continue
                try:
                    return await self._call(endpoint, client, method, call, expected)
                except EndpointFailure as failure:
                    reasons[endpoint.masked_url] = endpoint.describe(failure)
            if round_index + 1 < self._config.read_rounds:
                await asyncio.sleep(self._backoff(round_index))
        raise RpcUnavailable(method, reasons)

    async def _call(
        self,
        endpoint: Endpoint,
        client: AsyncClient,
        method: str,
        call: Callable[[AsyncClient], Awaitable[T]],
        expected: type[T],
    ) -> T:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._config.request_timeout_s):
                result = await call(client)
        except BaseException as exc:
            if must_propagate(exc):
                endpoint.breaker.release_unused()
                self.suspect_clients.append(client)  # cancelled mid-request: its connection state is unknown
                raise
            outcome = classify_exception(method, exc)
            if isinstance(outcome, RpcRequestRejected):
                # The node is fine: it understood and refused the request.
                endpoint.record_success(time.monotonic() - started)
                raise outcome from exc
            endpoint.record_failure(outcome)
            if outcome.kind in SUSPECT_KINDS:
                self.suspect_clients.append(client)
            raise outcome from exc
        if not isinstance(result, expected):
            # solders can turn odd error bodies into values of another type (e.g. a bare int).
            failure = EndpointFailure(
                FailureKind.INVALID_RESPONSE, f"expected {expected.__name__}, got {type(result).__name__}"
            )
            endpoint.record_failure(failure)
            raise failure
        endpoint.record_success(time.monotonic() - started)
        return result

    def _backoff(self, round_index: int) -> float:
        ceiling = min(self._config.backoff_max_s, self._config.backoff_base_s * (2**round_index))
        # Full jitter spreads retries of concurrent callers; never wait less than a 429 asked for when
        # every endpoint is paused, but never beyond the cap either.
        pause = random.uniform(0, ceiling)
        soonest_free = min(endpoint.rate_limited_for() for endpoint, _ in self._routes)
        return min(max(pause, soonest_free), self._config.max_retry_after_s)

    # -- reads ----------------------------------------------------------------------------------------

    async def get_account_info(self, pubkey: Pubkey) -> Account | None:
        response = await self.read(
            "getAccountInfo", lambda c: c.get_account_info(pubkey, encoding="base64"), GetAccountInfoResp
        )
        return response.value

    async def get_multiple_accounts(self, pubkeys: Sequence[Pubkey]) -> list[Account | None]:
        """Accounts in the order asked, fetched in chunks of 100 (at most `read_concurrency` at once);
        each chunk fails over on its own."""
        chunks = [
            list(pubkeys[start : start + MAX_ACCOUNTS_PER_REQUEST])
            for start in range(0, len(pubkeys), MAX_ACCOUNTS_PER_REQUEST)
        ]
        limit = asyncio.Semaphore(max(1, self._config.read_concurrency))

        async def fetch(chunk: list[Pubkey]) -> list[Account | None]:
            async with limit:
                response = await self.read(
                    "getMultipleAccounts",
                    lambda c: c.get_multiple_accounts(chunk, encoding="base64"),
                    GetMultipleAccountsResp,
                )
            if len(response.value) != len(chunk):
                raise RpcUnavailable(
                    "getMultipleAccounts", {"answer": f"{len(response.value)} accounts for {len(chunk)} keys"}
                )
            return list(response.value)

        results = await asyncio.gather(*(fetch(chunk) for chunk in chunks))
        return [account for chunk_result in results for account in chunk_result]

    async def get_program_accounts(
        self, program_id: Pubkey, filters: Sequence[int | MemcmpOpts]
    ) -> list[RpcKeyedAccount]:
        """Accounts of `program_id` matching `filters` (ints = dataSize; see `missout.chain.queries`)."""
        response = await self.read(
            "getProgramAccounts",
            lambda c: c.get_program_accounts(program_id, encoding="base64", filters=list(filters)),
            GetProgramAccountsResp,
        )
        return list(response.value)

    async def get_transaction(self, signature: Signature) -> GetTransactionResp:
        """Base64 encoding, v0 support and always `finalized`, whatever the endpoints' default commitment:
        a reported action is accepted only once it cannot be rolled back (docs/solana.md §2.1, §2.2)."""
        return await self.read(
            "getTransaction",
            lambda c: c.get_transaction(
                signature, encoding="base64", commitment=Finalized, max_supported_transaction_version=0
            ),
            GetTransactionResp,
        )

    async def get_signature_statuses(self, signatures: Sequence[Signature]) -> GetSignatureStatusesResp:
        return await self.read(
            "getSignatureStatuses",
            lambda c: c.get_signature_statuses(list(signatures)),
            GetSignatureStatusesResp,
        )

    async def get_latest_blockhash(self) -> GetLatestBlockhashResp:
        return await self.read(
            "getLatestBlockhash", lambda c: c.get_latest_blockhash(), GetLatestBlockhashResp
        )

    async def get_slot(self) -> int:
        return (await self.read("getSlot", lambda c: c.get_slot(), GetSlotResp)).value

    async def get_block_height(self) -> int:
        return (await self.read("getBlockHeight", lambda c: c.get_block_height(), GetBlockHeightResp)).value

    # -- send -----------------------------------------------------------------------------------------

    async def send_raw_transaction(self, raw: bytes, opts: TxOpts | None = None) -> Signature:
        """Send once, to the first usable endpoint. Only a failure that provably never reached a node
        (connection refused) moves on to the next endpoint; anything else raises `RpcSendFailed`
        carrying its class, and a node's refusal (preflight failure) raises `RpcRequestRejected` with
        the classified program error. Never blind-retried."""
        options = opts or TxOpts(skip_preflight=False, preflight_commitment=self._config.commitment)
        reasons: dict[str, str] = {}
        for endpoint, client in self._routes:
            if not endpoint.acquire():
                reasons[endpoint.masked_url] = endpoint.unavailable_reason() or "busy"
                continue
            try:
                response = await self._call(
                    endpoint,
                    client,
                    "sendTransaction",
                    lambda c: c.send_raw_transaction(raw, options),
                    SendTransactionResp,
                )
            except EndpointFailure as failure:
                reasons[endpoint.masked_url] = endpoint.describe(failure)
                if failure.kind is FailureKind.CONNECT:
                    continue
                raise RpcSendFailed(endpoint.masked_url, failure, may_have_landed=True) from failure
            return response.value
        raise RpcUnavailable("sendTransaction", reasons)

    async def broadcast_raw_transaction(self, raw: bytes, opts: TxOpts | None = None) -> BroadcastResult:
        """Send the same signed bytes to every endpoint its breaker lets through, all at once, and succeed
        if any node accepted them (one signature executes at most once, however many nodes relay it).

        Nothing is retried here. When no node accepted: a node's refusal of the transaction itself (a
        preflight failure) raises `RpcRequestRejected` with the classified error, a failure after the bytes
        may have arrived raises `RpcSendFailed`, and otherwise `RpcUnavailable` says why each endpoint
        failed or was skipped."""
        options = opts or TxOpts(skip_preflight=False, preflight_commitment=self._config.commitment)
        tally = BroadcastTally()
        chosen: list[tuple[Endpoint, AsyncClient]] = []
        for endpoint, client in self._routes:
            if endpoint.acquire():
                chosen.append((endpoint, client))
            else:
                tally.skipped(endpoint.masked_url, endpoint.unavailable_reason() or "busy")
        answers = await asyncio.gather(
            *(
                self._call(
                    endpoint,
                    client,
                    "sendTransaction",
                    lambda c: c.send_raw_transaction(raw, options),
                    SendTransactionResp,
                )
                for endpoint, client in chosen
            ),
            return_exceptions=True,
        )
        for (endpoint, _), answer in zip(chosen, answers, strict=True):
            if isinstance(answer, SendTransactionResp):
                tally.accepted(endpoint.masked_url, answer.value)
            elif isinstance(answer, RpcRequestRejected):
                tally.refused(endpoint.masked_url, answer)
            elif isinstance(answer, EndpointFailure):
                tally.failed(endpoint.masked_url, answer, endpoint.describe(answer))
            else:
                # Cancellation and the like (`_call` turns every other exception into one of the above).
                raise answer
        return tally.outcome()
