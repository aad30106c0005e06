"""Which pools the monitor works on now, and the lease that keeps overlapping runs off each other's pools.

The lease is a pair of columns (`lease_until`, `leased_by`) taken by one `UPDATE ... WHERE id IN (SELECT ...
FOR UPDATE SKIP LOCKED) RETURNING` and committed at once. The row lock lives only inside that short
statement (transaction-scoped, so it works through pgBouncer in transaction mode); what holds afterwards is
the committed lease, so no database transaction stays open while the monitor talks to the chain. A second
run skips leased rows; a crashed run's lease simply runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from missout.db.tables import TERMINAL_POOL_STATUSES, pools


@dataclass(frozen=True, slots=True)
class DuePool:
    id: int
    address: str
    status: str
    next_check_at: datetime
    failure_count: int
    stuck_reason: str | None
    unpayable_reason: str | None


def _lease_ends(seconds: float) -> object:
    return func.now() + literal(timedelta(seconds=seconds))


_FREE = or_(pools.c.lease_until.is_(None), pools.c.lease_until <= func.now())
_RETURNED = (
    pools.c.id,
    pools.c.pool_address,
    pools.c.status,
    pools.c.next_check_at,
    pools.c.failure_count,
    pools.c.stuck_reason,
    pools.c.unpayable_reason,
)


def _due_pool(row: object) -> DuePool:
    values = row._mapping  # type: ignore[attr-defined]
    return DuePool(
        id=int(values["id"]),
        address=str(values["pool_address"]),
        status=str(values["status"]),
        next_check_at=values["next_check_at"],
        failure_count=int(values["failure_count"]),
        stuck_reason=values["stuck_reason"],
        unpayable_reason=values["unpayable_reason"],
    )


def lease_due_pools(conn: Connection, *, limit: int, holder: str, lease_s: float) -> list[DuePool]:
    """Lease up to `limit` live pools whose check time has passed and that nobody holds, oldest first.

    Run it in its own `transaction()` block: the lease must be committed before the caller reads the chain.
    """
    due = (
        select(pools.c.id)
        .where(
            pools.c.next_check_at <= func.now(),
            pools.c.status.not_in(TERMINAL_POOL_STATUSES),
            _FREE,
        )
        .order_by(pools.c.next_check_at, pools.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return _lease(conn, due, holder=holder, lease_s=lease_s)


def lease_pools(conn: Connection, ids: Sequence[int], *, holder: str, lease_s: float) -> list[DuePool]:
    """Lease these pools now if nobody holds them (a pool the sweep just registered, a report that asks
    for an early look), whatever their check time."""
    if not ids:
        return []
    free = (
        select(pools.c.id)
        .where(pools.c.id.in_(list(ids)), pools.c.status.not_in(TERMINAL_POOL_STATUSES), _FREE)
        .with_for_update(skip_locked=True)
    )
    return _lease(conn, free, holder=holder, lease_s=lease_s)


def _lease(conn: Connection, chosen: Select[Any], *, holder: str, lease_s: float) -> list[DuePool]:
    """Give `holder` the lease on the pools `chosen` selects (ids, locked SKIP LOCKED), in id order."""
    rows = conn.execute(
        update(pools)
        .where(pools.c.id.in_(chosen.scalar_subquery()))
        .values(lease_until=_lease_ends(lease_s), leased_by=holder)
        .returning(*_RETURNED)
    ).all()
    return sorted((_due_pool(row) for row in rows), key=lambda pool: pool.id)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the monitor concluded about a pool it held: when to look again and how it stands."""

    next_check_at: datetime | None
    failure_count: int
    stuck_reason: str | None


def release_pool(conn: Connection, pool_id: int, *, holder: str, verdict: Verdict) -> bool:
    """Write the verdict and give the lease back; False when the lease was no longer ours (it ran out and
    another run took the pool: its verdict is the newer one, ours is dropped)."""
    result = conn.execute(
        update(pools)
        .where(and_(pools.c.id == pool_id, pools.c.leased_by == holder))
        .values(
            next_check_at=verdict.next_check_at,
            failure_count=verdict.failure_count,
            stuck_reason=verdict.stuck_reason,
            lease_until=None,
            leased_by=None,
            updated_at=func.now(),
        )
    )
    return result.rowcount == 1


def extend_leases(conn: Connection, ids: Sequence[int], *, holder: str, lease_s: float) -> int:
    """Keep holding pools a long tick is still working on."""
    if not ids:
        return 0
    result = conn.execute(
        update(pools)
        .where(pools.c.id.in_(list(ids)), pools.c.leased_by == holder)
        .values(lease_until=_lease_ends(lease_s))
    )
    return int(result.rowcount)
