"""Reading pools for the API: filters applied in SQL before paging, keyset pagination, integer amounts.

Keyset (created_at, id) pagination instead of OFFSET: pages stay stable while pools are created and the cost
of a page does not grow with its depth. The cursor is opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from missout.db.tables import POOL_STATUSES, mints, pools

MAX_PAGE_SIZE = 100


class InvalidCursor(ValueError):
    """The pagination cursor was not produced by this API (or was tampered with)."""


@dataclass(frozen=True)
class PoolFilters:
    statuses: tuple[str, ...] = ()
    mint: str | None = None
    creator: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.statuses) - set(POOL_STATUSES)
        if unknown:
            raise ValueError(f"unknown status: {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class PoolRow:
    id: int
    address: str
    mint: str
    mint_decimals: int
    mint_symbol: str | None
    creator: str
    status: str
    entry_amount: int
    total_amount: int
    donated_amount: int
    max_participants: int
    participants_count: int
    lock_duration_seconds: int
    dev_fee_bps: int
    burn_fee_bps: int
    treasury_fee_bps: int
    winner: str | None
    start_time: datetime
    lock_start_time: datetime | None
    end_time: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class PoolPage:
    items: list[PoolRow]
    next_cursor: str | None


def encode_cursor(created_at: datetime, pool_id: int) -> str:
    raw = json.dumps([created_at.isoformat(), pool_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at_text, pool_id = json.loads(raw)
        created_at = datetime.fromisoformat(created_at_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor("cursor is not valid") from None
    if not isinstance(pool_id, int) or created_at.tzinfo is None:
        raise InvalidCursor("cursor is not valid")
    return created_at, pool_id


def list_pools(conn: Connection, filters: PoolFilters, *, limit: int, cursor: str | None = None) -> PoolPage:
    """Newest pools first, `limit` per page (1..MAX_PAGE_SIZE)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(pools.c.status.in_(filters.statuses))
    if filters.mint:
        conditions.append(pools.c.mint == filters.mint)
    if filters.creator:
        conditions.append(pools.c.creator_wallet == filters.creator)
    if cursor:
        after_created, after_id = decode_cursor(cursor)
        conditions.append(tuple_(pools.c.created_at, pools.c.id) < tuple_(after_created, after_id))

    query = (
        select(pools, mints.c.decimals, mints.c.symbol)
        .join(mints, mints.c.address == pools.c.mint)
        .where(*conditions)
        .order_by(pools.c.created_at.desc(), pools.c.id.desc())
        .limit(limit + 1)  # one extra row tells whether another page exists, without a COUNT
    )
    rows = conn.execute(query).mappings().all()
    items = [_to_row(row) for row in rows[:limit]]
    next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return PoolPage(items=items, next_cursor=next_cursor)


def _to_row(row: object) -> PoolRow:
    r = dict(row)  # type: ignore[call-overload]
    return PoolRow(
        id=r["id"],
        address=r["pool_address"],
        mint=r["mint"],
        mint_decimals=r["decimals"],
        mint_symbol=r["symbol"],
        creator=r["creator_wallet"],
        status=r["status"],
        entry_amount=int(r["entry_amount"]),
        total_amount=int(r["total_amount"]),
        donated_amount=int(r["donated_amount"]),
        max_participants=r["max_participants"],
        participants_count=r["participants_count"],
        lock_duration_seconds=r["lock_duration_seconds"],
        dev_fee_bps=r["dev_fee_bps"],
        burn_fee_bps=r["burn_fee_bps"],
        treasury_fee_bps=r["treasury_fee_bps"],
        winner=r["winner_wallet"],
        start_time=r["start_time"],
        lock_start_time=r["lock_start_time"],
        end_time=r["end_time"],
        created_at=r["created_at"],
    )
