"""RPC access with failover: `RpcEndpoints` (long-lived endpoint health) and `RpcSession` (per event loop)."""

from missout.chain.rpc.broadcast import BroadcastResult
from missout.chain.rpc.endpoint import EndpointStats, mask_url
from missout.chain.rpc.errors import (
    EndpointFailure,
    FailureKind,
    RpcError,
    RpcRequestRejected,
    RpcSendFailed,
    RpcUnavailable,
)
from missout.chain.rpc.failover import MAX_ACCOUNTS_PER_REQUEST, RpcEndpoints, RpcEndpointsConfig, RpcSession

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
