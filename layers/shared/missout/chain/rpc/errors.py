"""Typed outcomes of RPC calls that did not produce a usable answer."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Annotation only: `missout.chain.errors` loads solders, and the API's error handlers import this module.
    from missout.chain.errors import ClassifiedError


class FailureKind(Enum):
    """Why one endpoint failed one request. Every kind counts against that endpoint's breaker."""

    CONNECT = "connect"  # nothing reached the node (refused, DNS): safe to send elsewhere
    TIMEOUT = "timeout"
    HTTP_5XX = "http_5xx"
    RATE_LIMITED = "rate_limited"  # HTTP 429 (honours Retry-After)
    HTTP_STATUS = "http_status"  # other unexpected HTTP status (401/403: bad key, blocked)
    INVALID_RESPONSE = "invalid_response"  # not JSON, wrong shape, or a solders parser panic
    NODE_UNHEALTHY = "node_unhealthy"  # the node answered that it is behind / cannot serve
    TRANSPORT = "transport"  # any other HTTP transport failure


class RpcError(Exception):
    """Base of everything `missout.chain.rpc` raises for a failed call."""


class EndpointFailure(RpcError):
    """One endpoint failed one request (internal to the pool: callers see `RpcUnavailable`)."""

    def __init__(self, kind: FailureKind, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after


class RpcUnavailable(RpcError):
    """No endpoint produced an answer; `reasons` maps each (masked) endpoint to its last failure."""

    def __init__(self, method: str, reasons: Mapping[str, str]) -> None:
        summary = "; ".join(f"{url} -> {reason}" for url, reason in reasons.items()) or "no endpoints"
        super().__init__(f"{method}: every RPC endpoint failed ({summary})")
        self.method = method
        self.reasons = dict(reasons)


class RpcRequestRejected(RpcError):
    """A healthy node answered with a JSON-RPC error about the request itself (bad params, preflight
    failure of a transaction, ...). Not an endpoint fault, so not retried elsewhere."""

    def __init__(self, method: str, message: str, error: ClassifiedError | None = None) -> None:
        super().__init__(f"{method}: {message}")
        self.method = method
        self.message = message
        self.transaction_error = error  # set for simulation/preflight failures


class RpcSendFailed(RpcError):
    """Sending a transaction failed after the request may have reached a node.

    Never retried here: the sender decides (re-sending the same signed bytes is harmless, building a new
    transaction is not). `may_have_landed` is False only when the bytes provably never left.
    """

    def __init__(self, endpoint: str, failure: EndpointFailure, *, may_have_landed: bool) -> None:
        super().__init__(f"send via {endpoint} failed ({failure}); may_have_landed={may_have_landed}")
        self.endpoint = endpoint
        self.kind = failure.kind
        self.detail = failure.detail
        self.may_have_landed = may_have_landed
