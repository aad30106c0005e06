"""The monitor against the local chain (in process, through the real solana-py client) and real PostgreSQL
through pgBouncer: pools made and filled by players on chain, registered in the record, then driven by real
ticks (`missout.monitor.run.run_tick`) with the modelled Switchboard oracle behind its HTTP gateway."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import httpx
from solders.account import Account
from solders.pubkey import Pubkey
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp

from localnet.spl_token import TOKEN_PROGRAM_ID, TokenAccount, pack_token_account, unpack_token_account
from missout.chain.accounts import decode_participants, decode_pool
from missout.chain.pda import associated_token_address
from missout.chain.send import SendPolicy
from missout.chain.switchboard import GatewayRetryPolicy, SwitchboardConfig
from missout.db.tables import crank_intents, pools
from missout.lifecycle import LifecycleSettings
from missout.monitor.backoff import BackoffPolicy
from missout.monitor.engine import monitor_engine, reset_monitor_engine
from missout.monitor.run import run_tick
from missout.monitor.tick import TickConfig, TickReport
from missout.pools.records import ChainPool, CreateTransaction, MintInfo, register_pool_from_chain
from tests.support.crank_world import ENTRY, GATEWAY_URL, LOCK_SECONDS, PROGRAM_ID, CrankWorld
from tests.support.factories import SIG

SECRET = bytes(range(32, 64))
FAST_SEND = SendPolicy(resend_interval_s=0.05, poll_interval_s=0.01, safety_margin_ms=200, lease_s=30)
FAST_GATEWAY = GatewayRetryPolicy(
    request_timeout_s=1.0, max_attempts=2, first_delay_s=0.01, max_delay_s=0.02, after_commit_s=0.0
)


def plenty() -> int:
    return 60_000


class MonitorWorld(CrankWorld):
    def __init__(self, seed: bytes, engine: Engine, gateway_url: str = GATEWAY_URL) -> None:
        super().__init__(seed, gateway_url)
        self.engine = engine
        for wallet in (self.dev, self.treasury):  # payout needs both fee accounts to exist
            self.fund(wallet.pubkey(), 0)
        self._registered = 0
        self.rng = random.Random(7)
        reset_monitor_engine()  # the test database's URL was just set
        self.app_engine = monitor_engine()

    def close(self) -> None:
        reset_monitor_engine()

    def fund(self, owner: Pubkey, amount: int) -> Pubkey:
        token = pack_token_account(TokenAccount(mint=self.mint, owner=owner, amount=amount))
        ata = associated_token_address(owner, self.mint, TOKEN_PROGRAM_ID)
        self.chain.set_account(ata, Account(self.chain.minimum_balance(len(token)), token, TOKEN_PROGRAM_ID))
        return ata

    def balance(self, owner: Pubkey) -> int:
        account = self.chain.get_account(associated_token_address(owner, self.mint, TOKEN_PROGRAM_ID))
        return 0 if account is None else unpack_token_account(bytes(account.data)).amount

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
                mint=MintInfo(self.mint, 6, TOKEN_PROGRAM_ID),
                create=create,
            )
        return registration.pool_id

    def vault_balance(self, pool: Pubkey) -> int:
        return self.balance(pool)

    def config(self, holder: str = "test-run", **overrides: Any) -> TickConfig:
        lifecycle = LifecycleSettings(dev_wallet=self.dev.pubkey(), close_randomness=False)
        fields: dict[str, Any] = {
            "holder": holder,
            "program_id": PROGRAM_ID,
            "lifecycle": lifecycle,
            "backoff": BackoffPolicy(base_s=0.05, cap_s=0.2, max_failures=3, stuck_recheck_s=0.5),
            "soon_s": 0.0,
        }
        return TickConfig(**(fields | overrides))

    async def tick(self, config: TickConfig | None = None, app: ASGIApp | None = None) -> TickReport:
        async with (
            self.rpc(app) as rpc,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app)) as http,
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
                send_policy=FAST_SEND,
                gateway_policy=FAST_GATEWAY,
                probe_gateway_health=False,
                rng=self.rng,
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
