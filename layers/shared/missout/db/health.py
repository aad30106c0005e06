"""Database health probe: one round trip through the same path the app uses (pooler included)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

from missout.db.connection_plan import ConnectionPlan
from missout.db.transaction import DatabaseUnavailable, transaction


@dataclass(frozen=True)
class DatabaseHealth:
    ok: bool
    latency_ms: float  # connect (through the pooler) + query + commit, as a request would pay it
    server_version: str | None
    behind_pooler: bool
    pooler_reason: str
    target: str
    error: str | None = None


def probe(engine: Engine, plan: ConnectionPlan) -> DatabaseHealth:
    started = time.perf_counter()
    try:
        with transaction(engine) as conn:
            version = conn.execute(text("SELECT current_setting('server_version')")).scalar_one()
    except DatabaseUnavailable as exc:
        return DatabaseHealth(
            ok=False,
            latency_ms=_elapsed_ms(started),
            server_version=None,
            behind_pooler=plan.behind_pooler,
            pooler_reason=plan.pooler_reason,
            target=plan.safe_target,
            error=str(exc)[:200],
        )
    return DatabaseHealth(
        ok=True,
        latency_ms=_elapsed_ms(started),
        server_version=str(version),
        behind_pooler=plan.behind_pooler,
        pooler_reason=plan.pooler_reason,
        target=plan.safe_target,
    )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
