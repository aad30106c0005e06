"""RPC access with failover: `RpcEndpoints` (long-lived endpoint health) and `RpcSession` (per event loop).

`RpcPool` and `RpcPoolConfig` are the old names of `RpcEndpoints` and `RpcEndpointsConfig` ("pool" already
means the lottery pool and the database pooler), kept only until the branches written against them have
landed; new code uses the new names."""

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

RpcPool = RpcEndpoints
RpcPoolConfig = RpcEndpointsConfig

__all__ = [
    "MAX_ACCOUNTS_PER_REQUEST",
    "BroadcastResult",
    "EndpointFailure",
    "EndpointStats",
    "FailureKind",
    "RpcEndpoints",
    "RpcEndpointsConfig",
    "RpcError",
    "RpcPool",
    "RpcPoolConfig",
    "RpcRequestRejected",
    "RpcSendFailed",
    "RpcSession",
    "RpcUnavailable",
    "mask_url",
]
