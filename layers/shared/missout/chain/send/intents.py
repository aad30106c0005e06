"""The `crank_intents` rows: record before sending, claim, and settle. Each function is one short database
transaction of its own (committed before the caller touches the network), through `missout.db.transaction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.engine import Engine, RowMapping

from missout.chain.send.outcome import IntentStatus
from missout.db import ConstraintViolation, transaction
from missout.db.tables import LIVE_CRANK_INTENT_STATUSES, crank_intents

# Constraints whose violation on insert means "another run got there first", not a bug.
_OWNERSHIP_CONSTRAINTS = frozenset(
    {
        "uq_crank_intents_live_pool_id_action",
        "uq_crank_intents_pool_id_action_attempt",
        # Same signature = the very same signed transaction (same blockhash and instructions): recorded
        # by the other run, which will send it.
        "uq_crank_intents_signature",
    }
)


class IntentOwnedElsewhere(Exception):
    """Another run holds the live intent of this (pool, action): back off and let it finish."""


@dataclass(frozen=True, slots=True)
class CrankIntent:
    id: int
    pool_id: int
    action: str
    attempt: int
    status: IntentStatus
    signature: str
    raw_transaction: bytes
    last_valid_block_height: int
    send_count: int


@dataclass(frozen=True, slots=True)
class NewIntent:
    pool_id: int
    action: str
    signature: str
    raw_transaction: bytes
    last_valid_block_height: int


_COLUMNS = (
    crank_intents.c.id,
    crank_intents.c.pool_id,
    crank_intents.c.action,
    crank_intents.c.attempt,
    crank_intents.c.status,
    crank_intents.c.signature,
    crank_intents.c.raw_transaction,
    crank_intents.c.last_valid_block_height,
    crank_intents.c.send_count,
)
_IS_LIVE = crank_intents.c.status.in_(LIVE_CRANK_INTENT_STATUSES)


def _intent(values: RowMapping) -> CrankIntent:
    return CrankIntent(
        id=int(values["id"]),
        pool_id=int(values["pool_id"]),
        action=str(values["action"]),
        attempt=int(values["attempt"]),
        status=IntentStatus(values["status"]),
        signature=str(values["signature"]),
        raw_transaction=bytes(values["raw_transaction"]),
        last_valid_block_height=int(values["last_valid_block_height"]),
        send_count=int(values["send_count"]),
    )


def _lease(seconds: float) -> object:
    return func.now() + literal(timedelta(seconds=seconds))


def next_attempt(engine: Engine | None, pool_id: int, action: str) -> int:
    """1 + the highest attempt so far (the insert re-checks it: a concurrent run loses on UNIQUE)."""
    with transaction(engine) as conn:
        highest = conn.execute(
            select(func.max(crank_intents.c.attempt)).where(
                crank_intents.c.pool_id == pool_id, crank_intents.c.action == action
            )
        ).scalar_one()
    return 1 if highest is None else int(highest) + 1


def record_intent(engine: Engine | None, intent: NewIntent, attempt: int, lease_s: float) -> CrankIntent:
    """Insert and commit the intent (status prepared, leased to this run) before anything is sent.

    Raises `IntentOwnedElsewhere` when the live-intent index or the attempt key says another run is ahead."""
    values = {
        "pool_id": intent.pool_id,
        "action": intent.action,
        "attempt": attempt,
        "status": IntentStatus.PREPARED.value,
        "signature": intent.signature,
        "raw_transaction": intent.raw_transaction,
        "last_valid_block_height": intent.last_valid_block_height,
        "lease_until": _lease(lease_s),
    }
    try:
        with transaction(engine) as conn:
            row = conn.execute(insert(crank_intents).values(**values).returning(*_COLUMNS)).one()
    except ConstraintViolation as violation:
        if violation.constraint in _OWNERSHIP_CONSTRAINTS:
            raise IntentOwnedElsewhere(
                f"pool {intent.pool_id} {intent.action}: {violation.constraint} held by another run"
            ) from violation
        raise
    return _intent(row._mapping)


def find_live_intent(engine: Engine | None, pool_id: int, action: str) -> CrankIntent | None:
    with transaction(engine) as conn:
        row = conn.execute(
            select(*_COLUMNS).where(
                crank_intents.c.pool_id == pool_id, crank_intents.c.action == action, _IS_LIVE
            )
        ).one_or_none()
    return None if row is None else _intent(row._mapping)


def claim_intent(engine: Engine | None, intent_id: int, lease_s: float) -> CrankIntent | None:
    """Take over a live intent whose lease ran out (its run crashed or gave up); None if it is settled or
    another run holds it. The row lock is `SKIP LOCKED`: a concurrent claimer moves on instead of waiting."""
    with transaction(engine) as conn:
        claimable = (
            select(crank_intents.c.id)
            .where(crank_intents.c.id == intent_id, _IS_LIVE, crank_intents.c.lease_until <= func.now())
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = conn.execute(
            update(crank_intents)
            .where(crank_intents.c.id == claimable)
            .values(lease_until=_lease(lease_s), updated_at=func.now())
            .returning(*_COLUMNS)
        ).one_or_none()
    return None if row is None else _intent(row._mapping)


def claim_stale_intents(engine: Engine | None, lease_s: float, limit: int) -> list[CrankIntent]:
    """Every live intent whose lease ran out, oldest first, claimed for this run (resume on start)."""
    with transaction(engine) as conn:
        stale = (
            select(crank_intents.c.id)
            .where(_IS_LIVE, crank_intents.c.lease_until <= func.now())
            .order_by(crank_intents.c.lease_until, crank_intents.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = conn.execute(
            update(crank_intents)
            .where(crank_intents.c.id.in_(stale.scalar_subquery()))
            .values(lease_until=_lease(lease_s), updated_at=func.now())
            .returning(*_COLUMNS)
        ).all()
    return sorted((_intent(row._mapping) for row in rows), key=lambda intent: intent.id)


def mark_sent(engine: Engine | None, intent_id: int, broadcasts: int) -> None:
    """Count broadcasts; the first one moves prepared → sent."""
    with transaction(engine) as conn:
        conn.execute(
            update(crank_intents)
            .where(crank_intents.c.id == intent_id, _IS_LIVE)
            .values(
                status=IntentStatus.SENT.value,
                send_count=crank_intents.c.send_count + broadcasts,
                first_sent_at=func.coalesce(crank_intents.c.first_sent_at, func.now()),
                updated_at=func.now(),
            )
        )


def settle_intent(
    engine: Engine | None,
    intent_id: int,
    status: IntentStatus,
    landed_slot: int | None = None,
    error: str | None = None,
) -> bool:
    """Live → terminal, once: False when another run settled it first (its verdict stands)."""
    with transaction(engine) as conn:
        result = conn.execute(
            update(crank_intents)
            .where(and_(crank_intents.c.id == intent_id, _IS_LIVE))
            .values(
                status=status.value,
                landed_slot=landed_slot,
                error=error,
                settled_at=func.now(),
                updated_at=func.now(),
                lease_until=func.now(),
            )
        )
    return result.rowcount == 1


def release_intent(engine: Engine | None, intent_id: int) -> None:
    """Give up the lease of a still-live intent so the next run picks it up without waiting."""
    with transaction(engine) as conn:
        conn.execute(
            update(crank_intents)
            .where(crank_intents.c.id == intent_id, _IS_LIVE)
            .values(lease_until=func.now(), updated_at=func.now())
        )
