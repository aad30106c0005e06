"""`pool_detail` reads a pool, its participants, its latest activity and its payout in one statement, the
lists aggregated as JSON beside the pool row. These are the cases such a query can get wrong: empty lists,
refunded seats (NULL seat) and seats without a reported join, amounts past 2^63 (exact ints whatever the JSON
decoder does with numbers: they travel as strings), times in a session whose time zone is not UTC, the
100-row activity cut and its order when block times tie, display names, and a missing pool. Real PostgreSQL
through pgBouncer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from missout.db import transaction
from missout.db.tables import U64_MAX, activity, participants, pool_payouts, profiles
from missout.pools.detail import (
    ACTIVITY_SHOWN,
    ActivityRow,
    ParticipantRow,
    PayoutRow,
    PoolDetail,
    pool_detail,
)
from tests.support.database import TestDatabase
from tests.support.factories import MINT, SIG, insert_mint, insert_pool, key

T0 = datetime(2026, 11, 1, 12, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def pool_id(app_database: TestDatabase, direct_engine: Engine) -> int:
    insert_mint(direct_engine)
    return insert_pool(direct_engine, pool_address=key(1), create_signature=SIG(1), participants_count=0)


def _add(engine: Engine, table: Any, *rows: dict[str, Any]) -> None:
    with engine.begin() as conn:
        for row in rows:  # one by one: the rows do not all name the same columns
            conn.execute(insert(table).values(**row))


def _activity(pool_id: int, n: int, **values: Any) -> dict[str, Any]:
    row = {
        "pool_id": pool_id,
        "wallet": key(100 + n),
        "kind": "join_pool",
        "amount": 1_000_000,
        "signature": SIG(100 + n),
        "slot": 1_000 + n,
        "block_time": T0 + timedelta(seconds=n),
    }
    row.update(values)
    return row


def _read(**where: Any) -> PoolDetail | None:
    with transaction() as conn:
        return pool_detail(conn, **where)


def _detail(pool_id: int) -> PoolDetail:
    found = _read(pool_id=pool_id)
    assert found is not None
    return found


def test_a_pool_without_participants_activity_or_payout_has_empty_lists(pool_id: int) -> None:
    detail = _detail(pool_id)
    assert detail.pool.id == pool_id
    assert detail.pool.address == key(1)
    assert (detail.participants, detail.activity, detail.donations, detail.payout) == ([], [], [], None)


def test_an_unknown_pool_is_none_by_address_and_by_id(pool_id: int) -> None:
    assert _read(address=key(2)) is None
    assert _read(pool_id=pool_id + 1) is None
    assert _read(address=key(1)) == _read(pool_id=pool_id)


def test_seats_in_order_refunded_ones_last_with_names_and_missing_joins(
    pool_id: int, direct_engine: Engine
) -> None:
    _add(
        direct_engine,
        profiles,
        {"wallet": key(11), "nickname": "Seat_One"},
        {"wallet": key(13), "nickname": None},  # a profile without a nickname
        {"wallet": key(14), "nickname": "refunded_2"},
    )
    joined = T0 + timedelta(microseconds=1)
    _add(
        direct_engine,
        participants,
        # Inserted out of order; two refunded wallets (seat NULL) must come last, in insertion (id) order.
        {"pool_id": pool_id, "wallet": key(14), "seat": None, "refund_claimed": True, "joined_at": joined,
         "join_signature": SIG(14), "refund_signature": SIG(24)},
        {"pool_id": pool_id, "wallet": key(12), "seat": 1, "joined_at": joined, "join_signature": SIG(12)},
        {"pool_id": pool_id, "wallet": key(15), "seat": None, "refund_claimed": True, "joined_at": joined,
         "join_signature": SIG(15), "refund_signature": SIG(25)},
        {"pool_id": pool_id, "wallet": key(11), "seat": 0, "joined_at": joined, "join_signature": SIG(11)},
        # Found on chain by the monitor before anyone reported the join: no time, no signature.
        {"pool_id": pool_id, "wallet": key(13), "seat": 2},
    )  # fmt: skip
    assert _detail(pool_id).participants == [
        ParticipantRow(0, key(11), "Seat_One", joined, SIG(11), False),
        ParticipantRow(1, key(12), None, joined, SIG(12), False),
        ParticipantRow(2, key(13), None, None, None, False),
        ParticipantRow(None, key(14), "refunded_2", joined, SIG(14), True),
        ParticipantRow(None, key(15), None, joined, SIG(15), True),
    ]


def test_amounts_past_two_to_the_63_stay_exact(pool_id: int, direct_engine: Engine) -> None:
    # 2^64 - 1 and 2^63 + 1 fit neither an int64 nor a float's 53-bit mantissa.
    big = U64_MAX
    odd = 2**63 + 1
    _add(
        direct_engine,
        activity,
        _activity(pool_id, 1, kind="donate", amount=big),
        _activity(pool_id, 2, kind="payout", amount=odd),
    )
    _add(
        direct_engine,
        pool_payouts,
        {
            "pool_id": pool_id,
            "mint": MINT,
            "signature": SIG(2),
            "winner": key(40),
            "winner_amount": big - 7,
            "dev_amount": 1,
            "burn_amount": 2,
            "treasury_amount": 3,
            "referral_amount": 1,
            "total_amount": big,
            "slot": 1_002,
            "block_time": T0,
        },
    )
    detail = _detail(pool_id)
    assert [a.amount for a in detail.activity] == [odd, big]
    assert detail.payout == PayoutRow(key(40), big - 7, 1, 2, 3, 1, big, SIG(2), T0)
    for amount in (
        detail.payout.winner_amount,
        detail.payout.total_amount,
        *[a.amount for a in detail.activity],
    ):
        assert type(amount) is int


def test_times_are_utc_with_microseconds_whatever_the_session_time_zone(
    pool_id: int, direct_engine: Engine
) -> None:
    _add(direct_engine, activity, _activity(pool_id, 0, block_time=T0))
    _add(direct_engine, participants, {"pool_id": pool_id, "wallet": key(11), "seat": 0, "joined_at": T0})
    with transaction() as conn:
        # JSON carries a timestamptz with the session's offset; the reader must still give the same instant.
        conn.exec_driver_sql("SET LOCAL TimeZone = 'Asia/Kathmandu'")  # +05:45
        detail = pool_detail(conn, pool_id=pool_id)
    assert detail is not None
    (row,) = detail.activity
    (seat,) = detail.participants
    for moment in (row.block_time, seat.joined_at):
        assert moment == T0
        assert moment is not None
        assert moment.utcoffset() == timedelta(0)


def test_activity_is_the_latest_hundred_newest_first_ties_by_id(pool_id: int, direct_engine: Engine) -> None:
    total = ACTIVITY_SHOWN + 5
    # Pairs share a block time, so the id decides within each pair; every fourth row is a donation.
    rows = [
        _activity(
            pool_id,
            n,
            block_time=T0 + timedelta(seconds=n // 2),
            kind="donate" if n % 4 == 0 else "join_pool",
        )
        for n in range(total)
    ]
    _add(direct_engine, activity, *rows)
    detail = _detail(pool_id)
    # Inserted in n order, so ids grow with n: newest first means n descending, ties included.
    expected = [
        ActivityRow(r["kind"], r["wallet"], r["amount"], r["signature"], r["slot"], r["block_time"])
        for r in reversed(rows)
    ][:ACTIVITY_SHOWN]
    assert detail.activity == expected
    assert detail.donations == [a for a in expected if a.kind == "donate"]
    assert len(detail.donations) == 25  # n = 104, 100, ..., 8 (n >= 5 are shown)


def test_activity_and_seats_of_other_pools_stay_out(pool_id: int, direct_engine: Engine) -> None:
    other = insert_pool(direct_engine, pool_address=key(2), create_signature=SIG(2))
    _add(direct_engine, activity, _activity(other, 1))
    _add(direct_engine, participants, {"pool_id": other, "wallet": key(11), "seat": 0})
    detail = _detail(pool_id)
    assert (detail.participants, detail.activity) == ([], [])
    assert [p.wallet for p in _detail(other).participants] == [key(11)]
