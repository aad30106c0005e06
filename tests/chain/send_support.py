"""What the durable-sender tests share: a fast policy, the pool row an intent hangs on, and readers of what
the sender left behind (intent rows over the direct URL, the DEV wallet's transactions on the chain)."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from missout.chain.send import SendPolicy
from missout.db.tables import crank_intents, mints, pools
from tests.support.crank_world import CrankWorld
from tests.support.factories import MINT, SIG, insert_mint, insert_pool

# Resends and polls every few milliseconds, so a test drives hundreds of rounds in well under a second.
FAST = SendPolicy(resend_interval_s=0.05, poll_interval_s=0.01, safety_margin_ms=200, max_lease_s=30)


def plenty() -> int:
    """A run that never runs out of time (only for tests whose send ends by itself)."""
    return 60_000


def register_pool(engine: Engine, pool: Pubkey, status: str = "locked") -> int:
    """The pool's row (intents reference it); the first call also records the mint."""
    with engine.begin() as conn:
        known_mints = conn.execute(select(func.count()).select_from(mints)).scalar_one()
        known_pools = conn.execute(select(func.count()).select_from(pools)).scalar_one()
    if known_mints == 0:
        insert_mint(engine, MINT)
    # The create signature is UNIQUE: one per pool row.
    return insert_pool(
        engine, pool_address=str(pool), status=status, create_signature=SIG(5_000 + known_pools)
    )


def intents(engine: Engine) -> list[dict[str, Any]]:
    with engine.begin() as conn:
        rows = conn.execute(select(crank_intents).order_by(crank_intents.c.id)).all()
    return [dict(row._mapping) for row in rows]


def dev_transactions(world: CrankWorld) -> int:
    return len(world.chain.history.signatures_for_address(world.dev.pubkey(), limit=1000))
