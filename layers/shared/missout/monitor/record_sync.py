"""Bring a pool's database record in line with what the tick just read from the chain.

The chain is the source of truth (original-backend W11): status, pause, reason, totals, times, winner and the
dead end the pool is in are copied from the decoded accounts. `synced_slot` guards against going back: a
read older than what the record already mirrors changes nothing.
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.engine import Connection

from missout.chain.accounts import PoolAccount
from missout.chain.addresses import ZERO_PUBKEY
from missout.chain.values import utc_from_unix
from missout.db.tables import pools
from missout.pools.status import CLOSED, db_status


def sync_record(
    conn: Connection,
    pool_id: int,
    pool: PoolAccount,
    *,
    participants_count: int,
    slot: int,
    unpayable_reason: str | None,
) -> None:
    winner = None if pool.winner == ZERO_PUBKEY else str(pool.winner)
    randomness = None if pool.randomness_account == ZERO_PUBKEY else str(pool.randomness_account)
    conn.execute(
        update(pools)
        .where(pools.c.id == pool_id, pools.c.synced_slot <= slot)
        .values(
            status=db_status(pool.status),
            status_reason=pool.status_reason,
            paused=pool.paused,
            participants_count=participants_count,
            total_amount=pool.total_amount,
            winner_wallet=func.coalesce(winner, pools.c.winner_wallet),
            randomness_account=func.coalesce(randomness, pools.c.randomness_account),
            lock_start_time=utc_from_unix(pool.lock_start_time),
            unlock_time=utc_from_unix(pool.unlock_time),
            end_time=func.coalesce(utc_from_unix(pool.end_time), pools.c.end_time),
            close_time=utc_from_unix(pool.close_time),
            randomness_commit_slot=pool.randomness_commit_slot or None,
            unpayable_reason=unpayable_reason,
            synced_slot=slot,
            updated_at=func.now(),
        )
    )


def record_accounts_closed(conn: Connection, pool_id: int, *, slot: int) -> None:
    """The Pool account is gone: `claim_rent` closed it (docs/program.md §3.9), the pool is finished."""
    conn.execute(
        update(pools)
        .where(pools.c.id == pool_id)
        .values(status=CLOSED, rent_claimed=True, next_check_at=None, synced_slot=slot, updated_at=func.now())
    )
