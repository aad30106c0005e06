"""The other keys and checks of migration 0003, one behaviour each: pool identity and address re-use, seats
rewritten in one statement, payouts that must add up and stay on their pool's mint, closed vocabularies."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.engine import Engine

from missout.db import ConstraintViolation, transaction
from missout.db.tables import participants, pool_payouts, pools
from missout.pools.status import UNPAYABLE_REASONS
from tests.support.database import TestDatabase
from tests.support.factories import MINT, SIG, insert_mint, insert_participant, insert_pool, key

ADDRESS = key(1_000)


def _new_pool(**changes: Any) -> Any:
    row: dict[str, Any] = {
        "pool_address": ADDRESS,
        "mint": MINT,
        "creator_wallet": key(2),
        "entry_amount": 1,
        "max_participants": 2,
        "lock_duration_seconds": 60,
        "status": "open",
        "start_time": func.now(),
        "create_signature": SIG(3_000),
    }
    return insert(pools).values({**row, **changes})


def test_a_closed_pool_s_address_can_be_created_again_but_never_twice_live(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    first = insert_pool(direct_engine, status="closed")
    second = insert_pool(direct_engine, create_signature=SIG(2_000))  # same address, new create transaction
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(_new_pool())
    assert caught.value.constraint == "uq_pools_pool_address_live"
    with transaction() as conn:
        newest = conn.execute(
            select(pools.c.id)
            .where(pools.c.pool_address == ADDRESS)
            .order_by(pools.c.created_at.desc())
            .limit(1)
        ).scalar_one()
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN SELECT id FROM pools WHERE pool_address = :a ORDER BY created_at DESC LIMIT 1"),
                {"a": ADDRESS},
            ).scalars()
        )
    assert newest == second != first
    # The (address, created_at DESC) index serves "the newest pool at this address" without a sort.
    assert "Sort" not in plan


def test_the_create_signature_is_the_pool_s_identity(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    insert_pool(direct_engine, status="closed")
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(_new_pool(pool_address=key(1_001), create_signature=SIG(1_000)))  # the first one's
    assert caught.value.constraint == "uq_pools_create_signature"


def test_one_statement_permutes_every_seat(app_database: TestDatabase, direct_engine: Engine) -> None:
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine)
    wallets = [key(10 + n) for n in range(4)]
    for seat, wallet in enumerate(wallets):
        insert_participant(direct_engine, pool_id, wallet, seat)
    rotated = {wallet: (seat + 1) % 4 for seat, wallet in enumerate(wallets)}  # every seat changes hands
    with transaction() as conn:
        conn.execute(
            update(participants)
            .where(participants.c.pool_id == pool_id)
            .values(seat=case(rotated, value=participants.c.wallet))
        )
        seats = {
            wallet: seat for wallet, seat in conn.execute(select(participants.c.wallet, participants.c.seat))
        }
    assert seats == rotated
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:  # still unique at statement end
        conn.execute(update(participants).where(participants.c.wallet == wallets[0]).values(seat=2))
    assert caught.value.constraint == "uq_participants_pool_id_seat"


def test_a_seat_is_within_the_on_chain_list(app_database: TestDatabase, direct_engine: Engine) -> None:
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine)
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(insert(participants).values(pool_id=pool_id, wallet=key(1), seat=20))
    assert caught.value.constraint == "ck_participants_seat_range"


def _payout(pool_id: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "pool_id": pool_id,
        "mint": MINT,
        "signature": SIG(9),
        "winner": key(3),
        "winner_amount": 90_000_007,
        "dev_amount": 5_000_000,
        "burn_amount": 3_500_000,
        "treasury_amount": 1_500_000,
        "total_amount": 100_000_007,  # docs/program.md §5.1's example
        "slot": 1,
        "block_time": func.now(),
    }
    row.update(changes)
    return row


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"winner_amount": 90_000_006}, "ck_pool_payouts_parts_sum_to_total"),
        ({"referral_amount": 1}, "ck_pool_payouts_parts_sum_to_total"),
        ({"mint": key(7_001)}, "fk_pool_payouts_pool_id_pools"),
        ({}, None),
    ],
    ids=["short-by-one", "referral-on-top", "other-mint", "exact"],
)
def test_a_payout_adds_up_and_stays_on_its_pool_s_mint(
    changes: dict[str, Any], constraint: str | None, app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    insert_mint(direct_engine, address=key(7_001))
    pool_id = insert_pool(direct_engine, status="ended")
    try:
        with transaction() as conn:
            conn.execute(insert(pool_payouts).values(**_payout(pool_id, **changes)))
        refused = None
    except ConstraintViolation as exc:
        refused = exc.constraint
    assert refused == constraint


def test_one_payout_per_pool(app_database: TestDatabase, direct_engine: Engine) -> None:
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine, status="ended")
    with transaction() as conn:
        conn.execute(insert(pool_payouts).values(**_payout(pool_id)))
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(insert(pool_payouts).values(**_payout(pool_id, signature=SIG(10))))
    assert caught.value.constraint == "pk_pool_payouts"


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("status_reason", 3, "ck_pools_status_reason_known"),  # the program never writes 3
        ("unpayable_reason", "bad_luck", "ck_pools_unpayable_reason_known"),
        ("failure_count", -1, "ck_pools_failure_count_non_negative"),
        ("status", "finished", "ck_pools_status_known"),
    ],
)
def test_pool_vocabularies_are_closed(
    column: str, value: object, constraint: str, app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    insert_pool(direct_engine)
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(update(pools).values({column: value}))
    assert caught.value.constraint == constraint
    with transaction() as conn:  # every value the program and the monitor do write is accepted
        conn.execute(
            update(pools).values(status_reason=6, unpayable_reason="paused_cancelled", failure_count=3)
        )


@pytest.mark.parametrize("reason", UNPAYABLE_REASONS)
def test_every_reason_payability_names_can_be_recorded(
    reason: str, app_database: TestDatabase, direct_engine: Engine
) -> None:
    # The migration spells the set out; this holds it to the one `pools.payability` defines.
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine)
    with transaction() as conn:
        conn.execute(update(pools).where(pools.c.id == pool_id).values(unpayable_reason=reason))
        assert conn.execute(select(pools.c.unpayable_reason)).scalar_one() == reason
