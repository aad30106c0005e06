"""The join write load shared by the reliability suite and the connection-storm benchmark.

`record_join_sql` writes what a recorded join writes, in one transaction through the app's own
`transaction()` helper, and does so through the same database functions the API's join route uses
(`missout.pools.reports`): `claim_signature` (the replay guard and the activity row) and `mark_joined` (the
join's proof on its seat), so the load and the route cannot drift apart. Only the seat and the pool's
counters are written here: the route takes them from the chain (`records.sync_pool_from_chain` with the
verified pool and participant accounts), and calling the route itself would put a chain round trip and a
signature verification on every request, while the storm measures the database side.

`audit` then reads everything back over the direct URL and counts, per attempted join, whether all of its
rows are there, none are, or only some (half-written: must never happen), and whether every pool's counters
still equal its seats.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from missout.db.tables import activity, mints, participants, pools, used_signatures
from missout.db.transaction import DatabaseUnavailable, transaction
from missout.pools import reports
from missout.pools.reports import Action
from missout.settings import DatabaseSettings
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


def seed_pools(engine: Engine, count: int) -> list[int]:
    """`count` open pools with one seat taken (the creator's), written over `engine` (the direct URL)."""
    now = datetime.now(UTC)
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
                "start_time": now - timedelta(minutes=1),
                "create_signature": SIG(_SIGNATURE_BASE - 1 - n),
            }
            for n in range(count)
        ]
        ids = conn.execute(insert(pools).returning(pools.c.id), rows).scalars().all()
    return [int(i) for i in ids]


class JoinPlan:
    """Hands out joins spread over the seeded pools (consecutive joins hit different pools, as many players
    joining many pools would), thread-safe: `itertools.count` is atomic under the GIL. Every join has a wallet
    and a signature of its own."""

    def __init__(self, pool_ids: Sequence[int]) -> None:
        self._pool_ids = list(pool_ids)
        self._counter = itertools.count()

    def next(self) -> Join:
        # Only committed joins take seats (a failed attempt takes a number, not a seat); a pool that does fill
        # up makes `record_join_sql` raise PoolFull, counted as an error.
        n = next(self._counter)
        return Join(
            number=n,
            pool_id=self._pool_ids[n % len(self._pool_ids)],
            wallet=key(_WALLET_KEY_BASE + n),
            signature=SIG(_SIGNATURE_BASE + n),
        )


def record_join_sql(conn: Connection, join: Join) -> None:
    """What recording a verified join writes, through the API's own database functions where they do not
    need a chain read (see the module doc): the replay guard and the activity row, then the seat, then the
    join's proof on it."""
    now = datetime.now(UTC)
    claimed = reports.claim_signature(
        conn,
        signature=join.signature,
        action=Action.JOIN,
        pool_id=join.pool_id,
        wallet=join.wallet,
        amount=ENTRY,  # every seeded pool's entry
        slot=1,
        block_time=now,
    )
    if not claimed:
        raise RuntimeError(f"{join.signature} was recorded twice: the workload's signatures are unique")
    # Stand-in for `records.sync_pool_from_chain`: the chain's participant list appends the joiner, so its
    # index is the new count minus one (the creator is 0). The row lock orders concurrent joins as the
    # program's account lock does.
    seated = conn.execute(
        update(pools)
        .where(pools.c.id == join.pool_id, pools.c.participants_count < pools.c.max_participants)
        .values(
            participants_count=pools.c.participants_count + 1,
            total_amount=pools.c.total_amount + pools.c.entry_amount,
            updated_at=func.now(),
        )
        .returning(pools.c.participants_count)
    ).one_or_none()
    if seated is None:
        raise PoolFull(f"pool {join.pool_id} is full")
    conn.execute(insert(participants).values(pool_id=join.pool_id, wallet=join.wallet, seat=seated[0] - 1))
    reports.mark_joined(conn, join.pool_id, join.wallet, join.signature, now)


def attempt_join(join: Join, engine: Engine, settings: DatabaseSettings) -> Outcome:
    """One request as the API would serve it: committed, or a clean `DatabaseUnavailable` (-> 503)."""
    try:
        with transaction(engine, settings) as conn:
            record_join_sql(conn, join)
    except DatabaseUnavailable:
        return "unavailable"
    return "committed"


@dataclass
class Tally:
    """Answers given to clients, with the joins each answer was for."""

    committed: list[Join] = field(default_factory=list)
    unavailable: list[Join] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # anything else: a 500 in the API
    latencies_ms: list[float] = field(default_factory=list)
    committed_at: list[float] = field(default_factory=list)  # perf_counter() when each commit returned

    @property
    def tried(self) -> int:
        return len(self.committed) + len(self.unavailable) + len(self.errors)

    def record(self, join: Join, outcome: Outcome, started: float) -> None:
        now = time.perf_counter()
        self.latencies_ms.append((now - started) * 1000)
        if outcome == "committed":
            self.committed.append(join)
            self.committed_at.append(now)
        else:
            self.unavailable.append(join)


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


def _chunks(items: list[Join], size: int = 2_000) -> Iterable[list[Join]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def inconsistent_pools(conn: Connection, pool_ids: Sequence[int]) -> int:
    seats = (
        select(participants.c.pool_id, func.count().label("seats"))
        .group_by(participants.c.pool_id)
        .subquery()
    )
    mismatched = (
        select(func.count())
        .select_from(pools.outerjoin(seats, seats.c.pool_id == pools.c.id))
        .where(
            pools.c.id.in_(list(pool_ids)),
            (
                (pools.c.participants_count != 1 + func.coalesce(seats.c.seats, 0))
                | (pools.c.total_amount != pools.c.entry_amount * (1 + func.coalesce(seats.c.seats, 0)))
            ),
        )
    )
    return int(conn.execute(mismatched).scalar_one())


def audit(direct: Engine, tally: Tally, pool_ids: Sequence[int]) -> Audit:
    counts = {"committed": 0, "failed_cleanly": 0, "committed_after_503": 0, "lost": 0, "half": 0}
    with direct.connect() as conn:
        for answer, joins in (("committed", tally.committed), ("unavailable", tally.unavailable)):
            for chunk in _chunks(joins):
                for rows in _present(conn, [j.signature for j in chunk]).values():
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


def run_load(
    engine: Engine,
    settings: DatabaseSettings,
    plan: JoinPlan,
    *,
    clients: int,
    duration_s: float,
    meanwhile: Callable[[], None] | None = None,
) -> Tally:
    """`clients` threads, each sending joins back to back (one short-lived connection per request, as a
    Lambda instance behind pgBouncer does) until `duration_s` has passed; `meanwhile` runs on the calling
    thread during the load (a fault to inject). All start together, so the first wave is a real storm."""
    tally = Tally()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        start.wait()
        while time.perf_counter() < deadline[0]:
            started = time.perf_counter()
            try:
                join = plan.next()
                outcome = attempt_join(join, engine, settings)
            except Exception as exc:  # a 500 in the API: counted, never hidden
                with lock:
                    tally.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            with lock:
                tally.record(join, outcome, started)
            if outcome == "unavailable":
                time.sleep(RETRY_PAUSE_S)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + duration_s
    start.wait()
    if meanwhile is not None:
        meanwhile()
    for thread in threads:
        thread.join()
    return tally
