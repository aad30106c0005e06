"""One monitor tick: resume what a crashed run left in flight, lease the due pools, read them from the chain
in batches, bring their records in line, decide each one's next action, act through the durable sender,
record outcomes, and give every lease back with the time of the next look.

No database transaction is open while the chain is read or written: the lease, each record update and each
release are short transactions of their own (behind pgBouncer in transaction mode a transaction held across
an RPC call would pin a server connection).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from solders.pubkey import Pubkey
from solders.signature import Signature
from sqlalchemy import select
from sqlalchemy.engine import Engine

from missout.chain.rpc import RpcError, RpcSession
from missout.chain.send import DurableSender
from missout.db.tables import crank_intents, pool_payouts, pools
from missout.db.transaction import transaction
from missout.lifecycle import Action, Alert, Decision, LifecycleSettings, next_action
from missout.monitor.backoff import BackoffPolicy
from missout.monitor.read import PoolRead, Snapshot, read_pools
from missout.monitor.results import ActResult, Progress
from missout.observability import logger
from missout.pools.due import DuePool, Verdict, lease_due_pools, release_pool
from missout.pools.records import ChainPool, NotThisPool, record_pool_account_closed, sync_pool_from_chain

if TYPE_CHECKING:
    from missout.monitor.act import Actor

RemainingMs = Callable[[], int]


@dataclass(frozen=True, slots=True)
class TickConfig:
    holder: str  # who holds the leases: this invocation
    program_id: Pubkey
    lifecycle: LifecycleSettings
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    limit: int = 100  # pools leased per tick
    lease_s: float = 120.0
    steps_per_pool: int = 6  # actions one pool may take in one tick (each re-read from the chain first)
    concurrency: int = 16  # pools driven at once
    # A pool that could not act for a reason that is nobody's fault (too early, in flight, another run holds
    # it, more steps to take) is looked at again after this long.
    soon_s: float = 2.0


@dataclass
class TickReport:
    pools_seen: int = 0
    actions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (action, progress) -> count
    alerts: Counter[str] = field(default_factory=Counter)
    dead_ends: dict[int, str] = field(default_factory=dict)
    stuck: dict[int, str] = field(default_factory=dict)
    min_slots_left: int | None = None
    lag_s: float = 0.0  # how late the most overdue pool was when leased
    resumed: int = 0

    def note_slots_left(self, slots_left: int | None) -> None:
        if slots_left is not None:
            self.min_slots_left = (
                slots_left if self.min_slots_left is None else min(self.min_slots_left, slots_left)
            )


@dataclass
class _PoolRun:
    """What happened to one pool during this tick."""

    due: DuePool
    decision: Decision | None = None
    failure: str | None = None
    later: bool = False
    progressed: bool = False
    check_at_wall: datetime | None = None


class Monitor:
    """The tick's collaborators, built once per tick by the caller (they live in one event loop). The actor is
    made by `make_actor` when the first pool has something to send, at most once per tick."""

    def __init__(
        self,
        engine: Engine | None,
        rpc: RpcSession,
        sender: DurableSender,
        make_actor: Callable[[], Actor],
        config: TickConfig,
        rng: random.Random | None = None,
    ) -> None:
        self._engine, self._rpc, self._sender, self._config = engine, rpc, sender, config
        self._make_actor = make_actor
        self._actor: Actor | None = None
        self._rng = rng or random.Random()

    def _acting(self) -> Actor:
        if self._actor is None:  # no await in between: concurrent pools of this tick share one actor
            self._actor = self._make_actor()
        return self._actor

    async def tick(self, remaining_ms: RemainingMs) -> TickReport:
        report = TickReport()
        report.resumed = len(await self._sender.resume())
        with transaction(self._engine) as conn:
            due = lease_due_pools(
                conn, limit=self._config.limit, holder=self._config.holder, lease_s=self._config.lease_s
            )
        report.pools_seen = len(due)
        report.lag_s = _lag_s(due)
        if not due:
            return report
        try:
            snapshot = await self._read(due)
        except RpcError as exc:
            # Nothing was done: give every pool back for a retry with back-off.
            for pool in due:
                self._release(_PoolRun(pool, failure=f"rpc read: {exc}"[:300]), report)
            return report
        limit = asyncio.Semaphore(self._config.concurrency)

        async def drive(pool: DuePool) -> None:
            async with limit:
                run = await self._drive(pool, snapshot, remaining_ms, report)
            self._release(run, report)

        await asyncio.gather(*(drive(pool) for pool in due))
        return report

    async def _read(self, due: list[DuePool]) -> Snapshot:
        addresses = [Pubkey.from_string(pool.address) for pool in due]
        return await read_pools(self._rpc, self._config.program_id, addresses, recorded=self._recorded(due))

    def _recorded(self, due: list[DuePool]) -> frozenset[Pubkey]:
        ids = [pool.id for pool in due]
        with transaction(self._engine) as conn:
            rows = conn.execute(
                select(pools.c.pool_address)
                .join(pool_payouts, pool_payouts.c.pool_id == pools.c.id)
                .where(pools.c.id.in_(ids))
            ).scalars()
            return frozenset(Pubkey.from_string(address) for address in rows)

    async def _drive(
        self, due: DuePool, snapshot: Snapshot, remaining_ms: RemainingMs, report: TickReport
    ) -> _PoolRun:
        run = _PoolRun(due)
        address = Pubkey.from_string(due.address)
        read, clock = snapshot.pools[address], snapshot.clock
        for step in range(self._config.steps_per_pool + 1):
            if read.observed is None:
                self._gone(run, read, clock.slot)
                return run
            decision = next_action(read.observed, clock.unix_timestamp, clock.slot, self._config.lifecycle)
            try:
                self._sync(due.id, read, clock.slot)
            except NotThisPool as exc:
                run.failure = f"record: {exc}"[:300]
                return run
            run.decision = decision
            logger().debug(
                "pool decision",
                extra={"pool": due.id, "action": decision.action.value, "why": decision.why},
            )
            run.check_at_wall = _wall(decision.check_at, clock.unix_timestamp)
            self._note_alert(due, decision, report)
            if step == self._config.steps_per_pool or remaining_ms() < 1_000:
                run.later = decision.action is not Action.WAIT
                return run
            if decision.action is Action.RECORD_OUTCOME:
                result = await self._record_outcome(due, read)
            elif decision.sends:
                result = await self._acting().act(due.id, read, decision, clock.unix_timestamp, remaining_ms)
            else:
                return run
            _log_action(due, decision, result)
            report.actions[(decision.action.value, result.progress.value)] += 1
            if result.progress is Progress.FAILED:
                run.failure = f"{decision.action.value}: {result.error}"[:500]
                return run
            if result.progress is Progress.LATER:
                run.later = True
                return run
            run.progressed = True
            recorded = decision.action is Action.RECORD_OUTCOME or read.observed.outcome_recorded
            try:
                snapshot = await read_pools(
                    self._rpc,
                    self._config.program_id,
                    [address],
                    recorded=frozenset({address}) if recorded else frozenset(),
                )
            except RpcError:
                run.later = True  # the action landed; the next tick reads the pool again
                return run
            read, clock = snapshot.pools[address], snapshot.clock
        return run

    def _sync(self, pool_id: int, read: PoolRead, slot: int) -> None:
        observed = read.observed
        assert observed is not None
        assert read.participants is not None
        state = ChainPool(observed.pool, read.participants, observed.vault_amount or 0, slot)
        with transaction(self._engine) as conn:
            sync_pool_from_chain(conn, pool_id, state)

    def _gone(self, run: _PoolRun, read: PoolRead, slot: int) -> None:
        if read.problem is not None:
            run.failure = f"unreadable: {read.problem}"
            return
        with transaction(self._engine) as conn:
            record_pool_account_closed(conn, run.due.id, slot=slot)
        run.decision = Decision(Action.NONE, None, why="accounts closed")
        run.check_at_wall = None

    async def _record_outcome(self, due: DuePool, read: PoolRead) -> ActResult:
        """Find the payout transaction (ours from its intent row, or anyone's from the pool's history), read
        its token balance changes, and record everything in one transaction.

        The payout reader, the event codecs and the outcome's writer load here, on the first paid pool: most
        ticks pay none (tests/monitor/test_handler_cold_paths.py)."""
        from missout.monitor.payout_tx import PayoutUnreadable, find_payout_signature, read_payout
        from missout.pools.outcome import Payout, record_outcome

        observed = read.observed
        assert observed is not None
        assert read.participants is not None
        program_id = self._config.program_id
        try:
            ours = self._our_payout(due.id)
            signature = (
                Signature.from_string(ours)
                if ours is not None
                else await find_payout_signature(self._rpc, program_id, read.address)
            )
            if signature is None:
                return ActResult(Progress.FAILED, error="no payout transaction found for an Ended pool")
            facts = await read_payout(self._rpc, program_id, observed.pool, read.address, signature)
        except (RpcError, PayoutUnreadable) as exc:
            return ActResult(Progress.FAILED, error=f"record outcome: {exc}"[:300])
        pool = observed.pool
        # Payout keeps the list and zeroes the count (docs/program.md §2.2): the seats are list[0..max].
        seats = [str(wallet) for wallet in read.participants.slots[: pool.max_participants]]
        payout = Payout(
            signature=facts.signature,
            slot=facts.slot,
            block_time=facts.block_time,
            winner=str(facts.winner),
            winner_amount=facts.winner_amount,
            dev_amount=facts.dev_amount,
            treasury_amount=facts.treasury_amount,
            burn_amount=facts.burn_amount,
            total_amount=facts.total_amount,
            dev_wallet=str(pool.dev_wallet),
            treasury_wallet=str(pool.treasury_wallet),
        )
        with transaction(self._engine) as conn:
            recorded = record_outcome(
                conn, pool_id=due.id, mint=str(pool.mint), payout=payout, participants=seats
            )
        logger().info(
            "payout recorded",
            extra={
                "pool": due.id,
                "signature": facts.signature,
                "winner": payout.winner,
                "winner_amount": str(payout.winner_amount),
                "dev_amount": str(payout.dev_amount),
                "treasury_amount": str(payout.treasury_amount),
                "burn_amount": str(payout.burn_amount),
                "first_time": recorded.payout_written,
                "referrers": len(recorded.referral.referrers) if recorded.referral else None,
            },
        )
        return ActResult(Progress.DONE, signature=facts.signature)

    def _our_payout(self, pool_id: int) -> str | None:
        with transaction(self._engine) as conn:
            return conn.execute(
                select(crank_intents.c.signature).where(
                    crank_intents.c.pool_id == pool_id,
                    crank_intents.c.action == "payout_winner",
                    crank_intents.c.status == "finalized",
                )
            ).scalar_one_or_none()

    def _note_alert(self, due: DuePool, decision: Decision, report: TickReport) -> None:
        report.note_slots_left(decision.slots_left)
        if decision.alert is None:
            return
        report.alerts[decision.alert.value] += 1
        if decision.alert is Alert.DEAD_END and decision.dead_end is not None:
            report.dead_ends[due.id] = decision.dead_end
            if due.unpayable_reason != decision.dead_end:  # logged once, when first seen
                logger().error(
                    "pool can never pay out",
                    extra={"pool": due.id, "address": due.address, "reason": decision.dead_end},
                )
        elif decision.alert is Alert.DEADLINE_AT_RISK:
            logger().warning(
                "randomness deadline at risk",
                extra={"pool": due.id, "address": due.address, "slots_left": decision.slots_left},
            )

    def _release(self, run: _PoolRun, report: TickReport) -> None:
        backoff = self._config.backoff
        now = datetime.now(UTC)
        failures = run.due.failure_count
        stuck: str | None = None
        if run.failure is not None:
            failures += 1
            next_check: datetime | None = now + timedelta(seconds=backoff.delay_s(failures, self._rng))
            if backoff.is_stuck(failures):
                stuck = run.failure
                report.stuck[run.due.id] = stuck
                logger().error(
                    "pool stuck", extra={"pool": run.due.id, "failures": failures, "error": run.failure}
                )
        elif run.later:
            # Nobody's fault (too early, in flight, another run holds it, or more steps to take).
            failures = 0 if run.progressed else failures
            stuck = None if run.progressed else run.due.stuck_reason
            next_check = now + timedelta(seconds=self._config.soon_s)
        else:
            failures = 0
            next_check = run.check_at_wall
        with transaction(self._engine) as conn:
            release_pool(
                conn,
                run.due.id,
                holder=self._config.holder,
                verdict=Verdict(next_check_at=next_check, failure_count=failures, stuck_reason=stuck),
            )


def _wall(check_at: int | None, chain_now: int) -> datetime | None:
    """A chain-clock moment as a wall-clock time (the chain's clock may differ from ours: compare
    distances, never absolute times)."""
    if check_at is None:
        return None
    return datetime.now(UTC) + timedelta(seconds=max(0, check_at - chain_now))


def _lag_s(due: list[DuePool]) -> float:
    """How late the most overdue leased pool was: the monitor's backlog, as a number of seconds."""
    now = datetime.now(UTC)
    return max((max(0.0, (now - pool.next_check_at).total_seconds()) for pool in due), default=0.0)


def _log_action(due: DuePool, decision: Decision, result: ActResult) -> None:
    """One structured line per action: the pool, what was done, the attempt, the signature, the outcome."""
    logger().info(
        "pool action",
        extra={
            "pool": due.id,
            "address": due.address,
            "action": decision.action.value,
            "crank": result.crank,
            "attempt": result.attempt,
            "signature": result.signature,
            "outcome": result.progress.value,
            "error": result.error,
            "slots_left": decision.slots_left,
        },
    )
