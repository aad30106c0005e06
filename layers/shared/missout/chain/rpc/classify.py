"""Turn whatever a solana-py call raised into an endpoint failure or a request rejection.

solana-py 0.41 surfaces: `SolanaRpcException` wrapping an httpx2 error (transport or HTTP status),
`RPCException` carrying a parsed solders RPC error, `solders.SerdeJSONError` for bodies that are not a
JSON-RPC response, and — when a node returns an error object solders cannot parse (e.g. -32002 without
`data`) — `pyo3_runtime.PanicException`, which derives from BaseException, not Exception.
"""

from __future__ import annotations

import asyncio
import email.utils
import time

import httpx2
from solana.exceptions import SolanaRpcException
from solana.rpc.core import RPCException
from solders.rpc.errors import (
    InternalErrorMessage,
    MinContextSlotNotReachedMessage,
    NodeUnhealthyMessage,
)

from missout.chain.errors import classify_transaction_error
from missout.chain.rpc.errors import EndpointFailure, FailureKind, RpcRequestRejected

# Errors a node reports about itself rather than about the request: another node may well answer.
_NODE_SIDE_ERRORS = (NodeUnhealthyMessage, MinContextSlotNotReachedMessage, InternalErrorMessage)


def is_solders_panic(exc: BaseException) -> bool:
    """True for pyo3's PanicException (its module only exists once a panic happened, so match by name)."""
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


def must_propagate(exc: BaseException) -> bool:
    """Control-flow exceptions that no RPC wrapper may swallow."""
    return isinstance(exc, KeyboardInterrupt | SystemExit | asyncio.CancelledError | GeneratorExit)


def classify_exception(method: str, exc: BaseException) -> EndpointFailure | RpcRequestRejected:
    if is_solders_panic(exc):
        return EndpointFailure(FailureKind.INVALID_RESPONSE, f"unparseable RPC answer (solders panic: {exc})")
    if isinstance(exc, TimeoutError):
        return EndpointFailure(FailureKind.TIMEOUT, "request timed out")
    if isinstance(exc, SolanaRpcException):
        return _classify_http(exc.__cause__ or exc)
    if isinstance(exc, httpx2.HTTPError):
        return _classify_http(exc)
    if isinstance(exc, RPCException):
        return _classify_rpc_error(method, exc)
    if type(exc).__name__ == "SerdeJSONError" or isinstance(exc, ValueError):
        return EndpointFailure(FailureKind.INVALID_RESPONSE, f"not a valid JSON-RPC answer: {exc}")
    return EndpointFailure(FailureKind.TRANSPORT, f"{type(exc).__name__}: {exc}")


def _classify_http(exc: BaseException) -> EndpointFailure:
    if isinstance(exc, httpx2.HTTPStatusError):
        status = exc.response.status_code
        if status == 429:
            return EndpointFailure(
                FailureKind.RATE_LIMITED, "HTTP 429", retry_after=parse_retry_after(exc.response.headers)
            )
        if status >= 500:
            return EndpointFailure(FailureKind.HTTP_5XX, f"HTTP {status}")
        return EndpointFailure(FailureKind.HTTP_STATUS, f"HTTP {status}")
    if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout):
        return EndpointFailure(FailureKind.CONNECT, f"cannot connect: {exc}")
    if isinstance(exc, httpx2.TimeoutException):
        return EndpointFailure(FailureKind.TIMEOUT, f"{type(exc).__name__}")
    return EndpointFailure(FailureKind.TRANSPORT, f"{type(exc).__name__}: {exc}")


def _classify_rpc_error(method: str, exc: RPCException) -> EndpointFailure | RpcRequestRejected:
    payload = exc.args[0] if exc.args else None
    message = str(getattr(payload, "message", payload))
    if isinstance(payload, _NODE_SIDE_ERRORS):
        return EndpointFailure(FailureKind.NODE_UNHEALTHY, message)
    simulated_error = getattr(getattr(payload, "data", None), "err", None)
    classified = classify_transaction_error(simulated_error) if simulated_error is not None else None
    return RpcRequestRejected(method, message, classified)


def parse_retry_after(headers: httpx2.Headers) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP date); None when absent or unreadable."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
