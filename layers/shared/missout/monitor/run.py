"""Build one tick's collaborators inside the running event loop and run it (HTTP clients are bound to the
loop that made them, so they live exactly as long as the tick)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx2
from solders.keypair import Keypair
from sqlalchemy.engine import Engine

from missout.chain.rpc import RpcSession
from missout.chain.send import DurableSender, SendPolicy
from missout.chain.switchboard import GatewayClient, GatewayHealthProbe, GatewayRetryPolicy, SwitchboardConfig
from missout.chain.switchboard.gateway import Sleep
from missout.monitor.act import Actor, ActorConfig
from missout.monitor.tick import Monitor, TickConfig, TickReport


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
    # Newer gateways read the randomness account through the caller's endpoint when one is named
    # (docs/switchboard.md): only a key-less public one from settings, never our own keyed RPC URLs.
    gateway = GatewayClient(gateway_http, gateway_policy, rpc_url=reveal_rpc_url, sleep=gateway_sleep)
    health = GatewayHealthProbe(gateway_http) if probe_gateway_health else None
    actor = Actor(
        rpc,
        sender,
        dev,
        gateway,
        ActorConfig(config.program_id, switchboard, randomness_secret),
        health=health,
    )
    return await Monitor(engine, rpc, sender, actor, config, rng).tick(remaining_ms)
