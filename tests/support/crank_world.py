"""A local chain (mint and wallets from `funded_chain`) with the pool and Switchboard models, a DEV wallet,
and full pools to crank, reached by the backend through the real solana-py `AsyncClient` (in process, no
port). Shared by the Switchboard client tests and the durable-sender tests.

Also the RPC endpoints the sender tests put between the backend and the chain, each a real JSON-RPC ASGI
app the real `AsyncClient` talks to: `Intercept` (see and disturb each call), `LaggingNode` (a node some
slots behind the chain), `Balancer` (one URL, methods answered by different nodes) and `OlderStatusShape`
(signature statuses without `confirmationStatus`)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localnet.chain_clock import BLOCK_HEIGHT_LAG
from localnet.default_programs import register_default_programs
from localnet.runtime import LocalChain
from localnet.server import create_rpc_app
from localnet.spl_token import (
    TOKEN_PROGRAM_ID,
)
from localnet.transport import IN_PROCESS_URL, in_process_client
from missout.chain.accounts import PoolStatus, decode_pool
from missout.chain.instructions import CreatePoolArgs, build_cancel_pool, build_create_pool, build_join_pool
from missout.chain.pda import find_pool_address
from missout.chain.pool_keys import PoolKeys
from missout.chain.program import shipped_codec
from missout.chain.rpc import RpcEndpoints, RpcEndpointsConfig, RpcSession
from tests.support.funded_chain import ENTRY as ENTRY  # re-exported: the crank tests import it from here
from tests.support.funded_chain import SOL, FundedChain

LOCK_SECONDS = 60
GATEWAY_URL = "http://gateway.localnet.invalid"
PROGRAM_ID = shipped_codec().default_program_id
FORFEIT_AFTER_S = 30 * 24 * 3600  # the DEV forfeit branch of claim_refund opens 30 days after the close


class CrankWorld:
    def __init__(
        self,
        seed: bytes,
        *,
        oracles: int = 1,
        gateway_url: str = GATEWAY_URL,
        token_program: Pubkey = TOKEN_PROGRAM_ID,
    ) -> None:
        self.chain = LocalChain(seed=seed, unix_timestamp=1_800_000_000)
        register_default_programs(self.chain, gateway_url=gateway_url, oracles=oracles)
        self.app: ASGIApp = create_rpc_app(self.chain)
        self.funded = FundedChain(self.chain, token_program=token_program)
        self.mint = self.funded.mint
        self.token_program = token_program  # the mint's: legacy Token or Token-2022
        self.dev = self.wallet()
        self.treasury = self.wallet()
        self._salt = 0
        self._creators: dict[Pubkey, Keypair] = {}

    def wallet(self, lamports: int = 100 * SOL) -> Keypair:
        return self.funded.wallet(lamports)

    def player(self) -> Keypair:
        return self.funded.player(lamports=100 * SOL)

    def token_account(self, owner: Pubkey, amount: int = 0) -> Pubkey:
        """The owner's ATA for the world's mint (created, holding `amount`)."""
        return self.funded.fund_ata(owner, amount)

    def submit(self, signer: Keypair, instructions: list[Instruction]) -> None:
        message = MessageV0.try_compile(signer.pubkey(), instructions, [], self.chain.latest_blockhash())
        record = self.chain.send_transaction(VersionedTransaction(message, [signer]))
        assert record.err is None, record.logs

    def full_pool(self, *, participants: int = 2, allow_mock: bool = False) -> Pubkey:
        """A pool of `participants` players, Locked, with its lock already elapsed (ready to unlock)."""
        pool = self._joined_pool(participants, participants, allow_mock)
        assert self.pool_status(pool) is PoolStatus.LOCKED
        self.chain.advance_time(LOCK_SECONDS + 1)
        self.chain.advance_slots(5)
        return pool

    def cancelled_pool(self, *, participants: int = 2) -> PoolKeys:
        """A pool its creator cancelled while Open with `participants` entries still in the vault, 30 days
        later: the DEV forfeit branch of `claim_refund` may take the vault to the treasury (whose ATA, and
        the DEV wallet's, exist)."""
        pool = self._joined_pool(participants, participants + 1, False)
        keys = PoolKeys(pool, self.mint, self.token_program)
        self.submit(
            self._creators[pool], [build_cancel_pool(PROGRAM_ID, keys, self._creators[pool].pubkey())]
        )
        assert self.pool_status(pool) is PoolStatus.CANCELLED
        for wallet in (self.dev.pubkey(), self.treasury.pubkey()):
            if self.chain.get_account(self.funded.ata(wallet)) is None:
                self.token_account(wallet)
        self.chain.advance_time(FORFEIT_AFTER_S + 1)
        self.chain.advance_slots(5)
        return keys

    def token_balance(self, owner: Pubkey) -> int:
        return self.funded.token_balance(owner)

    def joined_pool(
        self, participants: int, capacity: int, allow_mock: bool = False
    ) -> tuple[Pubkey, list[Keypair]]:
        """A pool of `capacity` seats, `participants` of them taken (creator first); returns the players."""
        self._salt += 1
        salt = self._salt.to_bytes(32, "little")
        players = [self.player() for _ in range(participants)]
        args = CreatePoolArgs(
            salt=salt,
            max_participants=capacity,
            lock_duration=LOCK_SECONDS,
            amount=ENTRY,
            dev_wallet=self.dev.pubkey(),
            dev_fee_bps=500,
            burn_fee_bps=0,
            treasury_wallet=self.treasury.pubkey(),
            treasury_fee_bps=100,
            allow_mock=allow_mock,
        )
        creator = players[0]
        self.submit(
            creator, [build_create_pool(PROGRAM_ID, self.mint, self.token_program, args, creator.pubkey())]
        )
        pool, _ = find_pool_address(PROGRAM_ID, self.mint, salt)
        keys = PoolKeys(pool, self.mint, self.token_program)
        for player in players[1:]:
            self.submit(player, [build_join_pool(PROGRAM_ID, keys, ENTRY, player.pubkey())])
        self._creators[pool] = creator
        return pool, players

    def _joined_pool(self, participants: int, capacity: int, allow_mock: bool) -> Pubkey:
        return self.joined_pool(participants, capacity, allow_mock)[0]

    def pool_status(self, pool: Pubkey) -> PoolStatus:
        account = self.chain.get_account(pool)
        assert account is not None
        return PoolStatus(decode_pool(bytes(account.data)).status)

    @asynccontextmanager
    async def rpc(self, app: ASGIApp | None = None) -> AsyncIterator[RpcSession]:
        """An `RpcSession` over one real `AsyncClient` wired into `app` (default: the chain's RPC app)."""
        endpoints = RpcEndpoints(
            [IN_PROCESS_URL], RpcEndpointsConfig(backoff_base_s=0.01, backoff_max_s=0.05)
        )
        client = in_process_client(app or self.app)
        try:
            yield RpcSession(endpoints, [client])
        finally:
            await client.close()

    def landed(self, signer: Pubkey) -> list[object]:
        """The `err` of every transaction `signer` landed, oldest first (None = succeeded)."""
        records = self.chain.history.signatures_for_address(signer, limit=1000)
        return [record.err for record in reversed(records)]

    def fees_paid(self, signer: Pubkey) -> tuple[int, int]:
        """(lamports in fees of successful transactions, of failed ones) paid by `signer`."""
        records = self.chain.history.signatures_for_address(signer, limit=1000)
        ok = sum(r.fee for r in records if r.err is None and r.account_keys[0] == signer)
        failed = sum(r.fee for r in records if r.err is not None and r.account_keys[0] == signer)
        return ok, failed

    def warp_to_block_height(self, height: int) -> None:
        self.chain.warp(slot=height + BLOCK_HEIGHT_LAG)

    @asynccontextmanager
    async def rpc_endpoints(self, *apps: ASGIApp, failure_threshold: int = 3) -> AsyncIterator[RpcSession]:
        """An `RpcSession` over several endpoints in priority order, one real `AsyncClient` into each app.
        `failure_threshold`: consecutive failures that open an endpoint's breaker."""
        urls = [f"http://node-{index}.localnet.invalid" for index in range(len(apps))]
        config = RpcEndpointsConfig(
            backoff_base_s=0.01, backoff_max_s=0.05, failure_threshold=failure_threshold
        )
        clients = [in_process_client(app) for app in apps]
        try:
            yield RpcSession(RpcEndpoints(urls, config), clients)
        finally:
            for client in clients:
                await client.close()


def deadline_in(seconds: float) -> Callable[[], int]:
    """A run's clock as the Lambda context gives it: milliseconds left until a fixed deadline."""
    end = time.monotonic() + seconds
    return lambda: int((end - time.monotonic()) * 1000)


# -- RPC endpoints between the backend and the chain ----------------------------------------------------

# Hook per JSON-RPC call: may act on the chain, and may answer an HTTP status instead of the node.
Hook = Callable[[str], Awaitable[int | None]]


async def _body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body"):
            return body


def _replaying(body: bytes, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class Intercept:
    """ASGI wrapper around the local chain's RPC app that lets a test see (and disturb) each JSON-RPC call."""

    def __init__(
        self, app: ASGIApp, hook: Hook, after: Callable[[str], Awaitable[None]] | None = None
    ) -> None:
        self._app, self._hook, self._after = app, hook, after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/":
            await self._app(scope, receive, send)
            return
        body = await _body(receive)
        status = await self._hook(json.loads(body).get("method", ""))
        if status is not None:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b"injected failure"})
            return
        await self._app(scope, _replaying(body, receive), send)
        if self._after is not None:
            # The response is fully built but still held by the in-process transport until this returns.
            await self._after(json.loads(body).get("method", ""))


# (method, request, response) -> the response this node gives instead.
Rewrite = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]


class RewritingNode:
    """A JSON-RPC node whose answers are the chain's, rewritten: how a differently behaving node (lagging,
    older version, proxied) looks to a client."""

    def __init__(self, app: ASGIApp, rewrite: Rewrite) -> None:
        self._app, self._rewrite = app, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/":
            await self._app(scope, receive, send)
            return
        body = await _body(receive)
        request = json.loads(body)
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                chunks.append(message.get("body", b""))

        await self._app(scope, _replaying(body, receive), capture)
        payload = b"".join(chunks)
        if start.get("status") == 200 and "result" in (answer := json.loads(payload)):
            payload = json.dumps(self._rewrite(request.get("method", ""), request, answer)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 500), "headers": headers})
        await send({"type": "http.response.body", "body": payload})


class LaggingNode(RewritingNode):
    """A node `lag` slots behind the chain, as behind a load balancer or on a failover endpoint: its slot,
    block height and signature statuses are those of `lag` slots ago (a transaction that landed since is
    unknown to it). Other methods answer from the chain as it is."""

    def __init__(self, world: CrankWorld, lag: int) -> None:
        super().__init__(world.app, self._behind)
        self._world, self.lag = world, lag

    def _behind(self, method: str, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        seen_up_to = self._world.chain.clock.slot - self.lag
        result = answer["result"]
        if method == "getSignatureStatuses":
            statuses = [s if s is not None and s["slot"] <= seen_up_to else None for s in result["value"]]
            result = {"context": {**result["context"], "slot": seen_up_to}, "value": statuses}
        elif method == "getEpochInfo":
            result = {**result, "absoluteSlot": seen_up_to, "blockHeight": result["blockHeight"] - self.lag}
        elif method in ("getSlot", "getBlockHeight"):
            result = result - self.lag
        return {**answer, "result": result}


class OlderStatusShape(RewritingNode):
    """Signature statuses in the older shape (no `confirmationStatus`), as older nodes and some proxies
    answer: `confirmations` is a number of blocks while not rooted, null once finalized. The first
    `unrooted_answers` answers that carry a status report it as not yet rooted."""

    def __init__(self, world: CrankWorld, unrooted_answers: int = 0) -> None:
        super().__init__(world.app, self._older)
        self.unrooted_left = unrooted_answers
        self.statuses_answered = 0

    def _older(self, method: str, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if method != "getSignatureStatuses":
            return answer
        value = []
        for status in answer["result"]["value"]:
            if status is not None:
                self.statuses_answered += 1
                status = {k: v for k, v in status.items() if k != "confirmationStatus"}
                if self.unrooted_left > 0:
                    self.unrooted_left -= 1
                    status["confirmations"] = 2
            value.append(status)
        return {**answer, "result": {**answer["result"], "value": value}}


class Balancer:
    """One URL in front of several nodes, as a load balancer: each method goes to the node `routes` names,
    everything else to `default`."""

    def __init__(self, default: ASGIApp, routes: Mapping[str, ASGIApp]) -> None:
        self._default, self._routes = default, dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/":
            await self._default(scope, receive, send)
            return
        body = await _body(receive)
        node = self._routes.get(json.loads(body).get("method", ""), self._default)
        await node(scope, _replaying(body, receive), send)
