"""RpcEndpoints against real local HTTP servers: failover, breakers, classification, chunking, sends."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest
from solana.rpc.commitment import Confirmed
from solana.rpc.models import TxOpts
from solders.pubkey import Pubkey
from solders.signature import Signature
from starlette.responses import Response

from missout.chain.accounts import PoolStatus
from missout.chain.queries import pool_filters
from missout.chain.rpc import (
    FailureKind,
    RpcEndpoints,
    RpcEndpointsConfig,
    RpcRequestRejected,
    RpcSendFailed,
    RpcUnavailable,
)

from .rpc_server import refused_url, result, rpc_error, scripted_rpc, slot_answer

# Fast settings: tests must not sit in backoff sleeps.
FAST = RpcEndpointsConfig(
    request_timeout_s=2.0, read_rounds=2, backoff_base_s=0.01, backoff_max_s=0.02, cooldown_s=30.0
)
SIGNATURE = "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW"


def garbage(_request: dict[str, Any]) -> Response:
    return Response("<html>oops</html>", media_type="text/html")


def server_error(_request: dict[str, Any]) -> Response:
    return Response("internal", status_code=500)


def too_many(_request: dict[str, Any]) -> Response:
    return Response("slow down", status_code=429, headers={"Retry-After": "7"})


def unparseable_error(request: dict[str, Any]) -> Response:
    # A JSON-RPC error without `data` makes solders panic (PanicException, a BaseException).
    return rpc_error(request, {"code": -32005, "message": "Node is behind"})


async def test_primary_refusing_connections_fails_over_to_secondary() -> None:
    async with scripted_rpc(slot_answer(42)) as secondary:
        endpoints = RpcEndpoints([refused_url(), secondary.url], FAST)
        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 42
        primary_stats, secondary_stats = endpoints.stats()
        assert primary_stats.failures_by_kind == {"connect": 1}
        assert secondary_stats.successes == 1


@pytest.mark.parametrize(
    ("handler", "kind"),
    [(garbage, "invalid_response"), (server_error, "http_5xx"), (too_many, "rate_limited")],
    ids=["garbage", "http-500", "http-429"],
)
async def test_bad_primary_answers_fail_over(handler: Any, kind: str) -> None:
    async with scripted_rpc(handler) as primary, scripted_rpc(slot_answer(7)) as secondary:
        endpoints = RpcEndpoints([primary.url, secondary.url], FAST)
        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 7
        assert endpoints.stats()[0].failures_by_kind == {kind: 1}


async def test_retry_after_pauses_the_rate_limited_endpoint() -> None:
    async with scripted_rpc(too_many) as primary, scripted_rpc(slot_answer(7)) as secondary:
        endpoints = RpcEndpoints([primary.url, secondary.url], FAST)
        async with endpoints.session() as rpc:
            await rpc.get_slot()
            await rpc.get_slot()
        assert len(primary.requests) == 1  # the second read skipped the paused primary
        assert 6.0 < endpoints.stats()[0].rate_limited_for_s <= 7.0


async def test_solders_panic_is_classified_not_raised() -> None:
    async with scripted_rpc(unparseable_error) as primary, scripted_rpc(slot_answer(9)) as secondary:
        endpoints = RpcEndpoints([primary.url, secondary.url], FAST)
        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 9
        assert endpoints.stats()[0].failures_by_kind == {FailureKind.INVALID_RESPONSE.value: 1}
        assert "panic" in (endpoints.stats()[0].last_failure or "")


async def test_wrongly_typed_answer_counts_as_invalid() -> None:
    # solders turns this error object into a bare int instead of raising.
    def odd(request: dict[str, Any]) -> Response:
        return rpc_error(request, {"code": 429, "message": "Too many requests"})

    async with scripted_rpc(odd) as primary:
        endpoints = RpcEndpoints([primary.url], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcUnavailable, match="expected GetAccountInfoResp"):
                await rpc.get_account_info(Pubkey.default())


async def test_breaker_opens_then_recovers_after_cooldown() -> None:
    now = [1000.0]
    config = RpcEndpointsConfig(
        request_timeout_s=2.0, read_rounds=1, failure_threshold=2, cooldown_s=30.0, backoff_base_s=0.01
    )
    async with scripted_rpc(server_error) as primary, scripted_rpc(slot_answer(5)) as secondary:
        endpoints = RpcEndpoints([primary.url, secondary.url], config, clock=lambda: now[0])
        async with endpoints.session() as rpc:
            for _ in range(4):
                assert await rpc.get_slot() == 5
            assert len(primary.requests) == 2  # opened after 2 failures, then skipped
            assert endpoints.stats()[0].state == "open"

            primary.handler = slot_answer(6)  # the primary comes back
            now[0] += 30.0
            assert endpoints.stats()[0].state == "half_open"
            assert await rpc.get_slot() == 6  # the trial request goes to the primary and closes it
            assert endpoints.stats()[0].state == "closed"
            assert await rpc.get_slot() == 6


async def test_all_endpoints_down_reports_each_reason() -> None:
    async with scripted_rpc(server_error) as broken:
        down = refused_url()
        endpoints = RpcEndpoints([down, broken.url + "?api-key=topsecret"], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcUnavailable) as raised:
                await rpc.get_slot()
    reasons = raised.value.reasons
    assert set(reasons) == {down, broken.url + "?api-key=***"}
    assert reasons[down].startswith("connect")
    assert reasons[broken.url + "?api-key=***"].startswith("http_5xx")
    assert "topsecret" not in str(raised.value)
    assert len(broken.requests) == FAST.read_rounds  # one try per round


async def test_request_errors_are_not_failed_over() -> None:
    def invalid_params(request: dict[str, Any]) -> Response:
        return rpc_error(request, {"code": -32602, "message": "Invalid param: WrongSize"})

    async with scripted_rpc(invalid_params) as primary, scripted_rpc(slot_answer(1)) as secondary:
        endpoints = RpcEndpoints([primary.url, secondary.url], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcRequestRejected, match="WrongSize"):
                await rpc.get_slot()
        assert secondary.requests == []
        assert endpoints.stats()[0].state == "closed"


def keyed_accounts(request: dict[str, Any]) -> Response:
    """Answer getMultipleAccounts with lamports = the last two bytes of each requested key."""
    keys = request["params"][0]
    value = [
        {
            "data": [base64.b64encode(b"").decode(), "base64"],
            "executable": False,
            "lamports": int.from_bytes(bytes(Pubkey.from_string(k))[-2:], "big"),
            "owner": "11111111111111111111111111111111",
            "rentEpoch": 0,
            "space": 0,
        }
        for k in keys
    ]
    return result(request, {"context": {"slot": 1}, "value": value})


async def test_250_accounts_take_three_calls_in_order() -> None:
    keys = [Pubkey.from_bytes(bytes(30) + index.to_bytes(2, "big")) for index in range(250)]
    async with scripted_rpc(keyed_accounts) as node:
        endpoints = RpcEndpoints([node.url], FAST)
        async with endpoints.session() as rpc:
            accounts = await rpc.get_multiple_accounts(keys)
    assert sorted(len(r["params"][0]) for r in node.requests) == [50, 100, 100]
    assert [account.lamports if account else None for account in accounts] == list(range(250))


async def test_program_accounts_filter_pools_by_status() -> None:
    def no_accounts(request: dict[str, Any]) -> Response:
        return result(request, [])

    program_id = Pubkey.from_string("4wgBJUHydWXXJKXYsmdGoGw1ufC3dxz8q2mukFYaAhSm")
    async with scripted_rpc(no_accounts) as node:
        endpoints = RpcEndpoints([node.url], FAST)
        async with endpoints.session() as rpc:
            assert await rpc.get_program_accounts(program_id, pool_filters(PoolStatus.LOCKED)) == []
    params = node.requests[0]["params"]
    assert params[0] == str(program_id)
    assert params[1]["filters"] == [
        {"dataSize": 488},
        {"memcmp": {"offset": 0, "encoding": "base58", "bytes": "hQrXeCntzbV"}},
        {"memcmp": {"offset": 368, "encoding": "base58", "bytes": "2"}},
    ]


async def test_send_fails_over_only_when_nothing_was_delivered() -> None:
    def accept(request: dict[str, Any]) -> Response:
        return result(request, SIGNATURE)

    async with scripted_rpc(accept) as secondary:
        endpoints = RpcEndpoints([refused_url(), secondary.url], FAST)
        async with endpoints.session() as rpc:
            signature = await rpc.send_raw_transaction(b"\x01" * 64, TxOpts(skip_preflight=True))
        assert str(signature) == SIGNATURE


async def test_send_is_never_blindly_retried() -> None:
    async with scripted_rpc(server_error) as primary, scripted_rpc(slot_answer(1)) as secondary:
        endpoints = RpcEndpoints([primary.url, secondary.url], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcSendFailed) as raised:
                await rpc.send_raw_transaction(b"\x01" * 64, TxOpts(skip_preflight=True))
        assert raised.value.kind is FailureKind.HTTP_5XX
        assert raised.value.may_have_landed
        assert len(primary.requests) == 1
        assert secondary.requests == []


async def test_preflight_failure_carries_the_program_error() -> None:
    def preflight_failed(request: dict[str, Any]) -> Response:
        data = {
            "accounts": None,
            "err": {"InstructionError": [0, {"Custom": 6021}]},
            "logs": ["Program log: AnchorError ... InvalidPoolStatus"],
            "unitsConsumed": 1000,
            "returnData": None,
        }
        return rpc_error(request, {"code": -32002, "message": "Transaction simulation failed", "data": data})

    async with scripted_rpc(preflight_failed) as node:
        endpoints = RpcEndpoints([node.url], FAST)
        async with endpoints.session() as rpc:
            with pytest.raises(RpcRequestRejected) as raised:
                await rpc.send_raw_transaction(b"\x01" * 64)
    error = raised.value.transaction_error
    assert error is not None
    assert (error.code, error.name) == (6021, "InvalidPoolStatus")
    assert json.loads(json.dumps(node.requests[0]))["method"] == "sendTransaction"


async def test_get_transaction_is_always_asked_at_finalized() -> None:
    # Even endpoints whose reads default to `confirmed` must verify reports only once they cannot roll back.
    async with scripted_rpc(lambda request: result(request, None)) as node:
        endpoints = RpcEndpoints([node.url], replace(FAST, commitment=Confirmed))
        async with endpoints.session() as rpc:
            answer = await rpc.get_transaction(Signature.from_string(SIGNATURE))
    assert answer.value is None
    (request,) = node.requests
    assert request["method"] == "getTransaction"
    assert request["params"][1]["commitment"] == "finalized"
    assert request["params"][1]["maxSupportedTransactionVersion"] == 0
