"""The monitor as the Lambda (and `make dev`) runs it: settings, keys and RPC endpoints loaded once per
process, one tick per call, metrics and a summary line per tick."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import httpx2
from aws_lambda_powertools.metrics import MetricUnit
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from missout.chain.rpc import RpcEndpoints, RpcError
from missout.chain.rpc.clients import process_ssl_context
from missout.chain.send import policy_from_settings
from missout.chain.signer import load_dev_wallet, load_randomness_secret, load_treasury_wallet
from missout.chain.switchboard import SwitchboardConfig
from missout.db.scope import connection_scope
from missout.db.tables import pools
from missout.db.transaction import DatabaseUnavailable, transaction
from missout.lifecycle import LifecycleSettings
from missout.monitor.backoff import BackoffPolicy
from missout.monitor.discover import discover_pools
from missout.monitor.engine import monitor_engine
from missout.monitor.run import run_tick
from missout.monitor.tick import TickConfig, TickReport
from missout.observability import logger, metrics
from missout.ratelimit import delete_ended_windows
from missout.referrals.payouts import PayoutCaps, pay_queued_claims
from missout.settings import (
    MonitorSettings,
    api_settings,
    chain_settings,
    crank_settings,
    monitor_settings,
    signer_settings,
)


@cache
def rpc_endpoints() -> RpcEndpoints:
    """Endpoint health (breakers, statistics) survives between ticks and warm invocations."""
    return RpcEndpoints(chain_settings().rpc_urls)


@cache
def load_keys() -> tuple[Keypair, bytes]:
    signer = signer_settings()
    return load_dev_wallet(signer), load_randomness_secret(signer)


@cache
def treasury_key() -> Keypair | None:
    signer = signer_settings()
    if signer.treasury_wallet_secret_arn is None and signer.treasury_wallet_keypair_path is None:
        return None
    return load_treasury_wallet(signer)


def payout_caps() -> PayoutCaps:
    signer = signer_settings()
    return PayoutCaps(signer.referral_payout_max_per_claim, signer.referral_payout_max_per_day)


def tick_config(settings: MonitorSettings, holder: str, program_id: Pubkey, dev: Pubkey) -> TickConfig:
    return TickConfig(
        holder=holder,
        program_id=program_id,
        lifecycle=LifecycleSettings(
            dev_wallet=dev,
            mock_randomness=settings.mock_randomness,
            deadline_warning_slots=settings.deadline_warning_slots,
            close_randomness=settings.close_randomness,
        ),
        backoff=BackoffPolicy(
            base_s=settings.backoff_base_seconds,
            cap_s=settings.backoff_cap_seconds,
            max_failures=settings.max_failures,
            stuck_recheck_s=settings.stuck_recheck_seconds,
        ),
        limit=settings.due_pools_limit,
        lease_s=settings.lease_seconds,
        steps_per_pool=settings.steps_per_pool,
        concurrency=settings.pool_concurrency,
        soon_s=min(settings.tick_seconds, 2.0),
    )


@dataclass
class MonitorService:
    holder: str
    settings: MonitorSettings
    program_id: Pubkey
    switchboard: SwitchboardConfig
    dev: Keypair
    randomness_secret: bytes
    engine: Engine
    rpc: RpcEndpoints
    rng: random.Random = field(default_factory=random.Random)
    treasury: Keypair | None = None  # pays referral claims; None: no treasury key configured, claims wait
    payout_caps: PayoutCaps = field(default_factory=lambda: payout_caps())
    _last_discovery: float = float("-inf")

    @classmethod
    def from_environment(cls, holder: str) -> MonitorService:
        chain = chain_settings()
        dev, secret = load_keys()
        return cls(
            holder=holder,
            settings=monitor_settings(),
            program_id=Pubkey.from_string(chain.program_id),
            switchboard=SwitchboardConfig(
                Pubkey.from_string(chain.switchboard_program_id), Pubkey.from_string(chain.switchboard_queue)
            ),
            dev=dev,
            randomness_secret=secret,
            engine=monitor_engine(),
            rpc=rpc_endpoints(),
            treasury=treasury_key(),
            payout_caps=payout_caps(),
        )

    def _forget_ended_rate_windows(self) -> None:
        """The API's rate-limit counters live in one UNLOGGED table; the monitor keeps it small (once a
        minute, with the discovery sweep). A failure here only delays the clean-up."""
        try:
            with transaction(self.engine) as conn:
                gone = delete_ended_windows(conn, longest_window_s=api_settings().rate_limit_window_s)
        except DatabaseUnavailable as exc:
            logger().warning("rate-limit clean-up failed", extra={"error": str(exc)[:300]})
            return
        if gone:
            logger().info("rate-limit windows deleted", extra={"rows": gone})

    async def tick(self, remaining_ms: Callable[[], int]) -> TickReport:
        started = time.monotonic()
        config = tick_config(self.settings, self.holder, self.program_id, self.dev.pubkey())
        # The tick's transactions share one database connection, closed when it ends (missout/db/scope.py).
        with connection_scope():
            report = await self._tick(remaining_ms, config)
            emit_tick_metrics(report, stuck_pools(self.engine), time.monotonic() - started)
        return report

    async def _tick(self, remaining_ms: Callable[[], int], config: TickConfig) -> TickReport:
        # Both clients belong to this tick's loop, and both use the process's one TLS context: a tick loads no
        # CA bundle (about 30 ms each). The gateway client thereby trusts the system's CAs, as the RPC clients
        # do. It is an httpx2 client, the library solana-py's client already loads: importing httpx as well
        # cost the cold start 17-44 ms of CPU for a second copy of the same client (bench/ cold start).
        async with self.rpc.session() as rpc, httpx2.AsyncClient(verify=process_ssl_context()) as http:
            if time.monotonic() - self._last_discovery >= self.settings.discover_every_seconds:
                self._last_discovery = time.monotonic()
                try:
                    await discover_pools(rpc, self.engine, self.program_id, self.dev.pubkey())
                except RpcError as exc:
                    logger().warning("pool discovery failed", extra={"error": str(exc)[:300]})
                self._forget_ended_rate_windows()
            report = await run_tick(
                rpc=rpc,
                gateway_http=http,
                dev=self.dev,
                randomness_secret=self.randomness_secret,
                switchboard=self.switchboard,
                config=config,
                remaining_ms=remaining_ms,
                engine=self.engine,
                probe_gateway_health=self.settings.probe_gateway_health,
                reveal_rpc_url=chain_settings().switchboard_reveal_rpc_url,
                send_policy=policy_from_settings(crank_settings()),
                rng=self.rng,
            )
            if self.treasury is not None:
                await pay_queued_claims(
                    self.engine,
                    rpc,
                    self.treasury,
                    self.payout_caps,
                    remaining_ms,
                    policy=policy_from_settings(crank_settings()),
                )
        return report


def stuck_pools(engine: Engine | None) -> int:
    with transaction(engine) as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(pools).where(pools.c.stuck_reason.is_not(None))
            ).scalar_one()
        )


def emit_tick_metrics(report: TickReport, stuck: int, seconds: float) -> None:
    """Per tick (flushed at once, so each tick is its own EMF line): the heartbeat the alarm watches, pools
    seen, actions by type and outcome, lag, stuck pools, dead ends and the closest randomness deadline."""
    emf = metrics()
    emf.add_metric(name="TicksCompleted", unit=MetricUnit.Count, value=1)
    emf.add_metric(name="PoolsSeen", unit=MetricUnit.Count, value=report.pools_seen)
    emf.add_metric(name="LagSeconds", unit=MetricUnit.Seconds, value=report.lag_s)
    emf.add_metric(name="TickSeconds", unit=MetricUnit.Seconds, value=seconds)
    emf.add_metric(name="StuckPools", unit=MetricUnit.Count, value=stuck)
    emf.add_metric(name="DeadEndPools", unit=MetricUnit.Count, value=len(report.dead_ends))
    emf.add_metric(
        name="DeadlineAtRiskPools", unit=MetricUnit.Count, value=report.alerts.get("deadline_at_risk", 0)
    )
    if report.min_slots_left is not None:
        emf.add_metric(name="RandomnessSlotsLeft", unit=MetricUnit.Count, value=report.min_slots_left)
    for (action, progress), count in sorted(report.actions.items()):
        emf.add_metric(name=f"Action.{action}.{progress}", unit=MetricUnit.Count, value=count)
    emf.flush_metrics()
    logger().info(
        "tick",
        extra={
            "pools_seen": report.pools_seen,
            "actions": {f"{a}.{p}": n for (a, p), n in sorted(report.actions.items())},
            "resumed": report.resumed,
            "stuck": stuck,
            "dead_ends": len(report.dead_ends),
            "min_slots_left": report.min_slots_left,
            "lag_s": round(report.lag_s, 1),
            "seconds": round(seconds, 2),
        },
    )
