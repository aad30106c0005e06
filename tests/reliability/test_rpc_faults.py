"""The RPC primary down, slow (past the timeout) or answering garbage while players report joins: each join is
verified through `RpcEndpoints` (primary: the faulty node; secondary: the local chain over HTTP), then
recorded through the app's database path. Nothing crashes, every join is still proven, and what is recorded
is exactly what happened on chain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.responses import Response

from localnet.server import create_rpc_app
from missout.chain.rpc import RpcEndpoints, RpcEndpointsConfig, RpcUnavailable
from missout.chain.verify import verify_join_pool
from missout.db import app_engine
from missout.db.tables import activity, participants
from missout.pools.chain_state import read_pool_state
from missout.pools.records import ChainPool
from missout.settings import database_settings
from tests.chain.rpc_server import refused_url, scripted_rpc
from tests.reliability.servers import serve, slow_node
from tests.reliability.workload import Join, attempt_join
from tests.support.database import TestDatabase
from tests.support.factories import SIG, insert_mint, insert_pool
from tests.support.verify_world import ENTRY, verify_world

JOINS_PER_FAULT = 6
SLOW_S = 2.0
CONFIG = RpcEndpointsConfig(
    request_timeout_s=0.5, read_rounds=2, backoff_base_s=0.01, backoff_max_s=0.02, failure_threshold=3
)


@asynccontextmanager
async def _down() -> AsyncIterator[str]:
    yield refused_url()


@asynccontextmanager
async def _slow() -> AsyncIterator[str]:
    async with serve(slow_node(delay_s=SLOW_S)) as url:
        yield url


def _garbage(_request: dict[str, Any]) -> Response:
    return Response("<html>502 Bad Gateway</html>", media_type="text/html")


@asynccontextmanager
async def _garbled() -> AsyncIterator[str]:
    async with scripted_rpc(_garbage) as node:
        yield node.url


FAULTS: dict[str, tuple[Callable[[], AbstractAsyncContextManager[str]], str]] = {
    "rpc primary down": (_down, "connection refused on every request"),
    "rpc primary slow": (_slow, f"answers after {SLOW_S} s, past its {CONFIG.request_timeout_s} s timeout"),
    "rpc primary garbage": (_garbled, "HTML instead of JSON-RPC"),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_joins_are_verified_and_recorded_exactly_despite_a_faulty_primary(
    fault: str, app_database: TestDatabase, direct_engine: Engine, fault_report: list[dict[str, Any]]
) -> None:
    faulty, how = FAULTS[fault]
    async with verify_world() as world, serve(create_rpc_app(world.chain)) as chain_url, faulty() as primary:
        insert_mint(direct_engine, address=str(world.mint))
        _, pool = world.create_pool(max_participants=20)
        players = [world.wallet() for _ in range(JOINS_PER_FAULT)]
        on_chain = {str(p.pubkey()): world.join(pool, p) for p in players}
        endpoints = RpcEndpoints([primary, chain_url], CONFIG)
        committed = unavailable = 0
        async with endpoints.session() as rpc:
            created = await read_pool_state(rpc, world.program_id, pool)
            pool_id = insert_pool(  # the row a registration writes; seats come from each join's sync
                direct_engine,
                pool_address=str(pool),
                mint=str(world.mint),
                creator_wallet=str(created.pool.creator),
                entry_amount=ENTRY,
                total_amount=ENTRY,
                max_participants=20,
                start_time=created.pool.start_at,
                create_signature=SIG(77),
            )
            for n, player in enumerate(players):
                try:
                    verified = await verify_join_pool(
                        on_chain[str(player.pubkey())],
                        pool=world.keys(pool),
                        wallet=player.pubkey(),
                        amount=ENTRY,
                        config=world.config,
                        fetcher=rpc,
                        clock=world.now,
                    )
                    # As the API: the pool's accounts read after the verified transaction, then recorded.
                    state = await read_pool_state(rpc, world.program_id, pool, min_slot=verified.slot)
                except RpcUnavailable:
                    unavailable += 1  # the API answers 503: acceptable, but it must not happen here
                    continue
                assert verified.amount == ENTRY
                read = ChainPool(state.pool, state.participants, state.vault_balance or 0, state.slot)
                join = Join(n, pool_id, str(player.pubkey()), str(verified.signature), read)
                outcome = attempt_join(join, app_engine(), database_settings())
                committed += outcome == "committed"
    primary_stats = endpoints.stats()[0]

    with direct_engine.connect() as conn:
        seats = {
            (row.wallet, row.join_signature)
            for row in conn.execute(
                select(participants).where(
                    participants.c.pool_id == pool_id, participants.c.join_signature.is_not(None)
                )
            )
        }
        amounts = conn.execute(select(activity.c.amount).where(activity.c.pool_id == pool_id)).scalars().all()
    wrong = len(seats - set(on_chain.items())) + sum(1 for a in amounts if a != ENTRY)
    fault_report.append(
        {
            "fault": fault,
            "scenario": f"primary {how}; secondary the local chain over HTTP; "
            f"{JOINS_PER_FAULT} reported joins verified and recorded",
            "test": "tests/reliability/test_rpc_faults.py",
            "tried": JOINS_PER_FAULT,
            "committed": committed,
            "failed_cleanly": unavailable,
            "committed_after_503": 0,
            "lost": JOINS_PER_FAULT - committed - unavailable,
            "half_written": 0,
            "other_errors": wrong,
            "recovered": committed == JOINS_PER_FAULT,
            "primary_failures": primary_stats.failures_by_kind,
            "primary_breaker": primary_stats.state,
        }
    )
    assert committed == JOINS_PER_FAULT
    assert seats == set(on_chain.items())  # exactly the joins that happened, by the wallets that made them
    assert amounts == [ENTRY] * JOINS_PER_FAULT
    assert primary_stats.failures >= 1  # the fault was really in the path
    assert primary_stats.successes == 0
