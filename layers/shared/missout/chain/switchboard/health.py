"""Asking oracle gateways which oracles are healthy (`GET /gateway/api/v1/healthy_oracles`).

Every gateway is asked at once and any failure (refused, timeout, non-200, malformed answer) only means that
gateway said nothing: the selector then works from whoever answered, or from on-chain facts alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpx2

from missout.chain.switchboard.selection import (
    HealthAnswerInvalid,
    HealthIndex,
    OracleHealth,
    parse_healthy_oracles,
)

HEALTHY_ORACLES_PATH = "/gateway/api/v1/healthy_oracles"
# The SDK waits up to 10 s per gateway; a commit is on the monitor's clock, so we give up sooner.
DEFAULT_HEALTH_TIMEOUT_S = 3.0


class GatewayHealthProbe:
    """Health requests over one `httpx2.AsyncClient` (owned by the caller, bound to its event loop)."""

    def __init__(self, http: httpx2.AsyncClient, timeout_s: float = DEFAULT_HEALTH_TIMEOUT_S) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._http = http
        self._timeout_s = timeout_s

    async def snapshot(self, gateway_url: str) -> list[OracleHealth] | None:
        """The gateway's healthy oracles, or None when it did not give a usable answer."""
        url = gateway_url.rstrip("/") + HEALTHY_ORACLES_PATH
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._http.get(url, timeout=self._timeout_s)
            if response.status_code != 200:
                return None
            return parse_healthy_oracles(response.json())
        except (TimeoutError, httpx2.HTTPError, ValueError, HealthAnswerInvalid):
            return None

    async def collect(self, gateway_urls: Iterable[str]) -> HealthIndex:
        """Ask each distinct gateway once, concurrently, and merge the answers."""
        unique = list(dict.fromkeys(url for url in gateway_urls if url))
        answers = await asyncio.gather(*(self.snapshot(url) for url in unique))
        return HealthIndex.merge([answer for answer in answers if answer is not None])
