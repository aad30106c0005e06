"""What a fresh monitor process loads, at init and on its first tick: the real handler in a fresh interpreter,
against the local chain over HTTP and PostgreSQL through pgBouncer.

Two groups of modules are left out of init and loaded by the tick that needs them: the actor (instruction
builders, Switchboard's gateway client, oracle choice, reveal, draw bundles: `missout.monitor.run`) and the
payout reader (the payout transaction's reader, the event codecs and the outcome's writer:
`Monitor._record_outcome`). A tick with nothing due needs neither; the tick that pays a drawn pool needs both,
and must load them and work."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from missout.chain.accounts import PoolStatus
from tests.monitor.drive import drive_until, payouts
from tests.monitor.served import monitor_handler_env
from tests.monitor.world import SECRET, MonitorWorld
from tests.support.database import TestDatabase
from tests.support.fresh_process import run_fresh
from tests.support.http_server import free_socket, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.localnet]

ACTOR_MODULES = (
    "missout.monitor.act",
    "missout.chain.instructions",
    "missout.chain.switchboard.gateway",
    "missout.chain.switchboard.health",
    "missout.chain.switchboard.oracles",
    "missout.chain.switchboard.selection",
    "missout.chain.switchboard.reveal",
    "missout.chain.switchboard.bundles",
)
PAYOUT_MODULES = ("missout.monitor.payout_tx", "missout.pools.outcome", "missout.chain.events")

# One handler invocation that runs exactly one tick: the next tick's slot (a minute away) would not fit in
# the invocation's budget.
_CHILD = """
import json, sys
from local_lambda import lambda_context
watched = json.loads(sys.argv[1])
import missout_monitor.handler as monitor
at_init = [m for m in watched if m in sys.modules]
event = {"scheduled_time": "2025-11-25T19:05:00Z", "execution_id": "cold-paths", "attempt": "1"}
summary = monitor.handler(event, lambda_context("monitor", 20.0))
after_tick = [m for m in watched if m in sys.modules]
print(json.dumps({"at_init": at_init, "after_tick": after_tick, "summary": summary}))
"""
# What the handler reads from its environment (the database, the chain, its keys, the monitor's knobs).
_PREFIXES = ("DATABASE_URL", "SOLANA_", "DEV_WALLET_", "RANDOMNESS_", "MONITOR_", "PROGRAM_ID", "TREASURY_")


@pytest.fixture
def served(
    app_database: TestDatabase, direct_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[MonitorWorld]:
    """A world whose chain is served over HTTP, and the handler's environment pointing at it."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    world = MonitorWorld(b"monitor-cold-paths", direct_engine, gateway_url=url)
    with (
        monitor_handler_env(
            monkeypatch,
            tmp_path,
            rpc_url=url,
            dev=world.dev,
            randomness_secret=SECRET,
            MONITOR_TICK_SECONDS="60",
        ),
        serve_in_thread(world.app, sock),
    ):
        yield world
    world.close()


def _one_tick_in_a_fresh_process() -> dict[str, Any]:
    env = {name: value for name, value in os.environ.items() if name.startswith(_PREFIXES)}
    result = run_fresh(_CHILD, json.dumps([*ACTOR_MODULES, *PAYOUT_MODULES]), env=env)
    summary = result["summary"]
    assert (summary["ticks"], summary["failed_ticks"]) == (1, 0), summary
    return result


def test_a_tick_with_nothing_due_loads_neither_the_actor_nor_the_payout_reader(
    served: MonitorWorld, direct_engine: Engine
) -> None:
    world = served
    world.register(world.full_pool(participants=2))
    with direct_engine.begin() as conn:  # registered, seen by discovery, but not due for a day
        conn.execute(text("UPDATE pools SET next_check_at = now() + interval '1 day'"))
    result = _one_tick_in_a_fresh_process()
    assert result["at_init"] == []
    assert result["after_tick"] == []
    assert result["summary"]["pools_seen"] == 0


async def test_the_tick_that_pays_a_drawn_pool_loads_both_and_records_the_payout(
    served: MonitorWorld,
) -> None:
    world = served
    pool = world.full_pool(participants=2)
    pool_id = world.register(pool)
    # In this process, up to the draw only (unlock, request, reveal + select): the fresh one pays.
    to_draw = world.config(steps_per_pool=3)
    await drive_until(world, lambda: world.pool_status(pool) is PoolStatus.WINNER_SELECTED, config=to_draw)
    world.due_now()
    result = _one_tick_in_a_fresh_process()
    assert result["at_init"] == []
    assert result["after_tick"] == [*ACTOR_MODULES, *PAYOUT_MODULES]
    assert world.pool_status(pool) is PoolStatus.ENDED
    assert ("payout_winner", "finalized") in [(i["action"], i["status"]) for i in world.intents(pool_id)]
    paid = payouts(world)[pool_id]  # recorded by the same tick, from the payout transaction
    parts = ("winner_amount", "dev_amount", "treasury_amount", "burn_amount")
    assert sum(paid[part] for part in parts) == paid["total_amount"] > 0
