"""Client of a Switchboard oracle gateway's reveal endpoint (docs/solana.md §1.7 "Gateway reveal API",
docs/switchboard.md "Reveal").

The answer feeds an on-chain signature check, so a bad gateway can only make the reveal fail, never forge a
value; still every length is checked here so a malformed answer fails loudly before a transaction is built.
Retries use exponential backoff (×1.5, capped) within the caller's time budget: a Lambda must stop before
its deadline rather than die inside a request. A 4xx usually means "too early" (the gateway's RPC has not
seen the seed slot yet) and is retried like an outage; only the few statuses that say the request itself is
wrong (authentication, no such route, unacceptable body) stop at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
from solders.pubkey import Pubkey

from missout.chain.switchboard.accounts import RandomnessAccount

REVEAL_PATH = "/gateway/api/v1/randomness_reveal"
_SIGNATURE_BYTES, _VALUE_BYTES = 64, 32
# 4xx answers about the request itself (credentials, path, method, body size or type), not its timing.
_PERMANENT_4XX = frozenset({401, 403, 404, 405, 413, 415})

Sleep = Callable[[float], Awaitable[None]]


class GatewayError(Exception):
    """The gateway did not produce a usable reveal. `retryable`: asking again later may help."""

    retryable = True


class GatewayUnavailable(GatewayError):
    """Connection failure, timeout, HTTP 5xx or 429."""


class GatewayBadResponse(GatewayError):
    """HTTP 200 with a body that is not a well-formed reveal (wrong lengths, types, not JSON). Retried:
    docs/solana.md §1.8 treats it as a gateway failure, and a restarted gateway may answer correctly."""


class GatewayRejected(GatewayError):
    """HTTP 401/403/404/405/413/415: the gateway refused the request itself; asking again will not help."""

    retryable = False


class GatewayTooEarly(GatewayRejected):
    """Any other HTTP 4xx: what a gateway answers while its RPC has not yet seen the seed slot. Retried."""

    retryable = True


class GatewayBudgetExhausted(GatewayError):
    """Retrying stopped because the caller's time budget would not fit another attempt; `last` is the
    failure of the final attempt (None if there was no time for even one)."""

    def __init__(self, message: str, last: GatewayError | None) -> None:
        super().__init__(message)
        self.last = last


@dataclass(frozen=True, slots=True)
class RevealResponse:
    signature: bytes  # 64 bytes (secp256k1 r ‖ s)
    recovery_id: int
    value: bytes  # 32 bytes


@dataclass(frozen=True, slots=True)
class GatewayRetryPolicy:
    request_timeout_s: float = 10.0
    max_attempts: int = 6
    first_delay_s: float = 3.0  # pause after the first failure
    backoff_factor: float = 1.5
    max_delay_s: float = 10.0
    # The SDK's revealIx waits 3 s before asking: the gateway's own RPC must have seen the commit's slot.
    after_commit_s: float = 3.0

    def __post_init__(self) -> None:
        if (
            self.max_attempts < 1
            or self.request_timeout_s <= 0
            or self.backoff_factor < 1
            or self.after_commit_s < 0
        ):
            raise ValueError(f"unusable gateway retry policy: {self}")

    def delay_after(self, attempt: int) -> float:
        """Pause after the `attempt`-th failure (1-based)."""
        return min(self.max_delay_s, self.first_delay_s * self.backoff_factor ** (attempt - 1))


def reveal_request_body(
    randomness: Pubkey, account: RandomnessAccount, rpc_url: str | None = None
) -> dict[str, Any]:
    """The JSON the SDK posts. Newer SDKs add `rpc` (the caller's endpoint, for the gateway to read the chain
    with); we send it only when a key-less public endpoint is configured, never our own RPC URL, which may
    carry an API key."""
    body: dict[str, Any] = {
        "slothash": list(account.seed_slothash),
        "randomness_key": bytes(randomness).hex(),
        "slot": account.seed_slot,
    }
    if rpc_url:
        body["rpc"] = rpc_url
    return body


def parse_reveal_response(body: object) -> RevealResponse:
    if not isinstance(body, dict):
        raise GatewayBadResponse(f"reveal answer is not a JSON object: {type(body).__name__}")
    raw_signature, recovery_id, raw_value = body.get("signature"), body.get("recovery_id"), body.get("value")
    if not isinstance(raw_signature, str):
        raise GatewayBadResponse("reveal answer has no base64 'signature'")
    try:
        signature = base64.b64decode(raw_signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GatewayBadResponse(f"'signature' is not base64: {exc}") from None
    if len(signature) != _SIGNATURE_BYTES:
        raise GatewayBadResponse(f"'signature' is {len(signature)} bytes, expected {_SIGNATURE_BYTES}")
    if isinstance(recovery_id, bool) or not isinstance(recovery_id, int) or not 0 <= recovery_id <= 255:
        raise GatewayBadResponse(f"'recovery_id' is not a u8: {recovery_id!r}")
    if not isinstance(raw_value, list) or len(raw_value) != _VALUE_BYTES:
        raise GatewayBadResponse(f"'value' is not a list of {_VALUE_BYTES} bytes")
    if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in raw_value):
        raise GatewayBadResponse("'value' holds something other than byte values")
    return RevealResponse(signature=signature, recovery_id=recovery_id, value=bytes(raw_value))


class GatewayClient:
    """Reveal requests over one `httpx2.AsyncClient` (owned by the caller: clients are bound to the event
    loop that made them). `rpc_url` is the key-less public endpoint sent as the body's `rpc` field (None:
    left out); `sleep` is how every pause is taken (tests pass one that records instead of waiting)."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        policy: GatewayRetryPolicy | None = None,
        *,
        rpc_url: str | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self._policy = policy or GatewayRetryPolicy()
        self._rpc_url = rpc_url
        self.sleep = sleep

    @property
    def policy(self) -> GatewayRetryPolicy:
        return self._policy

    async def reveal_once(
        self, gateway_url: str, randomness: Pubkey, account: RandomnessAccount
    ) -> RevealResponse:
        """One request, no retry."""
        url = gateway_url.rstrip("/") + REVEAL_PATH
        timeout = self._policy.request_timeout_s
        try:
            # httpx2's own timeout covers network phases; the outer one also bounds in-process transports.
            async with asyncio.timeout(timeout):
                response = await self._http.post(
                    url, json=reveal_request_body(randomness, account, self._rpc_url), timeout=timeout
                )
        except TimeoutError:
            raise GatewayUnavailable(f"{url}: no answer within {timeout}s") from None
        except httpx2.TimeoutException as exc:
            raise GatewayUnavailable(f"{url}: {type(exc).__name__}") from None
        except httpx2.HTTPError as exc:
            raise GatewayUnavailable(f"{url}: {type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise GatewayUnavailable(f"{url}: HTTP {status}")
        if status in _PERMANENT_4XX:
            raise GatewayRejected(f"{url}: HTTP {status}: {response.text[:200]}")
        if 400 <= status < 500:
            raise GatewayTooEarly(f"{url}: HTTP {status}: {response.text[:200]}")
        if status != 200:
            raise GatewayBadResponse(f"{url}: unexpected HTTP {status}")
        try:
            body = response.json()
        except ValueError:
            raise GatewayBadResponse(f"{url}: answer is not JSON") from None
        return parse_reveal_response(body)

    async def reveal(
        self,
        gateway_url: str,
        randomness: Pubkey,
        account: RandomnessAccount,
        remaining_ms: Callable[[], int],
    ) -> RevealResponse:
        """Ask until an answer, a non-retryable failure, `max_attempts`, or the budget would be overrun
        (an attempt needs its timeout plus the pause before it to fit in `remaining_ms()`)."""
        if not account.is_committed:
            raise ValueError(f"randomness account {randomness} was never committed: nothing to reveal")
        policy = self._policy
        last: GatewayError | None = None
        for attempt in range(1, policy.max_attempts + 1):
            pause = policy.delay_after(attempt - 1) if attempt > 1 else 0.0
            if (pause + policy.request_timeout_s) * 1000 > remaining_ms():
                raise GatewayBudgetExhausted(
                    f"time budget left no room for reveal attempt {attempt}", last
                ) from last
            if pause:
                await self.sleep(pause)
            try:
                return await self.reveal_once(gateway_url, randomness, account)
            except GatewayError as failure:
                if not failure.retryable:
                    raise
                last = failure
        assert last is not None  # max_attempts >= 1 and every path above either returned or failed
        raise last
