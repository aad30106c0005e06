"""The join write load shared by the reliability suite and the connection-storm benchmark.

A join lands on the chain first, then its report is recorded, as in the API: `ModelChain` holds the seeded
pools' chain side (each join appended under its pool's lock, as the program's account write lock orders
them, at a new slot), and `record_join` writes exactly what the API's join route writes for a verified join
on a known pool (`missout.pools.reporting`): the replay guard and the activity row
(`reports.claim_signature`), the pool's row and seats from the chain state read after the join
(`records.sync_pool_from_chain`), and the join's proof on its seat (`reports.mark_joined`). Only the
verification itself is left out: it is chain round trips and signature checks, while the storm measures the
database side (the verifier has its own figures and its own reliability test, `test_rpc_faults.py`).

A load may be spread over processes (`client_processes.py`): each takes one `Lane` of the seeded pools, with a
model chain of its own and join numbers no other lane uses, and its `Tally` is plain values that add up.

`audit` then reads everything back over the direct URL and counts, per attempted join, whether all of its
rows are there, none are, or only some (half-written: must never happen), and whether every pool's counters
still equal its seats. A join whose report failed keeps its seat (the chain has it; the next sync writes
it), but none of its report's rows: that is a clean failure, as in production.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from solders.pubkey import Pubkey
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine

from missout.chain.accounts import MAX_PARTICIPANTS, ParticipantsAccount, PoolAccount, PoolStatus
from missout.db.tables import activity, mints, participants, pools, used_signatures
from missout.db.transaction import DatabaseUnavailable, transaction
from missout.pools import records, reports
from missout.pools.records import ChainPool
from missout.pools.reports import Action
from missout.settings import DatabaseSettings
from tests.lifecycle.states import pool_account
from tests.support.factories import SIG, key

ENTRY = 20_000_000
SEATS_PER_POOL = 19  # max_participants 20, the creator holds the first seat
WORKLOAD_MINT = key(9_000_001)
_POOL_KEY_BASE = 10_000_000
_WALLET_KEY_BASE = 20_000_000
_SIGNATURE_BASE = 30_000_000

RETRY_PAUSE_S = 0.01  # after a 503 a client tries again soon (a real one would honour Retry-After)

Outcome = Literal["committed", "unavailable"]


class PoolFull(RuntimeError):
    """The pool the join was aimed at has no free seat (the workload ran past its seeded capacity)."""


@dataclass(frozen=True)
class Join:
    number: int
    pool_id: int
    wallet: str
    signature: str
    state: ChainPool  # the pool as read from the chain after this join landed


def seed_pools(engine: Engine, count: int) -> list[int]:
    """`count` open pools, each with its creator seated (seat 0), written over `engine` (the direct URL) as
    a registered pool's rows look. Start times are whole seconds, as the chain keeps them."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    with engine.begin() as conn:
        conn.execute(
            insert(mints).values(address=WORKLOAD_MINT, token_program="spl-token", decimals=6, symbol="LOAD")
        )
        rows = [
            {
                "pool_address": key(_POOL_KEY_BASE + n),
                "mint": WORKLOAD_MINT,
                "creator_wallet": key(_WALLET_KEY_BASE - 1 - n),
                "entry_amount": ENTRY,
                "max_participants": SEATS_PER_POOL + 1,
                "participants_count": 1,
                "lock_duration_seconds": 300,
                "status": "open",
                "total_amount": ENTRY,
                "start_time": start,
                "create_signature": SIG(_SIGNATURE_BASE - 1 - n),
            }
            for n in range(count)
        ]
        ids = [int(i) for i in conn.execute(insert(pools).returning(pools.c.id), rows).scalars().all()]
        conn.execute(
            insert(participants),
            [
                {"pool_id": i, "wallet": r["creator_wallet"], "seat": 0}
                for i, r in zip(ids, rows, strict=True)
            ],
        )
    return ids


@dataclass
class _ChainSide:
    lock: threading.Lock
    account: PoolAccount
    wallets: list[Pubkey]


class ModelChain:
    """The seeded pools as the chain holds them. A join lands under its pool's lock (the program's account
    write lock orders joins the same way), at a slot of its own, and yields the pool as a read after it would
    see it: the decoded pool and participant accounts and the vault's balance."""

    def __init__(self, engine: Engine, pool_ids: Sequence[int]) -> None:
        self._slots = itertools.count(1)  # atomic under the GIL
        self._pools: dict[int, _ChainSide] = {}
        with engine.connect() as conn:
            found = conn.execute(
                select(pools.c.id, pools.c.mint, pools.c.creator_wallet, pools.c.start_time).where(
                    pools.c.id.in_(list(pool_ids))
                )
            ).all()
        for row in found:
            creator = Pubkey.from_string(row.creator_wallet)
            started = int(row.start_time.timestamp())
            account = pool_account(
                pool_id=row.id,
                mint=Pubkey.from_string(row.mint),
                creator=creator,
                start_time=started,
                expire_time=started + 604_800,  # the template's join window (`duration`)
                max_participants=SEATS_PER_POOL + 1,
                lock_duration=300,
                amount=ENTRY,
                total_amount=ENTRY,
                total_volume=ENTRY,
                total_joins=1,
            )
            self._pools[row.id] = _ChainSide(threading.Lock(), account, [creator])

    def land_join(self, pool_id: int, wallet: str) -> ChainPool:
        side = self._pools[pool_id]
        with side.lock:
            if len(side.wallets) >= side.account.max_participants:
                raise PoolFull(f"pool {pool_id} is full")
            side.wallets.append(Pubkey.from_string(wallet))
            seated = len(side.wallets)
            now = int(time.time())
            full = seated == side.account.max_participants
            side.account = dataclasses.replace(
                side.account,
                total_amount=ENTRY * seated,
                total_volume=ENTRY * seated,
                total_joins=seated,
                last_join_time=now,
                status=PoolStatus.LOCKED if full else PoolStatus.OPEN,
                lock_start_time=now if full else 0,
            )
            listed = tuple(side.wallets) + (Pubkey.default(),) * (MAX_PARTICIPANTS - seated)
            return ChainPool(
                pool=side.account,
                participants=ParticipantsAccount(slots=listed, count=seated),
                vault_balance=side.account.total_amount,
                slot=next(self._slots),
            )


@dataclass(frozen=True)
class Lane:
    """One share of a seeded set-up, for one process of a load spread over several: its own pools (so its
    own model chain sees every join on them) and its own join numbers, `index`, `index + count`, ... (so its
    wallets and signatures collide with no other lane's, on the replay guard or anywhere else)."""

    pool_ids: tuple[int, ...]
    index: int = 0
    count: int = 1


def split_lanes(pool_ids: Sequence[int], count: int) -> list[Lane]:
    """`count` lanes over `pool_ids`: every pool in exactly one lane, the lanes' sizes within one."""
    if count < 1:
        raise ValueError("at least one lane")
    if len(pool_ids) < count:
        raise ValueError(f"{len(pool_ids)} pools cannot make {count} lanes")
    return [Lane(tuple(pool_ids[i::count]), i, count) for i in range(count)]


class JoinPlan:
    """Hands out joins spread over the lane's pools (consecutive joins hit different pools, as many players
    joining many pools would), thread-safe. Every join has a wallet and a signature of its own, and has
    landed on the model chain before it is handed out. One plan per process: its model chain starts from the
    seeded state (the creator's seat only), so no other plan may join the same pools."""

    def __init__(self, engine: Engine, lane: Lane) -> None:
        self._pool_ids = list(lane.pool_ids)
        self._lane = lane
        self._counter = itertools.count()
        self.chain = ModelChain(engine, lane.pool_ids)

    def next(self) -> Join:
        # A pool that fills up makes `land_join` raise PoolFull, counted as an error.
        k = next(self._counter)
        n = self._lane.index + self._lane.count * k  # the lane's own numbers: no other lane has them
        pool_id = self._pool_ids[k % len(self._pool_ids)]
        wallet = key(_WALLET_KEY_BASE + n)
        return Join(
            number=n,
            pool_id=pool_id,
            wallet=wallet,
            signature=SIG(_SIGNATURE_BASE + n),
            state=self.chain.land_join(pool_id, wallet),
        )


def record_join(conn: Connection, join: Join) -> None:
    """What the API records for a verified join on a known pool (`reporting._record`): the pool row's lock,
    the replay guard and the activity row, then the pool and its seats from the chain state, then the join's
    proof on its seat."""
    now = datetime.now(UTC)
    records.lock_pool_first(conn, join.pool_id)
    claimed = reports.claim_signature(
        conn,
        signature=join.signature,
        action=Action.JOIN,
        pool_id=join.pool_id,
        wallet=join.wallet,
        amount=join.state.pool.amount,
        slot=join.state.slot,
        block_time=now,
    )
    if not claimed:
        raise RuntimeError(f"{join.signature} was recorded twice: the workload's signatures are unique")
    records.sync_pool_from_chain(conn, join.pool_id, join.state)
    reports.mark_joined(conn, join.pool_id, join.wallet, join.signature, now)


def attempt_join(join: Join, engine: Engine, settings: DatabaseSettings) -> Outcome:
    """One request as the API would serve it: committed, or a clean `DatabaseUnavailable` (-> 503)."""
    try:
        with transaction(engine, settings) as conn:
            record_join(conn, join)
    except DatabaseUnavailable:
        return "unavailable"
    return "committed"


@dataclass
class Tally:
    """Answers given to clients, by the signature of the join each answer was for: plain values, so a
    process can hand its tally to another and tallies add up (`merged`)."""

    committed: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # anything else: a 500 in the API
    latencies_ms: list[float] = field(default_factory=list)  # of every committed or unavailable answer
    committed_at: list[float] = field(default_factory=list)  # perf_counter() when each commit returned

    @property
    def tried(self) -> int:
        return len(self.committed) + len(self.unavailable) + len(self.errors)

    def record(self, join: Join, outcome: Outcome, started: float) -> None:
        now = time.perf_counter()
        self.latencies_ms.append((now - started) * 1000)
        if outcome == "committed":
            self.committed.append(join.signature)
            self.committed_at.append(now)
        else:
            self.unavailable.append(join.signature)

    @classmethod
    def merged(cls, tallies: Iterable[Tally]) -> Tally:
        # perf_counter() is CLOCK_MONOTONIC, one clock for every process of the machine, so the commit
        # times of several processes are comparable.
        total = cls()
        for part in tallies:
            total.committed += part.committed
            total.unavailable += part.unavailable
            total.errors += part.errors
            total.latencies_ms += part.latencies_ms
            total.committed_at += part.committed_at
        return total


@dataclass(frozen=True)
class Audit:
    tried: int
    committed: int  # answered committed, and every row is there
    failed_cleanly: int  # answered 503, and nothing was written
    committed_after_503: int  # answered 503 but every row is there (commit acknowledged too late)
    lost: int  # answered committed, but a row is missing
    half_written: int  # some rows of one join present, others missing
    other_errors: int
    pools_inconsistent: int  # pools whose counters differ from their seats

    @property
    def clean(self) -> bool:
        return not (self.lost or self.half_written or self.other_errors or self.pools_inconsistent)


def _present(conn: Connection, signatures: list[str]) -> dict[str, tuple[bool, bool, bool]]:
    guard = set(
        conn.execute(select(used_signatures.c.signature).where(used_signatures.c.signature.in_(signatures)))
        .scalars()
        .all()
    )
    seat = set(
        conn.execute(
            select(participants.c.join_signature).where(participants.c.join_signature.in_(signatures))
        )
        .scalars()
        .all()
    )
    line = set(
        conn.execute(select(activity.c.signature).where(activity.c.signature.in_(signatures))).scalars().all()
    )
    return {s: (s in guard, s in seat, s in line) for s in signatures}


def _chunks(items: list[str], size: int = 2_000) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def inconsistent_pools(conn: Connection, pool_ids: Sequence[int]) -> int:
    """Pools whose count or pot differs from their seated rows (the creator's seat included)."""
    seats = (
        select(participants.c.pool_id, func.count().label("seats"))
        .where(participants.c.seat.is_not(None))
        .group_by(participants.c.pool_id)
        .subquery()
    )
    seated = func.coalesce(seats.c.seats, 0)
    mismatched = (
        select(func.count())
        .select_from(pools.outerjoin(seats, seats.c.pool_id == pools.c.id))
        .where(
            pools.c.id.in_(list(pool_ids)),
            (pools.c.participants_count != seated) | (pools.c.total_amount != pools.c.entry_amount * seated),
        )
    )
    return int(conn.execute(mismatched).scalar_one())


def audit(direct: Engine, tally: Tally, pool_ids: Sequence[int]) -> Audit:
    counts = {"committed": 0, "failed_cleanly": 0, "committed_after_503": 0, "lost": 0, "half": 0}
    with direct.connect() as conn:
        for answer, signatures in (("committed", tally.committed), ("unavailable", tally.unavailable)):
            for chunk in _chunks(signatures):
                for rows in _present(conn, chunk).values():
                    if any(rows) and not all(rows):
                        counts["half"] += 1
                    elif answer == "committed":
                        counts["committed" if all(rows) else "lost"] += 1
                    else:
                        counts["committed_after_503" if all(rows) else "failed_cleanly"] += 1
        pools_off = inconsistent_pools(conn, pool_ids)
    return Audit(
        tried=tally.tried,
        committed=counts["committed"],
        failed_cleanly=counts["failed_cleanly"],
        committed_after_503=counts["committed_after_503"],
        lost=counts["lost"],
        half_written=counts["half"],
        other_errors=len(tally.errors),
        pools_inconsistent=pools_off,
    )


class Load:
    """`clients` threads, each sending joins back to back (one short-lived connection per request, as a
    Lambda instance behind pgBouncer does) from `start` until the deadline it is given. The threads exist
    and wait from construction on, so that starting them costs the load nothing and all start together:
    the first wave is a real storm."""

    def __init__(self, engine: Engine, settings: DatabaseSettings, plan: JoinPlan, clients: int) -> None:
        self.tally = Tally()
        self._lock = threading.Lock()
        self._start = threading.Barrier(clients + 1)
        self._deadline = 0.0
        self._engine, self._settings, self._plan = engine, settings, plan
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        for thread in self._threads:
            thread.start()

    def _client(self) -> None:
        self._start.wait()
        while time.perf_counter() < self._deadline:
            started = time.perf_counter()
            try:
                join = self._plan.next()
                outcome = attempt_join(join, self._engine, self._settings)
            except Exception as exc:  # a 500 in the API: counted, never hidden
                with self._lock:
                    self.tally.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            with self._lock:
                self.tally.record(join, outcome, started)
            if outcome == "unavailable":
                time.sleep(RETRY_PAUSE_S)

    def start(self, deadline: float) -> None:
        """Release every client; each sends requests until `deadline` (a perf_counter() value), then
        finishes the one in flight."""
        self._deadline = deadline
        self._start.wait()

    def finish(self) -> Tally:
        for thread in self._threads:
            thread.join()
        return self.tally


def run_load(
    engine: Engine,
    settings: DatabaseSettings,
    plan: JoinPlan,
    *,
    clients: int,
    duration_s: float,
    meanwhile: Callable[[], None] | None = None,
) -> Tally:
    """A `Load` of `clients` for `duration_s` from now; `meanwhile` runs on the calling thread during the
    load (a fault to inject)."""
    load = Load(engine, settings, plan, clients)
    load.start(time.perf_counter() + duration_s)
    if meanwhile is not None:
        meanwhile()
    return load.finish()
