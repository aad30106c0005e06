"""One pool in full for the API: the row, its participants in on-chain order (with display names from
profiles), its donations and activity, and once paid out, the split. Plus what a wallet can claim now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Text, and_, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, ScalarSelect

from missout.db.tables import activity, mints, participants, pool_payouts, pools, profiles
from missout.pools.listing import POOL_ROW_COLUMNS, PoolRow, pool_row
from missout.pools.status import TERMINAL_POOL_STATUSES

ACTIVITY_SHOWN = 100
# claim_refund accepts only these reasons (docs/program.md §3.8): expired, creator-cancelled, admin-closed.
REFUNDABLE_REASONS = (1, 5, 6)
# claim_rent accepts these statuses once nobody is left to refund (docs/program.md §3.9).
RENT_STATUSES = ("ended", "cancelled", "closed", "winner_selected")


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    seat: int | None  # None once refunded (the wallet left the on-chain list)
    wallet: str
    display_name: str | None
    joined_at: datetime | None
    join_signature: str | None
    refund_claimed: bool


@dataclass(frozen=True, slots=True)
class ActivityRow:
    kind: str
    wallet: str
    amount: int
    signature: str
    slot: int
    block_time: datetime


@dataclass(frozen=True, slots=True)
class PayoutRow:
    winner: str
    winner_amount: int
    dev_amount: int
    burn_amount: int
    treasury_amount: int
    referral_amount: int
    total_amount: int
    signature: str
    block_time: datetime


@dataclass(frozen=True, slots=True)
class PoolDetail:
    pool: PoolRow
    status_reason: int
    paused: bool
    allow_mock: bool
    expire_time: datetime | None
    unlock_time: datetime | None
    close_time: datetime | None
    randomness_account: str | None
    rent_claimed: bool
    create_signature: str
    synced_slot: int
    participants: list[ParticipantRow]
    donations: list[ActivityRow]
    activity: list[ActivityRow]
    payout: PayoutRow | None


# The detail's own columns beyond a PoolRow's.
_DETAIL_COLUMNS = (
    pools.c.status_reason,
    pools.c.paused,
    pools.c.allow_mock,
    pools.c.expire_time,
    pools.c.unlock_time,
    pools.c.close_time,
    pools.c.randomness_account,
    pools.c.rent_claimed,
    pools.c.create_signature,
    pools.c.synced_slot,
)


def _chosen_pool(by_id: bool, *lists: ColumnElement[Any]) -> Select[Any]:
    query = select(*POOL_ROW_COLUMNS, *_DETAIL_COLUMNS, *lists).join(mints, mints.c.address == pools.c.mint)
    if by_id:
        return query.where(pools.c.id == bindparam("pool_id")).limit(1)
    # The live pool at the address; a closed pool's address may be re-used (docs/program.md §2.4), and
    # without a live one the most recent closed one is shown. Earlier ones are reachable by id.
    return (
        query.where(pools.c.pool_address == bindparam("address"))
        .order_by(pools.c.status.in_(TERMINAL_POOL_STATUSES), pools.c.created_at.desc(), pools.c.id.desc())
        .limit(1)
    )


def _json_list(
    item: ColumnElement[Any],
    *order: ColumnElement[Any],
    source: FromClause,
    where: ColumnElement[bool] | None = None,
) -> ScalarSelect[Any]:
    """The rows of `source` (matching `where`) as one JSON array of `item`s in `order` ([] when none)."""
    aggregated = func.json_agg(aggregate_order_by(item, *order))
    query = select(func.coalesce(aggregated, literal_column("'[]'::json"))).select_from(source)
    return (query if where is None else query.where(where)).scalar_subquery()


def _exact(amount: ColumnElement[Any]) -> ColumnElement[str]:
    # As text: a JSON number is a float to many decoders, and amounts exceed 2^53 (u64 base units).
    return cast(amount, Text)


@cache
def _detail_statement(by_id: bool) -> Select[Any]:
    """Built once per process: building it costs a millisecond of Python, per request otherwise. The JSON
    arrays are positional, in the order `_participant`, `_activity` and `_payout` read them."""
    people = _json_list(
        func.json_build_array(
            participants.c.seat,
            participants.c.wallet,
            profiles.c.nickname,
            participants.c.joined_at,
            participants.c.join_signature,
            participants.c.refund_claimed,
        ),
        participants.c.seat.asc().nulls_last(),
        participants.c.id.asc(),
        source=participants.outerjoin(profiles, profiles.c.wallet == participants.c.wallet),
        where=participants.c.pool_id == pools.c.id,
    )
    # The latest ACTIVITY_SHOWN rows by the (pool_id, block_time) index, then aggregated in the same order.
    recent = (
        select(
            activity.c.id,
            activity.c.kind,
            activity.c.wallet,
            activity.c.amount,
            activity.c.signature,
            activity.c.slot,
            activity.c.block_time,
        )
        .where(activity.c.pool_id == pools.c.id)
        .order_by(activity.c.block_time.desc(), activity.c.id.desc())
        .limit(ACTIVITY_SHOWN)
        .correlate(pools)
        .subquery("recent")
    )
    history = _json_list(
        func.json_build_array(
            recent.c.kind,
            recent.c.wallet,
            _exact(recent.c.amount),
            recent.c.signature,
            recent.c.slot,
            recent.c.block_time,
        ),
        recent.c.block_time.desc(),
        recent.c.id.desc(),
        source=recent,
    )
    payout = (
        select(
            func.json_build_array(
                pool_payouts.c.winner,
                _exact(pool_payouts.c.winner_amount),
                _exact(pool_payouts.c.dev_amount),
                _exact(pool_payouts.c.burn_amount),
                _exact(pool_payouts.c.treasury_amount),
                _exact(pool_payouts.c.referral_amount),
                _exact(pool_payouts.c.total_amount),
                pool_payouts.c.signature,
                pool_payouts.c.block_time,
            )
        )
        .where(pool_payouts.c.pool_id == pools.c.id)
        .scalar_subquery()
    )
    return _chosen_pool(by_id, people.label("people"), history.label("history"), payout.label("payout"))


def pool_detail(
    conn: Connection, *, address: str | None = None, pool_id: int | None = None
) -> PoolDetail | None:
    """The live pool at `address`, or the pool with `pool_id` (live or not).

    One statement (`_detail_statement`): the pool row with its participants, its latest activity and its
    payout aggregated beside it as JSON arrays. Amounts travel as strings, times as ISO 8601 with their
    offset."""
    by_id = pool_id is not None
    parameters = {"pool_id": pool_id} if by_id else {"address": address}
    found = conn.execute(_detail_statement(by_id), parameters).first()
    if found is None:
        return None
    row = found._mapping
    activities = [_activity(item) for item in row["history"]]
    return PoolDetail(
        pool=pool_row(found),
        status_reason=row["status_reason"],
        paused=row["paused"],
        allow_mock=row["allow_mock"],
        expire_time=row["expire_time"],
        unlock_time=row["unlock_time"],
        close_time=row["close_time"],
        randomness_account=row["randomness_account"],
        rent_claimed=row["rent_claimed"],
        create_signature=row["create_signature"],
        synced_slot=row["synced_slot"],
        participants=[_participant(item) for item in row["people"]],
        donations=[a for a in activities if a.kind == "donate"],
        activity=activities,
        payout=None if row["payout"] is None else _payout(row["payout"]),
    )


def _time(iso: str) -> datetime:
    # PostgreSQL writes a timestamptz into JSON in ISO 8601 with the session's offset; the API speaks UTC.
    return datetime.fromisoformat(iso).astimezone(UTC)


def _participant(item: list[Any]) -> ParticipantRow:
    seat, wallet, nickname, joined_at, join_signature, refund_claimed = item
    joined = None if joined_at is None else _time(joined_at)
    return ParticipantRow(seat, wallet, nickname, joined, join_signature, refund_claimed)


def _activity(item: list[Any]) -> ActivityRow:
    kind, wallet, amount, signature, slot, block_time = item
    return ActivityRow(kind, wallet, int(amount), signature, slot, _time(block_time))


def _payout(item: list[Any]) -> PayoutRow:
    winner, winner_amount, dev, burn, treasury, referral, total, signature, block_time = item
    return PayoutRow(
        winner=winner,
        winner_amount=int(winner_amount),
        dev_amount=int(dev),
        burn_amount=int(burn),
        treasury_amount=int(treasury),
        referral_amount=int(referral),
        total_amount=int(total),
        signature=signature,
        block_time=_time(block_time),
    )


@dataclass(frozen=True, slots=True)
class Claimables:
    refunds: list[PoolRow]  # cancelled pools where the wallet still holds a seat
    rents: list[PoolRow]  # the wallet's own finished pools with nobody left to refund


def claimable(conn: Connection, wallet: str) -> Claimables:
    """By the program's rules (docs/program.md §3.8, §3.9): a refund needs a Cancelled pool with a refundable
    reason and the wallet still in the list; rent needs the creator, a finished status and an empty list."""
    base = select(*POOL_ROW_COLUMNS).join(mints, mints.c.address == pools.c.mint)
    refunds = conn.execute(
        base.join(
            participants,
            and_(
                participants.c.pool_id == pools.c.id,
                participants.c.wallet == wallet,
                participants.c.seat.is_not(None),
                participants.c.refund_claimed.is_(False),
            ),
        )
        .where(pools.c.status == "cancelled", pools.c.status_reason.in_(REFUNDABLE_REASONS))
        .order_by(pools.c.created_at.desc(), pools.c.id.desc())
    )
    rents = conn.execute(
        base.where(
            pools.c.creator_wallet == wallet,
            pools.c.status.in_(RENT_STATUSES),
            pools.c.participants_count == 0,
            pools.c.rent_claimed.is_(False),
        ).order_by(pools.c.created_at.desc(), pools.c.id.desc())
    )
    return Claimables(refunds=[pool_row(r) for r in refunds], rents=[pool_row(r) for r in rents])
