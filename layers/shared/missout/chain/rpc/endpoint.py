"""One RPC endpoint's lasting state: its URL (and a masked form safe to log or show), its breaker, a
rate-limit pause and counters. Holds no client: clients belong to a session (one event loop)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from missout.chain.rpc.breaker import BreakerState, CircuitBreaker
from missout.chain.rpc.errors import EndpointFailure, FailureKind

# Path segments that look like credentials (e.g. ".../v2/<key>", "<name>.quiknode.pro/<token>/").
_SECRET_SEGMENT = re.compile(r"^[A-Za-z0-9_\-]{16,}$")


def mask_url(url: str) -> str:
    """The URL with credentials hidden: user-info, every query value and key-like path segments."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    path = "/".join("***" if _SECRET_SEGMENT.match(s) else s for s in parts.path.split("/"))
    query = urlencode([(name, "***") for name, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, host, path, query, ""))


@dataclass(frozen=True, slots=True)
class EndpointStats:
    """Snapshot for a health endpoint (URL masked)."""

    url: str
    state: str
    consecutive_failures: int
    requests: int
    successes: int
    failures: int
    failures_by_kind: dict[str, int]
    last_failure: str | None
    last_latency_ms: float | None
    rate_limited_for_s: float
    reopens_in_s: float


class Endpoint:
    def __init__(
        self,
        url: str,
        breaker: CircuitBreaker,
        max_retry_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.breaker = breaker
        self._max_retry_after = max_retry_after
        self._clock = clock
        self._paused_until = 0.0
        self._requests = 0
        self._successes = 0
        self._failures_by_kind: dict[str, int] = {}
        self._last_failure: str | None = None
        self._last_latency_ms: float | None = None

    def rate_limited_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def unavailable_reason(self) -> str | None:
        """Why this endpoint must be skipped right now, or None if a request may go to it."""
        if self.rate_limited_for() > 0:
            return f"rate limited for {self.rate_limited_for():.1f}s more"
        state = self.breaker.state
        if state is BreakerState.OPEN:
            return f"circuit open, next trial in {self.breaker.seconds_until_trial():.1f}s"
        return None

    def acquire(self) -> bool:
        return self.unavailable_reason() is None and self.breaker.try_acquire()

    def record_success(self, latency_seconds: float) -> None:
        self._requests += 1
        self._successes += 1
        self._last_latency_ms = latency_seconds * 1000.0
        self.breaker.record_success()

    def record_failure(self, failure: EndpointFailure) -> None:
        self._requests += 1
        self._failures_by_kind[failure.kind.value] = self._failures_by_kind.get(failure.kind.value, 0) + 1
        self._last_failure = self.describe(failure)
        if failure.kind is FailureKind.RATE_LIMITED:
            pause = failure.retry_after if failure.retry_after is not None else 1.0
            self._paused_until = self._clock() + min(pause, self._max_retry_after)
        self.breaker.record_failure()

    def describe(self, failure: BaseException) -> str:
        """Failure text with this endpoint's raw URL (which may carry an API key) masked."""
        return str(failure).replace(self.url, self.masked_url)

    def stats(self) -> EndpointStats:
        return EndpointStats(
            url=self.masked_url,
            state=self.breaker.state.value,
            consecutive_failures=self.breaker.consecutive_failures,
            requests=self._requests,
            successes=self._successes,
            failures=self._requests - self._successes,
            failures_by_kind=dict(self._failures_by_kind),
            last_failure=self._last_failure,
            last_latency_ms=self._last_latency_ms,
            rate_limited_for_s=round(self.rate_limited_for(), 3),
            reopens_in_s=round(self.breaker.seconds_until_trial(), 3),
        )
