"""Reading pools for the API: filters applied in SQL before paging, keyset pagination, integer amounts.

Keyset pagination instead of OFFSET: pages stay stable while pools are created and the cost of a page does
not grow with its depth. Three orders, each a total order ending in the id:

* `newest`: (created_at, id) descending;
* `ending_soon`: pools still open or locked, by the end of their current window ascending (a locked pool's
  lock end, an open pool's join deadline), then id;
* `biggest_pot`: (total_amount, id) descending.

The cursor is `<key>.<id>`, two decimal integers (the key is microseconds since 1970 for the time orders,
base units for the pot). Every string of that shape is a position: a cursor is never "invalid", at worst it
points before the first or after the last pool, and the page is empty or starts at the beginning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Numeric,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from missout.db.tables import POOL_STATUSES, mints, participants, pools

MAX_PAGE_SIZE = 100


CURSOR_PATTERN = r"^[0-9]{1,20}\.[0-9]{1,18}$"
_CURSOR = re.compile(CURSOR_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_MICROS = int((datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) / timedelta(microseconds=1))
# Pools whose current window can still end: joins open, or locked and waiting for the unlock.
ENDING_STATUSES = ("open", "locked")


class InvalidCursor(ValueError):
    """The pagination cursor does not have the shape `<key>.<id>`."""


class PoolSort(Enum):
    NEWEST = "newest"
    ENDING_SOON = "ending_soon"
    BIGGEST_POT = "biggest_pot"


@dataclass(frozen=True)
class PoolFilters:
    statuses: tuple[str, ...] = ()
    mint: str | None = None
    creator: str | None = None
    participant: str | None = None  # pools whose on-chain participant list holds this wallet
    payable_only: bool = False  # leave out pools that can never pay out (pools.payability)

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
    unpayable_reason: str | None  # why it can never pay out (pools.payability), if it cannot


@dataclass(frozen=True)
class PoolPage:
    items: list[PoolRow]
    next_cursor: str | None


# What a PoolRow is made of, in its order (`pool_row`), with `mints` joined: only these, not
# every column of `pools` (the monitor's bookkeeping is no reader's business, and each timestamp costs pg8000
# a parse in Python).
POOL_ROW_COLUMNS = (
    pools.c.id,
    pools.c.pool_address,
    pools.c.mint,
    mints.c.decimals,
    mints.c.symbol,
    pools.c.creator_wallet,
    pools.c.status,
    pools.c.entry_amount,
    pools.c.total_amount,
    pools.c.donated_amount,
    pools.c.max_participants,
    pools.c.participants_count,
    pools.c.lock_duration_seconds,
    pools.c.dev_fee_bps,
    pools.c.burn_fee_bps,
    pools.c.treasury_fee_bps,
    pools.c.winner_wallet,
    pools.c.start_time,
    pools.c.lock_start_time,
    pools.c.end_time,
    pools.c.created_at,
    pools.c.unpayable_reason,
)


def _ends_at() -> ColumnElement[datetime]:
    """When the pool's current window ends: the lock end once locked, else the join deadline."""
    lock_end = pools.c.lock_start_time + func.make_interval(0, 0, 0, 0, 0, 0, pools.c.lock_duration_seconds)
    return func.coalesce(lock_end, pools.c.expire_time, pools.c.start_time + text("interval '7 days'"))


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=min(micros, _LAST_MICROS))


def encode_cursor(key: int, pool_id: int) -> str:
    return f"{key}.{pool_id}"


def decode_cursor(cursor: str) -> tuple[int, int]:
    if not _CURSOR.match(cursor):
        raise InvalidCursor("cursor must look like <key>.<id> (two decimal integers)")
    key, _, pool_id = cursor.partition(".")
    return int(key), int(pool_id)


def list_pools(
    conn: Connection,
    filters: PoolFilters,
    *,
    limit: int,
    cursor: str | None = None,
    sort: PoolSort = PoolSort.NEWEST,
) -> PoolPage:
    """One page of pools in `sort` order, `limit` per page (1..MAX_PAGE_SIZE)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    parameters: dict[str, Any] = {"rows": limit + 1}  # one extra row: another page exists, without a COUNT
    if filters.statuses:
        parameters["statuses"] = list(filters.statuses)
    if filters.mint:
        parameters["mint"] = filters.mint
    if filters.creator:
        parameters["creator"] = filters.creator
    if filters.participant:
        parameters["participant"] = filters.participant
    if cursor:
        key, parameters["after_id"] = decode_cursor(cursor)
        # Decimal: a pot key may exceed int64, which would be sent (and refused) as a bigint.
        parameters["after_key"] = Decimal(key) if sort is PoolSort.BIGGEST_POT else _moment(key)
    statement = _page_statement(
        sort,
        statuses=bool(filters.statuses),
        mint=bool(filters.mint),
        creator=bool(filters.creator),
        participant=bool(filters.participant),
        payable_only=filters.payable_only,
        after=bool(cursor),
    )
    rows = conn.execute(statement, parameters).all()
    items = [pool_row(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        if sort is PoolSort.NEWEST:
            key_value = _micros(last.created_at)
        elif sort is PoolSort.BIGGEST_POT:
            key_value = last.total_amount
        else:
            key_value = _micros(rows[limit - 1][len(POOL_ROW_COLUMNS)])  # the window end, after the row
        next_cursor = encode_cursor(key_value, last.id)
    return PoolPage(items=items, next_cursor=next_cursor)


@cache
def _page_statement(
    sort: PoolSort,
    *,
    statuses: bool,
    mint: bool,
    creator: bool,
    participant: bool,
    payable_only: bool,
    after: bool,
) -> Select[Any]:
    """The page query for one combination of filters, order and cursor (at most 192), its values bound by
    name: built once per process, so a request neither builds it (a tenth of a millisecond of Python) nor
    computes its compiled-cache key again (SQLAlchemy memoizes it on the statement)."""
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(pools.c.status.in_(bindparam("statuses", expanding=True)))
    if mint:
        conditions.append(pools.c.mint == bindparam("mint"))
    if creator:
        conditions.append(pools.c.creator_wallet == bindparam("creator"))
    if payable_only:
        conditions.append(pools.c.unpayable_reason.is_(None))
    if participant:
        conditions.append(
            exists().where(
                participants.c.pool_id == pools.c.id,
                participants.c.wallet == bindparam("participant"),
                participants.c.seat.is_not(None),
            )
        )
    # The cursor of an ending_soon page needs the window end; the other orders' keys are columns already.
    cursor_key: tuple[ColumnElement[Any], ...] = ()
    if sort is PoolSort.NEWEST:
        sort_key: ColumnElement[Any] = pools.c.created_at
        order = (pools.c.created_at.desc(), pools.c.id.desc())
    elif sort is PoolSort.BIGGEST_POT:
        sort_key = pools.c.total_amount
        order = (pools.c.total_amount.desc(), pools.c.id.desc())
    else:
        conditions.append(pools.c.status.in_(ENDING_STATUSES))
        sort_key = _ends_at()
        order = (sort_key.asc(), pools.c.id.asc())
        cursor_key = (_ends_at().label("ends_at"),)
    if after:
        key_type = Numeric(20, 0) if sort is PoolSort.BIGGEST_POT else DateTime(timezone=True)
        typed = bindparam("after_key", type_=key_type)
        after_id = bindparam("after_id", type_=BigInteger)
        if sort is PoolSort.ENDING_SOON:
            conditions.append(or_(sort_key > typed, and_(sort_key == typed, pools.c.id > after_id)))
        else:
            conditions.append(or_(sort_key < typed, and_(sort_key == typed, pools.c.id < after_id)))
    return (
        select(*POOL_ROW_COLUMNS, *cursor_key)
        .join(mints, mints.c.address == pools.c.mint)
        .where(*conditions)
        .order_by(*order)
        .limit(bindparam("rows", type_=Integer))
    )


def pool_row(values: Sequence[Any]) -> PoolRow:
    """A PoolRow from a row whose first columns are POOL_ROW_COLUMNS, in that order (PoolRow's own), by
    position: no mapping is made per row, and the row's 22 fields are passed as they come, the three amounts
    (NUMERIC) as integers."""
    return PoolRow(
        values[0],
        values[1],
        values[2],
        values[3],
        values[4],
        values[5],
        values[6],
        int(values[7]),
        int(values[8]),
        int(values[9]),
        *values[10 : len(POOL_ROW_COLUMNS)],
    )
