"""The `crank_intents` rows: record before sending, claim, and settle. Each function is one short database
transaction of its own (committed before the caller touches the network), through `missout.db.transaction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    LargeBinary,
    Text,
    and_,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.sql.elements import ColumnElement

from missout.chain.send.outcome import LIVE_INTENT_STATUSES, RETRYABLE_INTENT_STATUSES, IntentStatus
from missout.db import ConstraintViolation, transaction
from missout.db.tables import crank_intents

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
_IS_LIVE = crank_intents.c.status.in_([s.value for s in LIVE_INTENT_STATUSES])


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


def _lease(seconds: float) -> ColumnElement[Any]:
    return func.now() + literal(timedelta(seconds=seconds))


@dataclass(frozen=True, slots=True)
class AttemptPlan:
    """Where (pool, action) stands before a new attempt: its number, or why none may be signed."""

    attempt: int
    blocked_by: IntentStatus | None  # finalized / already_done: done for good; prepared / sent: live


def plan_attempt(engine: Engine | None, pool_id: int, action: str) -> AttemptPlan:
    """1 + the highest attempt so far, and the status that forbids a new one, if any. A hint only: the
    insert (`record_intent`) decides atomically, this lets a run skip the simulation when it is moot."""
    with transaction(engine) as conn:
        rows = conn.execute(
            select(crank_intents.c.attempt, crank_intents.c.status)
            .where(crank_intents.c.pool_id == pool_id, crank_intents.c.action == action)
            .order_by(crank_intents.c.attempt)
        ).all()
    statuses = [IntentStatus(row.status) for row in rows]
    highest = max((int(row.attempt) for row in rows), default=0)
    return AttemptPlan(highest + 1, _blocker(statuses))


def _blocker(statuses: list[IntentStatus]) -> IntentStatus | None:
    """The strongest reason in a (pool, action)'s history not to sign again: an effect beats a live row."""
    for reason in (IntentStatus.FINALIZED, IntentStatus.ALREADY_DONE, *LIVE_INTENT_STATUSES):
        if reason in statuses:
            return reason
    return None


class AttemptRefused(Exception):
    """The insert found that attempt N may not be signed: `status` is the (pool, action) history's blocker
    (finalized or already_done: done for good; prepared or sent: another run's attempt is live)."""

    def __init__(self, pool_id: int, action: str, attempt: int, status: IntentStatus | None) -> None:
        super().__init__(f"pool {pool_id} {action}: attempt {attempt} refused ({status})")
        self.status = status


def record_intent(engine: Engine | None, intent: NewIntent, attempt: int, lease_s: float) -> CrankIntent:
    """Insert and commit the intent (status prepared, leased to this run) before anything is sent.

    One statement decides: attempt 1 only when (pool, action) has no row at all, attempt N only when attempt
    N - 1 ended without effect (expired or failed). Two runs racing for the same N meet on the UNIQUE key.
    Raises `AttemptRefused` when the history forbids attempt N (e.g. an earlier attempt finalized while this
    run was simulating), `IntentOwnedElsewhere` when another run inserted the same attempt first."""
    prior = crank_intents.alias("prior")
    same = and_(prior.c.pool_id == intent.pool_id, prior.c.action == intent.action)
    allowed = (
        ~exists().where(same)
        if attempt == 1
        else exists().where(
            same,
            prior.c.attempt == attempt - 1,
            prior.c.status.in_([s.value for s in RETRYABLE_INTENT_STATUSES]),
        )
    )
    values = select(
        literal(intent.pool_id, BigInteger),
        literal(intent.action, Text),
        literal(attempt, Integer),
        literal(IntentStatus.PREPARED.value, Text),
        literal(intent.signature, Text),
        literal(intent.raw_transaction, LargeBinary),
        literal(intent.last_valid_block_height, BigInteger),
        _lease(lease_s),
    ).where(allowed)
    columns = [
        "pool_id",
        "action",
        "attempt",
        "status",
        "signature",
        "raw_transaction",
        "last_valid_block_height",
        "lease_until",
    ]
    try:
        with transaction(engine) as conn:
            row = conn.execute(
                insert(crank_intents).from_select(columns, values).returning(*_COLUMNS)
            ).one_or_none()
            if row is None:
                history = conn.execute(
                    select(crank_intents.c.status).where(
                        crank_intents.c.pool_id == intent.pool_id, crank_intents.c.action == intent.action
                    )
                ).scalars()
                blocker = _blocker([IntentStatus(status) for status in history])
    except ConstraintViolation as violation:
        if violation.constraint in _OWNERSHIP_CONSTRAINTS:
            raise IntentOwnedElsewhere(
                f"pool {intent.pool_id} {intent.action}: {violation.constraint} held by another run"
            ) from violation
        raise
    if row is None:
        raise AttemptRefused(intent.pool_id, intent.action, attempt, blocker)
    return _intent(row._mapping)


def effect_seen_at(engine: Engine | None, pool_id: int, action: str) -> datetime | None:
    """When a run saw (pool, action) take effect: the `settled_at` of its `finalized` or `already_done` row
    (a history holds at most one: either refuses every later attempt). The effect landed at or before that
    moment, so it is a safe "landed by" time; None while the action has not been seen done."""
    with transaction(engine) as conn:
        seen: datetime | None = conn.execute(
            select(func.max(crank_intents.c.settled_at)).where(
                crank_intents.c.pool_id == pool_id,
                crank_intents.c.action == action,
                crank_intents.c.status.in_([IntentStatus.FINALIZED.value, IntentStatus.ALREADY_DONE.value]),
            )
        ).scalar_one()
    return seen


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
