"""Registering a referrer, signed by the referred wallet (docs/original-backend.md W10).

Rules: no self-referral; the first referrer wins forever (UNIQUE on the referred wallet); no cycles (the
referrer's own chain of referrers may not contain the referred wallet); and not once the referred wallet has
joined a pool (a referrer cannot claim a player who came without them).

Cycle checks read the graph and then write it, so two registrations that close a cycle together (A→B and
B→A at once) could both pass a check-then-insert; a transaction-scoped advisory lock serialises registrations
(rare, and cheap to serialise), which is safe behind pgBouncer in transaction mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from missout.db.tables import participants, referral_relations
from missout.refusals import Refused

_GRAPH_LOCK = 0x7265_6672  # "refr": the advisory lock key of the referral graph


class RegistrationRefused(Refused):
    """`reason` is one of self_referral, already_referred, cycle, already_played."""

    def __init__(self, reason: str, detail: str, current_referrer: str | None = None) -> None:
        super().__init__(reason, detail)
        self.current_referrer = current_referrer


@dataclass(frozen=True, slots=True)
class Relation:
    referred: str
    referrer: str
    created_at: datetime


_CHAIN_UP = text(
    """
    WITH RECURSIVE up(wallet, depth) AS (
        SELECT CAST(:start AS text), 0
        UNION ALL
        SELECT r.referrer_wallet, up.depth + 1
        FROM referral_relations r JOIN up ON r.referred_wallet = up.wallet
        WHERE up.depth < 10000
    )
    SELECT EXISTS (SELECT 1 FROM up WHERE wallet = :target)
    """
)


def register_referrer(conn: Connection, referred: str, referrer: str, source: str = "link") -> Relation:
    if referred == referrer:
        raise RegistrationRefused("self_referral", "a wallet cannot refer itself")
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _GRAPH_LOCK})
    current = conn.execute(
        select(referral_relations.c.referrer_wallet).where(referral_relations.c.referred_wallet == referred)
    ).scalar_one_or_none()
    if current is not None:
        raise RegistrationRefused(
            "already_referred", f"{referred} already has a referrer, forever", current_referrer=current
        )
    if conn.execute(_CHAIN_UP, {"start": referrer, "target": referred}).scalar_one():
        raise RegistrationRefused("cycle", f"{referrer} was itself referred (directly or not) by {referred}")
    played = conn.execute(select(exists().where(participants.c.wallet == referred))).scalar_one()
    if played:
        raise RegistrationRefused("already_played", f"{referred} has already joined a pool")
    row = conn.execute(
        insert(referral_relations)
        .values(referred_wallet=referred, referrer_wallet=referrer, source=source)
        .returning(referral_relations.c.created_at)
    ).one()
    return Relation(referred, referrer, row.created_at)
