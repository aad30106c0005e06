"""Build one tick's collaborators inside the running event loop and run it (HTTP clients are bound to the
loop that made them, so they live exactly as long as the tick).

The actor (instruction builders, Switchboard's gateway client, oracle choice, reveal, draw bundles) is built,
and its modules imported, only when a pool of this tick has something to send: a tick with nothing due, the
usual one on a quiet deployment, never loads them (tests/handlers/test_cold_start_imports.py).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx2
from solders.keypair import Keypair
from sqlalchemy.engine import Engine

from missout.chain.rpc import RpcSession
from missout.chain.send import DurableSender, SendPolicy
from missout.chain.switchboard import SwitchboardConfig
from missout.db.scope import connection_scope
from missout.monitor.tick import Monitor, TickConfig, TickReport

if TYPE_CHECKING:
    from missout.chain.switchboard.gateway import GatewayRetryPolicy, Sleep
    from missout.monitor.act import Actor


async def run_tick(
    *,
    rpc: RpcSession,
    gateway_http: httpx2.AsyncClient,
    dev: Keypair,
    randomness_secret: bytes,
    switchboard: SwitchboardConfig,
    config: TickConfig,
    remaining_ms: Callable[[], int],
    engine: Engine | None = None,
    send_policy: SendPolicy | None = None,
    gateway_policy: GatewayRetryPolicy | None = None,
    probe_gateway_health: bool = True,
    reveal_rpc_url: str | None = None,
    rng: random.Random | None = None,
    gateway_sleep: Sleep = asyncio.sleep,
) -> TickReport:
    """`gateway_sleep` is how the reveal's pauses are taken (tests pass one that records them)."""
    sender = DurableSender(
        rpc, dev, remaining_ms, program_id=config.program_id, engine=engine, policy=send_policy
    )

    def make_actor() -> Actor:
        from missout.chain.switchboard.gateway import GatewayClient
        from missout.chain.switchboard.health import GatewayHealthProbe
        from missout.monitor.act import Actor, ActorConfig

        # Newer gateways read the randomness account through the caller's endpoint when one is named
        # (docs/switchboard.md): only a key-less public one from settings, never our own keyed RPC URLs.
        gateway = GatewayClient(gateway_http, gateway_policy, rpc_url=reveal_rpc_url, sleep=gateway_sleep)
        health = GatewayHealthProbe(gateway_http) if probe_gateway_health else None
        return Actor(
            rpc,
            sender,
            dev,
            gateway,
            ActorConfig(config.program_id, switchboard, randomness_secret),
            health=health,
        )

    # One database connection for the tick's transactions (intents, outcomes, records): missout/db/scope.py.
    with connection_scope():
        return await Monitor(engine, rpc, sender, make_actor, config, rng).tick(remaining_ms)
