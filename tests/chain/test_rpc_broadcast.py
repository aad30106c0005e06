"""Broadcast sends against real local HTTP servers: the same bytes go to every usable endpoint at once, any
acceptance is success, a node's refusal of the transaction is reported and never failed over."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from solana.rpc.models import TxOpts
from starlette.responses import Response

from missout.chain.rpc import (
    FailureKind,
    RpcEndpoints,
    RpcRequestRejected,
    RpcSendFailed,
    RpcUnavailable,
)
from missout.chain.send import IntentStatus, SendPolicy
from missout.chain.send.intents import CrankIntent
from missout.chain.send.settle import send_until_settled

from .rpc_server import refused_url, result, rpc_error, scripted_rpc
from .test_rpc_failover import FAST, SIGNATURE, server_error

RAW = b"\x01" * 64
NO_PREFLIGHT = TxOpts(skip_preflight=True, max_retries=0)


def accept(request: dict[str, Any]) -> Response:
    return result(request, SIGNATURE)


def preflight_failed(request: dict[str, Any]) -> Response:
    data = {
        "accounts": None,
        "err": {"InstructionError": [0, {"Custom": 6021}]},
        "logs": ["Program log: AnchorError ... InvalidPoolStatus"],
        "unitsConsumed": 1000,
        "returnData": None,
    }
    return rpc_error(request, {"code": -32002, "message": "Transaction simulation failed", "data": data})


def sends(node: Any) -> list[str]:
    """The base64 transactions a scripted node was asked to send."""
    return [r["params"][0] for r in node.requests if r.get("method") == "sendTransaction"]


async def test_same_bytes_go_to_every_endpoint() -> None:
    async with scripted_rpc(accept) as first, scripted_rpc(accept) as second:
        endpoints = RpcEndpoints([first.url, second.url], FAST)
        async with endpoints.session() as rpc:
            sent = await rpc.broadcast_raw_transaction(RAW, NO_PREFLIGHT)
    assert str(sent.signature) == SIGNATURE
    assert sent.accepted_by == (first.url, second.url)
    assert sent.not_accepted == {}
    assert len(sends(first)) == len(sends(second)) == 1
    assert sends(first) == sends(second)


async def test_one_endpoint_down_one_up_is_accepted() -> None:
    down = refused_url()
    async with scripted_rpc(accept) as up:
        endpoints = RpcEndpoints([down, up.url], FAST)
        async with endpoints.session() as rpc:
            sent = await rpc.broadcast_raw_transaction(RAW, NO_PREFLIGHT)
    assert sent.accepted_by == (up.url,)
    assert sent.not_accepted[down].startswith("connect:")
    assert endpoints.stats()[0].failures_by_kind == {"connect": 1}


async def test_all_endpoints_down_is_unavailable() -> None:
    down = [refused_url(), refused_url()]
    endpoints = RpcEndpoints(down, FAST)
    async with endpoints.session() as rpc:
        with pytest.raises(RpcUnavailable) as raised:
            await rpc.broadcast_raw_transaction(RAW, NO_PREFLIGHT)
    assert raised.value.method == "sendTransaction"
    assert set(raised.value.reasons) == set(down)


async def test_preflight_program_error_is_reported_not_failed_over() -> None:
    async with scripted_rpc(preflight_failed) as first, scripted_rpc(preflight_failed) as second:
        endpoints = RpcEndpoints([first.url, second.url], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcRequestRejected) as raised:
                await rpc.broadcast_raw_transaction(RAW)
    error = raised.value.transaction_error
    assert error is not None
    assert (error.code, error.name) == (6021, "InvalidPoolStatus")
    # One request per node: the refusal is the transaction's verdict, not a reason to try again.
    assert len(first.requests) == len(second.requests) == 1
    # A node that refuses a transaction is healthy.
    assert [s.consecutive_failures for s in endpoints.stats()] == [0, 0]


async def test_refusal_outranks_unreachable_endpoints() -> None:
    async with scripted_rpc(preflight_failed) as node:
        endpoints = RpcEndpoints([refused_url(), node.url], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcRequestRejected):
                await rpc.broadcast_raw_transaction(RAW)


async def test_acceptance_wins_but_a_refusal_is_still_reported() -> None:
    # E.g. a lagging node simulates against old state while another node takes the transaction.
    async with scripted_rpc(preflight_failed) as stale, scripted_rpc(accept) as fresh:
        endpoints = RpcEndpoints([stale.url, fresh.url], FAST)
        async with endpoints.session() as rpc:
            sent = await rpc.broadcast_raw_transaction(RAW)
    assert sent.accepted_by == (fresh.url,)
    assert sent.not_accepted[stale.url].startswith("refused:")
    assert sent.transaction_error is not None
    assert sent.transaction_error.name == "InvalidPoolStatus"


async def test_failure_after_delivery_may_have_landed() -> None:
    async with scripted_rpc(server_error) as failing:
        endpoints = RpcEndpoints([refused_url(), failing.url], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcSendFailed) as raised:
                await rpc.broadcast_raw_transaction(RAW, NO_PREFLIGHT)
    assert raised.value.kind is FailureKind.HTTP_5XX
    assert raised.value.may_have_landed
    assert len(failing.requests) == 1


async def test_endpoint_with_open_breaker_is_skipped() -> None:
    async with scripted_rpc(server_error) as broken, scripted_rpc(accept) as healthy:
        endpoints = RpcEndpoints([broken.url, healthy.url], replace(FAST, failure_threshold=1))
        async with endpoints.session() as rpc:
            await rpc.broadcast_raw_transaction(RAW, NO_PREFLIGHT)  # opens the broken endpoint's breaker
            sent = await rpc.broadcast_raw_transaction(RAW, NO_PREFLIGHT)
    assert len(broken.requests) == 1
    assert len(sends(healthy)) == 2
    assert sent.accepted_by == (healthy.url,)
    assert sent.not_accepted[broken.url].startswith("circuit open")


async def test_durable_resends_reach_every_endpoint() -> None:
    delivered: list[str] = []

    def node(request: dict[str, Any]) -> Response:
        method = request["method"]
        if method == "sendTransaction":
            delivered.append(request["params"][0])
            return result(request, SIGNATURE)
        if method == "getSignatureStatuses":
            status = {
                "slot": 7,
                "confirmations": None,
                "err": None,
                "status": {"Ok": None},
                "confirmationStatus": "finalized",
            }
            return result(request, {"context": {"slot": 8}, "value": [status if delivered else None]})
        if method == "getBlockHeight":
            return result(request, 10)
        return rpc_error(request, {"code": -32601, "message": f"unexpected {method}"})

    intent = CrankIntent(1, 1, "unlock_pool", 1, IntentStatus.PREPARED, SIGNATURE, RAW, 100, 0)
    policy = SendPolicy(resend_interval_s=0.05, poll_interval_s=0.01, safety_margin_ms=0)
    broadcasts: list[None] = []
    async with scripted_rpc(node) as first, scripted_rpc(node) as second:
        endpoints = RpcEndpoints([first.url, second.url], FAST)
        async with endpoints.session() as rpc:
            settlement = await send_until_settled(
                rpc, intent, lambda: 60_000, policy, on_broadcast=lambda: broadcasts.append(None)
            )
    assert settlement.status is IntentStatus.FINALIZED
    assert len(broadcasts) == 1
    assert len(sends(first)) == len(sends(second)) == 1
    assert sends(first) == sends(second)
