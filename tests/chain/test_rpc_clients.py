"""RPC clients kept per event loop (missout.chain.rpc.clients) against real local HTTP servers: reused
within a loop (same client, same TCP connection), new in a new loop, closed when their loop shuts down,
rebuilt when closed or suspect, and all built on one TLS context per process."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from solana.rpc.async_api import AsyncClient

from missout.chain.rpc import RpcEndpoints, RpcEndpointsConfig, failover
from missout.chain.rpc.clients import SharedTlsClient, forget_clients, process_ssl_context

from .rpc_server import refused_url, scripted_rpc, scripted_rpc_in_thread, slot_answer

FAST = RpcEndpointsConfig(request_timeout_s=2.0, read_rounds=1, backoff_base_s=0.01, backoff_max_s=0.02)


def closed(client: SharedTlsClient) -> bool:
    # A function, not the property inline: mypy would take the value as fixed between two asserts.
    return client.http.is_closed


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[SharedTlsClient]:
    """Every client `RpcEndpoints` builds during the test, in order (the real class, recorded)."""
    clients: list[SharedTlsClient] = []

    class Recorded(SharedTlsClient):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            clients.append(self)

    monkeypatch.setattr(failover, "SharedTlsClient", Recorded)
    return clients


async def test_two_sessions_on_one_loop_share_the_client_and_its_connection(
    built: list[SharedTlsClient],
) -> None:
    async with scripted_rpc(slot_answer(7)) as node:
        endpoints = RpcEndpoints([node.url], FAST)
        for _ in range(2):
            async with endpoints.session() as rpc:
                assert await rpc.get_slot() == 7
        assert len(built) == 1
        assert len(node.peers) == 2
        assert node.peers[0] == node.peers[1]  # the second report rode the first one's keep-alive connection
        await endpoints.close_clients()
        assert closed(built[0])


def test_each_asyncio_run_gets_its_own_clients_closed_when_it_ends(built: list[SharedTlsClient]) -> None:
    with scripted_rpc_in_thread(slot_answer(11)) as node:
        endpoints = RpcEndpoints([node.url], FAST)  # module-level style: built outside any loop

        async def tick() -> int:
            async with endpoints.session() as rpc:
                return await rpc.get_slot()

        # A client reused from the first loop would fail with "Event loop is closed" in the second.
        assert asyncio.run(tick()) == 11
        assert closed(built[0])  # the loop's shutdown closed it: no socket outlives asyncio.run
        assert asyncio.run(tick()) == 11
    assert len(built) == 2
    assert closed(built[1])


async def test_a_closed_client_is_rebuilt_not_reused(built: list[SharedTlsClient]) -> None:
    async with scripted_rpc(slot_answer(5)) as node:
        endpoints = RpcEndpoints([node.url], FAST)
        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 5
        await built[0].close()
        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 5
        assert len(built) == 2
        assert not closed(built[1])
        await endpoints.close_clients()


async def test_a_client_that_could_not_connect_is_replaced_and_failover_still_works(
    built: list[SharedTlsClient],
) -> None:
    async with scripted_rpc(slot_answer(9)) as secondary:
        endpoints = RpcEndpoints([refused_url(), secondary.url], FAST)
        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 9
        primary_first, secondary_first = built
        assert closed(primary_first)  # suspect after a connect failure: closed with the session
        assert not closed(secondary_first)

        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 9
        assert len(built) == 3  # a fresh primary client; the healthy secondary's is kept
        assert closed(built[2])
        assert [stats.failures_by_kind for stats in endpoints.stats()] == [{"connect": 2}, {}]
        await endpoints.close_clients()
        assert closed(secondary_first)


async def test_a_client_in_use_by_another_session_is_closed_only_after_it(
    built: list[SharedTlsClient],
) -> None:
    async with scripted_rpc(slot_answer(3)) as node:
        endpoints = RpcEndpoints([node.url], FAST)
        async with endpoints.session() as outer:
            async with endpoints.session() as inner:
                inner.suspect_clients.append(built[0])  # as a timeout would mark it
            assert not closed(built[0])  # `outer` still uses it
            assert await outer.get_slot() == 3
        assert closed(built[0])
        async with endpoints.session() as rpc:
            assert await rpc.get_slot() == 3
        assert len(built) == 2
        await endpoints.close_clients()


def test_all_clients_share_one_tls_context_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[None] = []
    original = httpx2.create_ssl_context

    def counted(*args: object, **kwargs: object) -> object:
        loads.append(None)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx2, "create_ssl_context", counted)
    process_ssl_context.cache_clear()
    try:
        endpoints = RpcEndpoints(["https://one.invalid", "https://two.invalid"], FAST)

        async def session_clients() -> list[AsyncClient]:
            async with endpoints.session() as rpc:
                return [client for _, client in rpc._routes]

        first = asyncio.run(session_clients())
        second = asyncio.run(session_clients())
    finally:
        process_ssl_context.cache_clear()
    assert len({id(client) for client in first + second}) == 4  # two loops, two endpoints each
    assert len(loads) == 1


def test_our_client_carries_every_attribute_a_stock_solana_py_client_has() -> None:
    """The guard for building solana-py's client without its constructor (which loads its own SSL context):
    a solana-py upgrade that adds state fails here."""
    stock = AsyncClient("http://127.0.0.1:1", timeout=2.0, max_transport_retries=0)
    ours = SharedTlsClient("http://127.0.0.1:1", stock.commitment, 2.0, 0.0)
    assert set(vars(stock)) <= set(vars(ours))
    assert set(vars(stock._provider)) == set(vars(ours._provider))
    assert type(ours._provider.session) is type(stock._provider.session)
    assert ours._provider.session.timeout == stock._provider.session.timeout
    assert ours.commitment == stock.commitment


def test_forget_clients_closes_an_idle_loops_clients_and_drops_them(built: list[SharedTlsClient]) -> None:
    loop = asyncio.new_event_loop()  # no shutdown between calls: it lives on, like the API handler's loop
    try:
        with scripted_rpc_in_thread(slot_answer(1)) as node:
            endpoints = RpcEndpoints([node.url], FAST)

            async def one_read() -> None:
                async with endpoints.session() as rpc:
                    assert await rpc.get_slot() == 1

            loop.run_until_complete(one_read())
            assert not closed(built[0])
            forget_clients()  # what SnapStart's hooks call
            assert closed(built[0])
            loop.run_until_complete(one_read())
            assert len(built) == 2  # forgotten, so rebuilt
        loop.run_until_complete(loop.shutdown_asyncgens())
        assert closed(built[1])
    finally:
        loop.close()
