"""RPC access with failover: `RpcEndpoints` (long-lived endpoint health) and `RpcSession` (per event loop).

The exception types load with the package; the client half (solana-py, httpx2, solders) loads on first use of
one of its names. The API's problem handlers need `RpcError` at cold start, and only the routes that talk to
the chain need the client, so importing the package must not cost every cold start the whole RPC stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from missout.chain.rpc.errors import (
    EndpointFailure,
    FailureKind,
    RpcError,
    RpcRequestRejected,
    RpcSendFailed,
    RpcUnavailable,
)

if TYPE_CHECKING:
    from missout.chain.rpc.broadcast import BroadcastResult
    from missout.chain.rpc.endpoint import EndpointStats, mask_url
    from missout.chain.rpc.failover import (
        MAX_ACCOUNTS_PER_REQUEST,
        RpcEndpoints,
        RpcEndpointsConfig,
        RpcSession,
    )

# name -> the submodule that defines it (imported on first access, PEP 562)
_ON_FIRST_USE = {
    "BroadcastResult": "missout.chain.rpc.broadcast",
    "EndpointStats": "missout.chain.rpc.endpoint",
    "mask_url": "missout.chain.rpc.endpoint",
    "MAX_ACCOUNTS_PER_REQUEST": "missout.chain.rpc.failover",
    "RpcEndpoints": "missout.chain.rpc.failover",
    "RpcEndpointsConfig": "missout.chain.rpc.failover",
    "RpcSession": "missout.chain.rpc.failover",
}


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


__all__ = [
    "MAX_ACCOUNTS_PER_REQUEST",
    "BroadcastResult",
    "EndpointFailure",
    "EndpointStats",
    "FailureKind",
    "RpcEndpoints",
    "RpcEndpointsConfig",
    "RpcError",
    "RpcRequestRejected",
    "RpcSendFailed",
    "RpcSession",
    "RpcUnavailable",
    "mask_url",
]
