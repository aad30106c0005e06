"""The database side of a reported action: who already used a signature, which live pool an address is, and
writing one proven action (replay guard, activity, the pool and its participants) in one transaction.

Every function takes the caller's connection: the caller's `transaction()` decides what is atomic. The replay
guard is the primary key of `used_signatures`; the insert is `ON CONFLICT DO NOTHING RETURNING`, so of two
concurrent reports of one action exactly one writes, and the other learns it lost without an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from solders.pubkey import Pubkey
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from missout.chain.addresses import TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID
from missout.chain.pool_keys import PoolKeys
from missout.db.tables import activity, mints, participants, pools, used_signatures
from missout.db.written import answers_deferred
from missout.pools.actions import Action as Action
from missout.pools.actions import ActionRecord as ActionRecord
from missout.pools.status import TERMINAL_POOL_STATUSES

# `mints.token_program` names the program; the verifiers need its id (the vault is derived from it).
_TOKEN_PROGRAMS = {"spl-token": TOKEN_PROGRAM_ID, "token-2022": TOKEN_2022_PROGRAM_ID}


@dataclass(frozen=True, slots=True)
class LivePool:
    """What reporting needs of a recorded pool that is not closed: its keys (the verifiers require the
    transaction to name exactly these) and its identity (creator and start time, fixed at creation)."""

    id: int
    address: str
    mint: str
    token_program: Pubkey
    entry_amount: int
    creator: str
    start_time: datetime
    status: str

    @property
    def keys(self) -> PoolKeys:
        return PoolKeys(Pubkey.from_string(self.address), Pubkey.from_string(self.mint), self.token_program)


# The statements a report runs on every request are built once: a statement object that is reused keeps its
# cache key, so SQLAlchemy neither rebuilds the expression nor walks it again to find its compiled SQL (about
# a hundred coercions per recorded join otherwise: docs/PERFORMANCE.md). Values go in as parameters.
_USES = (
    select(
        used_signatures.c.signature,
        used_signatures.c.action,
        used_signatures.c.pool_id,
        pools.c.pool_address,
        used_signatures.c.wallet,
        activity.c.amount,
        used_signatures.c.slot,
        activity.c.block_time,
        used_signatures.c.used_at,
        pools.c.unpayable_reason,
    )
    .join(pools, pools.c.id == used_signatures.c.pool_id)
    .join(
        activity,
        and_(
            activity.c.signature == used_signatures.c.signature,
            activity.c.pool_id == used_signatures.c.pool_id,
            activity.c.kind == used_signatures.c.action,
            activity.c.wallet == used_signatures.c.wallet,
        ),
    )
    .where(used_signatures.c.signature == bindparam("signature"))
    .order_by(used_signatures.c.used_at, used_signatures.c.action)
)


def find_uses(conn: Connection, signature: str) -> list[ActionRecord]:
    """Every action recorded under `signature`, first recorded first."""
    return [
        ActionRecord(
            signature=row.signature,
            action=Action.from_db(row.action),
            pool_id=row.pool_id,
            pool_address=row.pool_address,
            wallet=row.wallet,
            amount=int(row.amount),
            slot=row.slot,
            block_time=row.block_time,
            recorded_at=row.used_at,
            pool_unpayable_reason=row.unpayable_reason,
        )
        for row in conn.execute(_USES, {"signature": signature})
    ]


_LIVE_POOL = (
    select(
        pools.c.id,
        pools.c.pool_address,
        pools.c.mint,
        mints.c.token_program,
        pools.c.entry_amount,
        pools.c.creator_wallet,
        pools.c.start_time,
        pools.c.status,
    )
    .join(mints, mints.c.address == pools.c.mint)
    .where(pools.c.pool_address == bindparam("address"), pools.c.status.not_in(TERMINAL_POOL_STATUSES))
)


def find_live_pool(conn: Connection, address: str) -> LivePool | None:
    """The pool at `address` that is not closed (at most one: the address is unique among live pools)."""
    row = conn.execute(_LIVE_POOL, {"address": address}).first()
    if row is None:
        return None
    return LivePool(
        id=row.id,
        address=row.pool_address,
        mint=row.mint,
        token_program=_TOKEN_PROGRAMS[row.token_program],
        entry_amount=int(row.entry_amount),
        creator=row.creator_wallet,
        start_time=row.start_time,
        status=row.status,
    )


_CLAIM = pg_insert(used_signatures).on_conflict_do_nothing().returning(used_signatures.c.signature)
# The create's activity row may exist already (registration writes it); the replay guard is what decides.
# inline: no `RETURNING activity.id` for a new id nobody reads (a deferred statement may return no rows), and
# no `nextval` fetched beforehand instead (a wait of its own).
_ACTIVITY = (
    pg_insert(activity)
    .inline()
    .on_conflict_do_nothing(index_elements=["signature", "pool_id", "kind", "wallet"])
)
_MARK_JOINED = (
    update(participants)
    .where(
        participants.c.pool_id == bindparam("row_pool_id"),
        participants.c.wallet == bindparam("row_wallet"),
        participants.c.join_signature.is_(None),
    )
    .values(join_signature=bindparam("signature"), joined_at=bindparam("joined_at"))
)
_MARK_REFUNDED = (
    update(participants)
    .where(
        participants.c.pool_id == bindparam("row_pool_id"), participants.c.wallet == bindparam("row_wallet")
    )
    .values(refund_claimed=True, refund_signature=bindparam("signature"))
)


def claim_signature(
    conn: Connection,
    *,
    signature: str,
    action: Action,
    pool_id: int,
    wallet: str,
    amount: int,
    slot: int,
    block_time: datetime,
) -> bool:
    """Write the replay guard and the activity row; False when this exact action was already recorded (a
    concurrent report won), in which case nothing is written."""
    claimed = conn.execute(
        _CLAIM,
        {"signature": signature, "action": action.db, "pool_id": pool_id, "wallet": wallet, "slot": slot},
    ).first()
    if claimed is None:
        return False
    activity_row = {
        "pool_id": pool_id,
        "wallet": wallet,
        "kind": action.db,
        "amount": amount,
        "signature": signature,
        "slot": slot,
        "block_time": block_time,
    }
    with answers_deferred(conn):  # nothing read back: it goes out with the next statement (written.py)
        conn.execute(_ACTIVITY, activity_row)
    return True


def mark_joined(conn: Connection, pool_id: int, wallet: str, signature: str, joined_at: datetime) -> None:
    """The join's own proof on the participant's row (the seat itself comes from the chain). Written, not
    waited for: it goes out with the caller's next statement or its COMMIT (written.py)."""
    with answers_deferred(conn):
        conn.execute(
            _MARK_JOINED,
            {"row_pool_id": pool_id, "row_wallet": wallet, "signature": signature, "joined_at": joined_at},
        )


def mark_refunded(conn: Connection, pool_id: int, wallet: str, signature: str) -> None:
    """Written, not waited for, as `mark_joined`."""
    with answers_deferred(conn):
        conn.execute(_MARK_REFUNDED, {"row_pool_id": pool_id, "row_wallet": wallet, "signature": signature})


def set_mint_names(conn: Connection, mint: str, name: str | None, symbol: str | None) -> None:
    """Name and symbol as the mint's metadata states them now (null when it has none)."""
    conn.execute(update(mints).where(mints.c.address == mint).values(name=name, symbol=symbol))
