"""The monitor against the local chain (in process, through the real solana-py client) and real PostgreSQL
through pgBouncer: pools made and filled by players on chain, registered in the record, then driven by real
ticks (`missout.monitor.run.run_tick`) with the modelled Switchboard oracle behind its HTTP gateway."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from localnet.spl_token import TOKEN_PROGRAM_ID
from missout.chain.accounts import decode_participants, decode_pool
from missout.chain.instructions import (
    build_cancel_pool,
    build_claim_refund,
)
from missout.chain.pool_keys import PoolKeys
from missout.chain.send import SendPolicy
from missout.chain.switchboard import GatewayRetryPolicy, SwitchboardConfig
from missout.chain.switchboard.gateway import Sleep
from missout.db.tables import crank_intents, participants, pools
from missout.lifecycle import LifecycleSettings
from missout.monitor.backoff import BackoffPolicy
from missout.monitor.engine import monitor_engine, reset_monitor_engine
from missout.monitor.run import run_tick
from missout.monitor.tick import TickConfig, TickReport
from missout.pools.records import ChainPool, CreateTransaction, MintInfo, register_pool_from_chain
from tests.support.crank_world import ENTRY, GATEWAY_URL, LOCK_SECONDS, PROGRAM_ID, CrankWorld
from tests.support.factories import SIG

SECRET = bytes(range(32, 64))
FAST_SEND = SendPolicy(resend_interval_s=0.05, poll_interval_s=0.01, safety_margin_ms=200, min_slice_ms=500)
FAST_GATEWAY = GatewayRetryPolicy(
    request_timeout_s=1.0, max_attempts=2, first_delay_s=0.01, max_delay_s=0.02, after_commit_s=0.0
)


def plenty() -> int:
    return 60_000


class MonitorWorld(CrankWorld):
    def __init__(
        self,
        seed: bytes,
        engine: Engine,
        gateway_url: str = GATEWAY_URL,
        *,
        fee_accounts: bool = True,
        token_program: Pubkey = TOKEN_PROGRAM_ID,
    ) -> None:
        """`fee_accounts`: the DEV wallet's and the treasury's token accounts exist from the start (as on a
        deployment that has paid out in this mint before); otherwise the monitor has to create them."""
        super().__init__(seed, gateway_url=gateway_url, token_program=token_program)
        self.engine = engine
        if fee_accounts:
            for wallet in (self.dev, self.treasury):
                self.token_account(wallet.pubkey(), 0)
        self._registered = 0
        self.rng = random.Random(7)
        reset_monitor_engine()  # the test database's URL was just set
        self.app_engine = monitor_engine()

    def close(self) -> None:
        reset_monitor_engine()

    def balance(self, owner: Pubkey) -> int:
        return self.token_balance(owner)

    def register(self, pool: Pubkey) -> int:
        """Record the pool as a verified create report does (`pools.records`), from its accounts now."""
        account = self.chain.get_account(pool)
        assert account is not None
        state = decode_pool(bytes(account.data))
        listed = self.chain.get_account(state.participants_account)
        assert listed is not None
        self._registered += 1
        chain_pool = ChainPool(
            state, decode_participants(bytes(listed.data)), self.vault_balance(pool), self.chain.clock.slot
        )
        create = CreateTransaction(
            signature=SIG(50_000 + self._registered),
            slot=self.chain.clock.slot,
            block_time=datetime.fromtimestamp(state.start_time, tz=UTC),
        )
        with self.engine.begin() as conn:
            registration = register_pool_from_chain(
                conn,
                address=pool,
                state=chain_pool,
                mint=MintInfo(self.mint, 6, self.token_program),
                create=create,
            )
        return registration.pool_id

    def vault_balance(self, pool: Pubkey) -> int:
        return self.token_balance(pool)

    def make_pool(
        self, *, size: int, joined: int, allow_mock: bool = False, lock_elapsed: bool = True
    ) -> tuple[Pubkey, list[Keypair]]:
        """A pool of `size` seats with `joined` taken (the creator included); a full one locks on chain and,
        unless told otherwise, its lock has elapsed."""
        pool, players = self.joined_pool(joined, size, allow_mock)
        if joined == size and lock_elapsed:
            self.chain.advance_time(LOCK_SECONDS + 1)
            self.chain.advance_slots(5)
        return pool, players

    def time_passes(self, seconds: int) -> None:
        """Move the chain's clock and, by as much, every check time the monitor stored (which are wall-clock
        times): as if `seconds` had really passed for both."""
        self.chain.advance_time(seconds)
        self.chain.advance_slots(max(1, int(seconds / 0.4)) if seconds < 3_000 else 5)
        with self.engine.begin() as conn:
            conn.execute(
                update(pools)
                .where(pools.c.next_check_at.is_not(None))
                .values(next_check_at=pools.c.next_check_at - timedelta(seconds=seconds))
            )

    def due_now(self) -> None:
        """Every pool due at once (a back-off or a wait the test does not want to sit through)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(pools).where(pools.c.next_check_at.is_not(None)).values(next_check_at=func.now())
            )

    def keys(self, pool: Pubkey) -> PoolKeys:
        return PoolKeys(pool, self.mint, self.token_program)

    def cancel(self, pool: Pubkey, creator: Keypair) -> None:
        self.submit(creator, [build_cancel_pool(PROGRAM_ID, self.keys(pool), creator.pubkey())])

    def refund(self, pool: Pubkey, player: Keypair) -> None:
        ix = build_claim_refund(PROGRAM_ID, self.keys(pool), self.treasury.pubkey(), player.pubkey())
        self.submit(player, [ix])

    def seats(self, pool_id: int) -> dict[str, int | None]:
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(participants.c.wallet, participants.c.seat).where(participants.c.pool_id == pool_id)
            )
            return {row.wallet: row.seat for row in rows}

    def config(self, holder: str = "test-run", **overrides: Any) -> TickConfig:
        lifecycle = LifecycleSettings(dev_wallet=self.dev.pubkey())
        fields: dict[str, Any] = {
            "holder": holder,
            "program_id": PROGRAM_ID,
            "lifecycle": lifecycle,
            "backoff": BackoffPolicy(base_s=0.05, cap_s=0.2, max_failures=3, stuck_recheck_s=0.5),
            "soon_s": 0.0,
        }
        return TickConfig(**(fields | overrides))

    async def tick(
        self,
        config: TickConfig | None = None,
        app: ASGIApp | None = None,
        gateway: ASGIApp | None = None,
        send_policy: SendPolicy = FAST_SEND,
        gateway_policy: GatewayRetryPolicy = FAST_GATEWAY,
        gateway_sleep: Sleep = asyncio.sleep,
    ) -> TickReport:
        async with (
            self.rpc(app) as rpc,
            httpx2.AsyncClient(transport=httpx2.ASGITransport(app=gateway or self.app)) as http,
        ):
            return await run_tick(
                rpc=rpc,
                gateway_http=http,
                dev=self.dev,
                randomness_secret=SECRET,
                switchboard=SwitchboardConfig.devnet(),
                config=config or self.config(),
                remaining_ms=plenty,
                engine=self.app_engine,
                send_policy=send_policy,
                gateway_policy=gateway_policy,
                probe_gateway_health=False,
                rng=self.rng,
                gateway_sleep=gateway_sleep,
            )

    def record(self, pool_id: int) -> dict[str, Any]:
        with self.engine.begin() as conn:
            return dict(conn.execute(select(pools).where(pools.c.id == pool_id)).one()._mapping)

    def intents(self, pool_id: int | None = None) -> list[dict[str, Any]]:
        query = select(crank_intents).order_by(crank_intents.c.id)
        if pool_id is not None:
            query = query.where(crank_intents.c.pool_id == pool_id)
        with self.engine.begin() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def dev_transactions(self) -> int:
        return len(self.chain.history.signatures_for_address(self.dev.pubkey(), limit=10_000))


__all__ = ["ENTRY", "LOCK_SECONDS", "PROGRAM_ID", "MonitorWorld", "plenty"]
