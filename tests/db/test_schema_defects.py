"""The three defects migration 0003 fixes, each shown on real PostgreSQL through pgBouncer: referral totals
read back as floats, isolation levels that leaked between pooled clients, ledger rows that cascaded away."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.schema import Table

from missout.db import ConstraintViolation, transaction
from missout.db.tables import (
    activity,
    crank_intents,
    participants,
    pool_payouts,
    pools,
    referral_allocations,
    referral_claims,
    referral_reward_events,
    referral_rewards,
    used_signatures,
)
from missout.db.transaction import characteristics_sql
from tests.support.concurrency import run_concurrently
from tests.support.database import TestDatabase
from tests.support.factories import MINT, SIG, insert_mint, insert_pool, key

HUGE_TOTAL = 2**64 * 1000 + 1  # far past 2**53: a float cannot hold it


def test_referral_totals_read_back_as_exact_integers(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    with transaction() as conn:
        conn.execute(
            insert(referral_rewards).values(
                referrer_wallet=key(1), mint=MINT, amount_pending=HUGE_TOTAL, amount_claimed=0
            )
        )
        conn.execute(insert(referral_rewards).values(referrer_wallet=key(2), mint=MINT, amount_pending=1000))
    with transaction() as conn:
        huge = conn.execute(
            select(referral_rewards.c.amount_pending).where(referral_rewards.c.referrer_wallet == key(1))
        ).scalar_one()
        small = conn.execute(
            select(referral_rewards.c.amount_pending).where(referral_rewards.c.referrer_wallet == key(2))
        ).scalar_one()
        # A pending total is what a claim takes: it must go straight back in as an integer amount.
        conn.execute(insert(referral_claims).values(referrer_wallet=key(2), mint=MINT, amount=small))
    assert huge == HUGE_TOTAL
    assert type(huge) is int
    assert small == 1000
    assert type(small) is int


_SEEN = text(
    "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'), "
    "current_setting('transaction_deferrable')"
)
# What each kind of transaction asks for, and the (isolation, read only, deferrable) it must then run with.
_KINDS: list[tuple[dict[str, Any], tuple[str, str, str]]] = [
    ({"isolation": "serializable"}, ("serializable", "off", "off")),
    ({"isolation": "repeatable read"}, ("repeatable read", "off", "off")),
    ({}, ("read committed", "off", "off")),
    ({"isolation": "serializable", "read_only": True, "deferrable": True}, ("serializable", "on", "on")),
]


def _isolation_seen(index: int) -> tuple[int, tuple[str, ...]]:
    kind = index % len(_KINDS)
    with transaction(**_KINDS[kind][0]) as conn:
        return kind, tuple(conn.execute(_SEEN).one())


def test_isolation_is_per_transaction_under_concurrency(app_database: TestDatabase) -> None:
    # 400 transactions from 16 threads through pgBouncer, four kinds interleaved: each must run exactly as it
    # asked, whichever server connection the pooler handed it, and whatever that connection ran before.
    outcomes = run_concurrently(400, _isolation_seen, threads=16)
    assert [o.error for o in outcomes if o.error] == []
    seen = [o.value for o in outcomes if o.value is not None]
    assert len(seen) == 400
    wrong = [(kind, got) for kind, got in seen if got != _KINDS[kind][1]]
    assert wrong == []


def test_transaction_characteristics_are_validated() -> None:
    assert characteristics_sql(None, read_only=False, deferrable=False) is None
    assert characteristics_sql("serializable", read_only=True, deferrable=True) == (
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE"
    )
    with pytest.raises(ValueError, match="deferrable"):
        characteristics_sql("repeatable read", read_only=True, deferrable=True)
    with pytest.raises(ValueError, match="isolation"):
        characteristics_sql("read uncommitted; DROP TABLE pools", read_only=False, deferrable=False)  # type: ignore[arg-type]


def _ledger_row(table: Table, pool_id: int, conn_engine: Engine) -> None:
    """One row referencing the pool in each ledger table."""
    with conn_engine.begin() as conn:
        if table is activity:
            values = {
                "pool_id": pool_id,
                "wallet": key(3),
                "kind": "join_pool",
                "amount": 5,
                "signature": SIG(3),
            }
            conn.execute(insert(activity).values(**values, slot=1, block_time=func.now()))
        elif table is participants:
            conn.execute(insert(participants).values(pool_id=pool_id, wallet=key(3), seat=0))
        elif table is used_signatures:
            conn.execute(
                insert(used_signatures).values(
                    signature=SIG(3), action="join_pool", pool_id=pool_id, wallet=key(3), slot=1
                )
            )
        elif table is referral_reward_events:
            conn.execute(insert(referral_allocations).values(pool_id=pool_id, mint=MINT, total=7))
            conn.execute(
                insert(referral_reward_events).values(
                    pool_id=pool_id, mint=MINT, referrer_wallet=key(3), amount=7
                )
            )
        elif table is pool_payouts:
            conn.execute(
                insert(pool_payouts).values(
                    pool_id=pool_id,
                    mint=MINT,
                    signature=SIG(3),
                    winner=key(3),
                    winner_amount=90,
                    dev_amount=5,
                    burn_amount=3,
                    treasury_amount=2,
                    total_amount=100,
                    slot=1,
                    block_time=func.now(),
                )
            )
        elif table is crank_intents:
            conn.execute(
                insert(crank_intents).values(
                    pool_id=pool_id,
                    action="unlock_pool",
                    attempt=1,
                    signature=SIG(3),
                    raw_transaction=b"x",
                    last_valid_block_height=1,
                )
            )


@pytest.mark.parametrize(
    "table",
    [activity, participants, used_signatures, referral_reward_events, pool_payouts, crank_intents],
    ids=lambda t: t.name,
)
def test_deleting_a_pool_never_takes_its_ledger_rows(
    table: Table, app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine)
    _ledger_row(table, pool_id, direct_engine)
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(delete(pools).where(pools.c.id == pool_id))
    assert caught.value.sqlstate == "23503"  # foreign_key_violation: RESTRICT, not CASCADE / SET NULL
    with transaction() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() >= 1
        assert conn.execute(select(func.count()).select_from(pools)).scalar_one() == 1


def test_a_used_signature_always_names_its_pool(app_database: TestDatabase) -> None:
    with pytest.raises(ConstraintViolation) as caught, transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO used_signatures (signature, action, wallet, slot) VALUES (:s, 'donate', :w, 1)"
            ),
            {"s": SIG(1), "w": key(1)},
        )
    assert caught.value.sqlstate == "23502"  # not_null_violation
