"""Which pools the monitor should look at now, leased so overlapping runs never work on the same pool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from missout.db.tables import TERMINAL_POOL_STATUSES, pools


@dataclass(frozen=True)
class DuePool:
    id: int
    address: str
    status: str
    next_check_at: datetime


def lease_due_pools(conn: Connection, *, limit: int) -> list[DuePool]:
    """Pools whose `next_check_at` has passed, oldest first, row-locked until the caller's transaction ends.

    `FOR UPDATE SKIP LOCKED` is transaction-scoped, so it works through pgBouncer in transaction mode (session
    advisory locks do not), and a second monitor run skips the rows this one holds instead of waiting."""
    query = (
        select(pools.c.id, pools.c.pool_address, pools.c.status, pools.c.next_check_at)
        .where(pools.c.next_check_at <= func.now(), pools.c.status.not_in(TERMINAL_POOL_STATUSES))
        .order_by(pools.c.next_check_at, pools.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=pools)
    )
    return [
        DuePool(id=row.id, address=row.pool_address, status=row.status, next_check_at=row.next_check_at)
        for row in conn.execute(query)
    ]
