"""A wallet's activity, newest first, keyset-paged on (block_time, id) with the index
`ix_activity_wallet_block_time_id`. The cursor is `<epoch microseconds>.<id>` of the last row shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.engine import Connection

from missout.db.tables import activity, mints, pools
from missout.profiles.patterns import ACTIVITY_CURSOR as ACTIVITY_CURSOR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ActivityRow:
    id: int
    kind: str
    pool_id: int
    amount: int
    mint: str
    decimals: int
    signature: str
    block_time: datetime


@dataclass(frozen=True, slots=True)
class ActivityPage:
    items: list[ActivityRow]
    next_cursor: str | None


def _cursor(row: ActivityRow) -> str:
    delta = row.block_time - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{row.id}"


def _decode(cursor: str) -> tuple[datetime, int]:
    micros, ident = cursor.split(".")
    return _EPOCH + timedelta(microseconds=int(micros)), min(int(ident), 2**63 - 1)


def activity_query(wallet: str, limit: int, cursor: str | None) -> Select[Any]:
    """One page plus one row (to know whether another page follows)."""
    query = (
        select(
            activity.c.id,
            activity.c.kind,
            activity.c.pool_id,
            activity.c.amount,
            pools.c.mint,
            mints.c.decimals,
            activity.c.signature,
            activity.c.block_time,
        )
        .join(pools, pools.c.id == activity.c.pool_id)
        .join(mints, mints.c.address == pools.c.mint)
        .where(activity.c.wallet == wallet)
    )
    if cursor is not None:
        moment, ident = _decode(cursor)
        query = query.where(tuple_(activity.c.block_time, activity.c.id) < tuple_(moment, ident))
    return query.order_by(activity.c.block_time.desc(), activity.c.id.desc()).limit(limit + 1)


def wallet_activity(conn: Connection, wallet: str, limit: int, cursor: str | None) -> ActivityPage:
    rows = conn.execute(activity_query(wallet, limit, cursor)).all()
    items = [
        ActivityRow(r.id, r.kind, r.pool_id, int(r.amount), r.mint, r.decimals, r.signature, r.block_time)
        for r in rows[:limit]
    ]
    return ActivityPage(items, _cursor(items[-1]) if len(rows) > limit else None)
