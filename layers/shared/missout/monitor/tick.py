"""One monitor tick: lease the pools whose next check is due (`pools.due`) and log which they are.

It does not read the chain or send anything yet; docs/architecture.md describes the whole tick."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from missout.db.transaction import transaction
from missout.observability import logger
from missout.pools.due import DuePool, lease_due_pools


@dataclass(frozen=True)
class TickResult:
    due: list[DuePool]


def run_tick(*, limit: int, engine: Engine | None = None) -> TickResult:
    with transaction(engine) as conn:
        due = lease_due_pools(conn, limit=limit)
    if due:
        logger().info(
            "pools due", extra={"count": len(due), "pools": [f"{p.id}:{p.status}" for p in due[:20]]}
        )
    return TickResult(due=due)
