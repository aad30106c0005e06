"""What `GET /api/monitor/status` shows, read from the database only (no RPC, no writes): how recently the
monitor synced a pool, how far behind it is, pools by status, crank transactions in flight, stuck pools,
pools in a dead end, and the closest randomness deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from missout.db.tables import LIVE_CRANK_INTENT_STATUSES, crank_intents, pools
from missout.pools.payability import RANDOMNESS_DEADLINE_SLOTS
from missout.pools.status import TERMINAL_POOL_STATUSES

LISTED = 50  # rows per list: the status page is for people, not an export


@dataclass(frozen=True, slots=True)
class PoolNote:
    id: int
    address: str
    status: str
    note: str  # the stuck reason or the dead-end reason
    failure_count: int


@dataclass(frozen=True, slots=True)
class LiveIntent:
    pool_id: int
    action: str
    attempt: int
    status: str
    signature: str
    age_seconds: float


@dataclass(frozen=True, slots=True)
class DeadlineNote:
    pool_id: int
    address: str
    commit_slot: int
    deadline_slot: int


@dataclass(frozen=True, slots=True)
class MonitorStatus:
    now: datetime
    last_pool_sync_at: datetime | None
    lag_seconds: float  # how overdue the most overdue unleased pool is (0 when nothing is due)
    due_pools: int
    leased_pools: int
    pools_by_status: dict[str, int]
    live_intents: list[LiveIntent]
    stuck: list[PoolNote]
    dead_ends: list[PoolNote]
    next_randomness_deadline: DeadlineNote | None


def monitor_status(conn: Connection) -> MonitorStatus:
    now = conn.execute(select(func.now())).scalar_one()
    live = pools.c.status.not_in(TERMINAL_POOL_STATUSES)
    unleased = (pools.c.lease_until.is_(None)) | (pools.c.lease_until <= func.now())
    overdue = conn.execute(
        select(func.min(pools.c.next_check_at), func.count()).where(
            live, pools.c.next_check_at <= func.now(), unleased
        )
    ).one()
    leased = conn.execute(select(func.count()).where(pools.c.lease_until > func.now())).scalar_one()
    by_status = {
        row.status: int(row.n)
        for row in conn.execute(select(pools.c.status, func.count().label("n")).group_by(pools.c.status))
    }
    intents = [
        LiveIntent(
            pool_id=row.pool_id,
            action=row.action,
            attempt=row.attempt,
            status=row.status,
            signature=row.signature,
            age_seconds=round((now - row.created_at).total_seconds(), 1),
        )
        for row in conn.execute(
            select(crank_intents)
            .where(crank_intents.c.status.in_(LIVE_CRANK_INTENT_STATUSES))
            .order_by(crank_intents.c.created_at)
            .limit(LISTED)
        )
    ]
    stuck = _notes(conn, pools.c.stuck_reason)
    dead_ends = _notes(conn, pools.c.unpayable_reason)
    closest = conn.execute(
        select(pools.c.id, pools.c.pool_address, pools.c.randomness_commit_slot)
        .where(pools.c.status == "randomness_committed", pools.c.randomness_commit_slot.is_not(None))
        .order_by(pools.c.randomness_commit_slot)
        .limit(1)
    ).first()
    deadline = (
        None
        if closest is None
        else DeadlineNote(
            closest.id,
            closest.pool_address,
            int(closest.randomness_commit_slot),
            int(closest.randomness_commit_slot) + RANDOMNESS_DEADLINE_SLOTS,
        )
    )
    oldest_due = overdue[0]
    return MonitorStatus(
        now=now.astimezone(UTC),
        last_pool_sync_at=conn.execute(
            select(func.max(pools.c.updated_at)).where(pools.c.synced_slot > 0)
        ).scalar_one(),
        lag_seconds=0.0 if oldest_due is None else round((now - oldest_due).total_seconds(), 1),
        due_pools=int(overdue[1]),
        leased_pools=int(leased),
        pools_by_status=by_status,
        live_intents=intents,
        stuck=stuck,
        dead_ends=dead_ends,
        next_randomness_deadline=deadline,
    )


def _notes(conn: Connection, column: object) -> list[PoolNote]:
    return [
        PoolNote(row.id, row.pool_address, row.status, row.note, row.failure_count)
        for row in conn.execute(
            select(
                pools.c.id,
                pools.c.pool_address,
                pools.c.status,
                column.label("note"),  # type: ignore[attr-defined]
                pools.c.failure_count,
            )
            .where(column.is_not(None))  # type: ignore[attr-defined]
            .order_by(pools.c.id)
            .limit(LISTED)
        )
    ]
