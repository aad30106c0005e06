"""Claims: a referrer's pending balance for one mint moves into a claim row, atomically.

The move is one conditional `UPDATE ... SET amount_pending = amount_pending - :x WHERE amount_pending >= :x`
in the transaction that inserts the claim; at most one claim per (referrer, mint) is open at a time (a
partial UNIQUE index), so any number of concurrent claims take at most what was pending. The amount is the
whole pending balance up to the per-claim cap (the rest stays pending for a later claim).

Balances: `amount_pending` (claimable), open claims (queued or sending), `amount_claimed` (paid, added by
the payout when it is final). A claim that fails for good goes back to pending (`payouts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from missout.db.tables import OPEN_REFERRAL_CLAIM_STATUSES, referral_claims, referral_rewards
from missout.refusals import Refused

# The API's names for the stored statuses.
CLAIM_STATUS_NAMES = {"pending": "queued", "sending": "sending", "completed": "paid", "failed": "failed"}


class ClaimRefused(Refused):
    """`reason`: nothing_pending or claim_open."""


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    wallet: str
    mint: str
    amount: int
    status: str  # the API's name (queued, sending, paid, failed)
    signature: str | None
    error: str | None
    created_at: datetime
    completed_at: datetime | None


def _claim(row: object) -> Claim:
    values = row._mapping  # type: ignore[attr-defined]
    return Claim(
        id=values["id"],
        wallet=values["referrer_wallet"],
        mint=values["mint"],
        amount=int(values["amount"]),
        status=CLAIM_STATUS_NAMES[values["status"]],
        signature=values["signature"],
        error=values["error"],
        created_at=values["created_at"],
        completed_at=values["completed_at"],
    )


def open_claim(conn: Connection, wallet: str, mint: str, cap: int) -> Claim:
    pending = conn.execute(
        select(referral_rewards.c.amount_pending).where(
            referral_rewards.c.referrer_wallet == wallet, referral_rewards.c.mint == mint
        )
    ).scalar_one_or_none()
    if not pending:
        raise ClaimRefused("nothing_pending", f"{wallet} has no pending rewards in {mint}")
    amount = min(int(pending), cap)
    taken = conn.execute(
        update(referral_rewards)
        .where(
            referral_rewards.c.referrer_wallet == wallet,
            referral_rewards.c.mint == mint,
            referral_rewards.c.amount_pending >= amount,
        )
        .values(amount_pending=referral_rewards.c.amount_pending - amount)
        .returning(referral_rewards.c.amount_pending)
    ).one_or_none()
    if taken is None:
        # Another claim took the balance between our read and our update.
        raise ClaimRefused("nothing_pending", f"{wallet}'s pending rewards in {mint} were just claimed")
    row = conn.execute(
        insert(referral_claims)
        .values(referrer_wallet=wallet, mint=mint, amount=amount, status="pending")
        .on_conflict_do_nothing(
            index_elements=[referral_claims.c.referrer_wallet, referral_claims.c.mint],
            index_where=referral_claims.c.status.in_(OPEN_REFERRAL_CLAIM_STATUSES),
        )
        .returning(*referral_claims.c)
    ).one_or_none()
    if row is None:
        # The caller's transaction rolls back, which gives the balance back.
        raise ClaimRefused("claim_open", f"a claim of {wallet} in {mint} is already being paid")
    return _claim(row)


def claim_by_id(conn: Connection, claim_id: int) -> Claim | None:
    row = conn.execute(select(referral_claims).where(referral_claims.c.id == claim_id)).one_or_none()
    return None if row is None else _claim(row)


def claims_of(conn: Connection, wallet: str, limit: int, before_id: int | None) -> list[Claim]:
    query = select(referral_claims).where(referral_claims.c.referrer_wallet == wallet)
    if before_id is not None:
        query = query.where(referral_claims.c.id < before_id)
    rows = conn.execute(query.order_by(referral_claims.c.id.desc()).limit(limit)).all()
    return [_claim(row) for row in rows]
