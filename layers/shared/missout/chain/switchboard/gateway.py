"""Client of a Switchboard oracle gateway's reveal endpoint (docs/solana.md §1.7 "Gateway reveal API").

The answer feeds an on-chain signature check, so a bad gateway can only make the reveal fail, never forge a
value; still every length is checked here so a malformed answer fails loudly before a transaction is built.
Retries use exponential backoff (×1.5, capped) within the caller's time budget: a Lambda must stop before
its deadline rather than die inside a request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from solders.pubkey import Pubkey

from missout.chain.switchboard.accounts import RandomnessAccount

REVEAL_PATH = "/gateway/api/v1/randomness_reveal"
_SIGNATURE_BYTES, _VALUE_BYTES = 64, 32


class GatewayError(Exception):
    """The gateway did not produce a usable reveal. `retryable`: asking again later may help."""

    retryable = True


class GatewayUnavailable(GatewayError):
    """Connection failure, timeout, HTTP 5xx or 429."""


class GatewayBadResponse(GatewayError):
    """HTTP 200 with a body that is not a well-formed reveal (wrong lengths, types, not JSON). Retried:
    docs/solana.md §1.8 treats it as a gateway failure, and a restarted gateway may answer correctly."""


class GatewayRejected(GatewayError):
    """HTTP 4xx: the gateway refused this request; asking the same way again will not help."""

    retryable = False


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
    first_delay_s: float = 3.0  # the SDK's own pause before retrying revealIx
    backoff_factor: float = 1.5
    max_delay_s: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.request_timeout_s <= 0 or self.backoff_factor < 1:
            raise ValueError(f"unusable gateway retry policy: {self}")

    def delay_after(self, attempt: int) -> float:
        """Pause after the `attempt`-th failure (1-based)."""
        return min(self.max_delay_s, self.first_delay_s * self.backoff_factor ** (attempt - 1))


def reveal_request_body(randomness: Pubkey, account: RandomnessAccount) -> dict[str, Any]:
    """The JSON the SDK posts. The optional `rpc` field is left out on purpose: it would hand our RPC URL
    (possibly carrying an API key) to the oracle operator."""
    return {
        "slothash": list(account.seed_slothash),
        "randomness_key": bytes(randomness).hex(),
        "slot": account.seed_slot,
    }


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
    """Reveal requests over one `httpx.AsyncClient` (owned by the caller: clients are bound to the event
    loop that made them)."""

    def __init__(self, http: httpx.AsyncClient, policy: GatewayRetryPolicy | None = None) -> None:
        self._http = http
        self._policy = policy or GatewayRetryPolicy()

    async def reveal_once(
        self, gateway_url: str, randomness: Pubkey, account: RandomnessAccount
    ) -> RevealResponse:
        """One request, no retry."""
        url = gateway_url.rstrip("/") + REVEAL_PATH
        timeout = self._policy.request_timeout_s
        try:
            # httpx's own timeout covers network phases; the outer one also bounds in-process transports.
            async with asyncio.timeout(timeout):
                response = await self._http.post(
                    url, json=reveal_request_body(randomness, account), timeout=timeout
                )
        except TimeoutError:
            raise GatewayUnavailable(f"{url}: no answer within {timeout}s") from None
        except httpx.TimeoutException as exc:
            raise GatewayUnavailable(f"{url}: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{url}: {type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise GatewayUnavailable(f"{url}: HTTP {status}")
        if status != 200:
            raise GatewayRejected(f"{url}: HTTP {status}: {response.text[:200]}")
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
                await asyncio.sleep(pause)
            try:
                return await self.reveal_once(gateway_url, randomness, account)
            except GatewayError as failure:
                if not failure.retryable:
                    raise
                last = failure
        assert last is not None  # max_attempts >= 1 and every path above either returned or failed
        raise last
