"""Each new key of migration 0003 under real concurrency through pgBouncer: many clients race for the same
row, and exactly the right rows come out. The SQL in each worker is the pattern the issue prescribes for the
code that will use the key (insert-and-catch, `ON CONFLICT DO NOTHING RETURNING`, guarded `UPDATE ...
RETURNING`, upsert)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine

from missout.db import ConstraintViolation, transaction
from missout.db.tables import (
    activity,
    auth_nonces,
    rate_limit_hits,
    referral_allocations,
    referral_claims,
    referral_reward_events,
    referral_rewards,
    used_signatures,
)
from tests.support.concurrency import reusing_pooled_engine, run_concurrently
from tests.support.database import TestDatabase
from tests.support.factories import MINT, SIG, insert_mint, insert_pool, key

JOINER = key(42)


def test_sixteen_reports_of_one_two_action_transaction_record_each_action_once(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    pool_a = insert_pool(direct_engine)
    pool_b = insert_pool(direct_engine, pool_address=key(1_001), create_signature=SIG(1_001))
    signature = SIG(77)  # one transaction: join A + donate B

    def report(index: int) -> str:
        action, pool_id = ("join_pool", pool_a) if index % 2 == 0 else ("donate", pool_b)
        with transaction() as conn:
            guard = {
                "signature": signature,
                "action": action,
                "pool_id": pool_id,
                "wallet": JOINER,
                "slot": 9,
            }
            conn.execute(insert(used_signatures).values(**guard))
            conn.execute(
                insert(activity).values(
                    pool_id=pool_id,
                    wallet=JOINER,
                    kind=action,
                    amount=20_000_000,
                    signature=signature,
                    slot=9,
                    block_time=func.now(),
                )
            )
        return action

    outcomes = run_concurrently(16, report)
    recorded = sorted(o.value for o in outcomes if o.value)
    refused = [o.error for o in outcomes if o.error]
    assert recorded == ["donate", "join_pool"]
    assert len(refused) == 14
    assert all(isinstance(e, ConstraintViolation) and e.constraint == "pk_used_signatures" for e in refused)
    with transaction() as conn:
        guards = conn.execute(select(used_signatures.c.action, used_signatures.c.pool_id)).all()
        kinds = conn.execute(select(activity.c.kind, activity.c.pool_id)).all()
    assert sorted(guards) == sorted([("join_pool", pool_a), ("donate", pool_b)])
    assert sorted(kinds) == sorted(guards)  # every recorded action has exactly its one activity row


REFERRERS = {key(501): 1_000, key(502): 2_000, key(503): 3_000}


def test_eight_allocation_runs_allocate_a_pool_once(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    pool_id = insert_pool(direct_engine, status="ended")

    def allocate(_: int) -> bool:
        with transaction() as conn:
            claimed = conn.execute(
                pg_insert(referral_allocations)
                .values(pool_id=pool_id, mint=MINT, total=sum(REFERRERS.values()))
                .on_conflict_do_nothing()
                .returning(referral_allocations.c.pool_id)
            ).first()
            if claimed is None:
                return False  # another run allocated this pool: nothing to add
            for referrer, amount in REFERRERS.items():
                conn.execute(
                    insert(referral_reward_events).values(
                        pool_id=pool_id, mint=MINT, referrer_wallet=referrer, amount=amount
                    )
                )
                conn.execute(
                    pg_insert(referral_rewards)
                    .values(referrer_wallet=referrer, mint=MINT, amount_pending=amount)
                    .on_conflict_do_update(
                        index_elements=["referrer_wallet", "mint"],
                        set_={"amount_pending": referral_rewards.c.amount_pending + amount},
                    )
                )
            return True

    outcomes = run_concurrently(8, allocate)
    assert [o.error for o in outcomes if o.error] == []
    assert sorted(o.value is True for o in outcomes) == [False] * 7 + [True]
    with transaction() as conn:
        assert conn.execute(select(func.count()).select_from(referral_allocations)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(referral_reward_events)).scalar_one() == 3
        rows = conn.execute(select(referral_rewards.c.referrer_wallet, referral_rewards.c.amount_pending))
        pending = {wallet: amount for wallet, amount in rows}
    assert pending == REFERRERS


def test_an_allocation_and_its_events_carry_their_pool_s_mint(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    insert_mint(direct_engine)
    other_mint = insert_mint(direct_engine, address=key(7_001))
    pool_id = insert_pool(direct_engine, status="ended")
    with pytest.raises(ConstraintViolation) as wrong_allocation, transaction() as conn:
        conn.execute(insert(referral_allocations).values(pool_id=pool_id, mint=other_mint, total=5))
    assert wrong_allocation.value.constraint == "fk_referral_allocations_pool_id_pools"

    with transaction() as conn:
        conn.execute(insert(referral_allocations).values(pool_id=pool_id, mint=MINT, total=5))
    event = {"pool_id": pool_id, "referrer_wallet": key(9), "amount": 5}
    with pytest.raises(ConstraintViolation) as wrong_event, transaction() as conn:
        conn.execute(insert(referral_reward_events).values(**event, mint=other_mint))
    assert wrong_event.value.constraint == "fk_referral_reward_events_pool_id_referral_allocations"
    with transaction() as conn:
        conn.execute(insert(referral_reward_events).values(**event, mint=MINT))
    with pytest.raises(ConstraintViolation) as twice, transaction() as conn:  # one event per (pool, referrer)
        conn.execute(insert(referral_reward_events).values(**{**event, "amount": 6}, mint=MINT))
    assert twice.value.constraint == "uq_referral_reward_events_pool_id_referrer_wallet"


def _referrer_with_pending(engine: Engine, referrer: str, pending: int) -> str:
    insert_mint(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(referral_rewards).values(referrer_wallet=referrer, mint=MINT, amount_pending=pending)
        )
    return referrer


def test_twenty_claims_against_one_balance_open_one_claim(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    referrer = _referrer_with_pending(direct_engine, key(600), 1_000)

    def claim(_: int) -> int | None:
        with transaction() as conn:
            taken = conn.execute(
                update(referral_rewards)
                .where(
                    referral_rewards.c.referrer_wallet == referrer,
                    referral_rewards.c.mint == MINT,
                    referral_rewards.c.amount_pending >= 100,
                )
                .values(amount_pending=referral_rewards.c.amount_pending - 100)
                .returning(referral_rewards.c.amount_pending)
            ).first()
            if taken is None:
                return None
            return int(
                conn.execute(
                    insert(referral_claims)
                    .values(referrer_wallet=referrer, mint=MINT, amount=100)
                    .returning(referral_claims.c.id)
                ).scalar_one()
            )

    outcomes = run_concurrently(20, claim)
    opened = [o.value for o in outcomes if o.value is not None]
    refused = [o.error for o in outcomes if o.error]
    assert len(opened) == 1
    assert len(refused) == 19
    assert {e.constraint for e in refused if isinstance(e, ConstraintViolation)} == {
        "uq_referral_claims_open_referrer_wallet_mint"
    }
    with transaction() as conn:
        # Every refused claim rolled its deduction back with it: one claim of 100 left 900 pending.
        assert conn.execute(select(referral_rewards.c.amount_pending)).scalar_one() == 900
        assert conn.execute(select(func.count()).select_from(referral_claims)).scalar_one() == 1
        conn.execute(update(referral_claims).values(status="completed", signature=SIG(1)))
    assert claim(0) is not None  # once the open claim is settled, the next one may open


def test_twenty_claims_of_the_whole_balance_take_it_once(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    referrer = _referrer_with_pending(direct_engine, key(601), 1_000)

    def claim_all(_: int) -> bool:
        with transaction() as conn:
            taken = conn.execute(
                update(referral_rewards)
                .where(
                    referral_rewards.c.referrer_wallet == referrer, referral_rewards.c.amount_pending >= 1_000
                )
                .values(amount_pending=referral_rewards.c.amount_pending - 1_000)
                .returning(referral_rewards.c.id)
            ).first()
            if taken is None:
                return False  # the balance is gone: the row lock made this run re-read it after the winner
            conn.execute(insert(referral_claims).values(referrer_wallet=referrer, mint=MINT, amount=1_000))
            return True

    outcomes = run_concurrently(20, claim_all)
    assert [o.error for o in outcomes if o.error] == []
    assert sum(1 for o in outcomes if o.value) == 1
    with transaction() as conn:
        assert conn.execute(select(referral_rewards.c.amount_pending)).scalar_one() == 0
        assert conn.execute(select(func.sum(referral_claims.c.amount))).scalar_one() == 1_000


def test_sixteen_hundred_rate_limit_upserts_count_every_hit(app_database: TestDatabase) -> None:
    window = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    # Sixteen client connections kept open, so the test spends its time on the 1,600 upserts and not on 1,600
    # SCRAM handshakes; each upsert is still its own transaction, given a server connection by pgBouncer.
    engine = reusing_pooled_engine(16)

    def hit(_: int) -> int:
        with transaction(engine) as conn:
            upsert = pg_insert(rate_limit_hits).values(key="ip:127.0.0.1", window_start=window)
            return int(
                conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["key", "window_start"], set_={"hits": rate_limit_hits.c.hits + 1}
                    ).returning(rate_limit_hits.c.hits)
                ).scalar_one()
            )

    outcomes = run_concurrently(1_600, hit, threads=16)
    assert [o.error for o in outcomes if o.error] == []
    # Each request saw its own count: no two were given the same number, none was lost.
    assert sorted(o.value for o in outcomes if o.value is not None) == list(range(1, 1_601))
    with transaction() as conn:
        assert conn.execute(select(rate_limit_hits.c.hits)).scalar_one() == 1_600
        persistence = conn.execute(
            text("SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_hits'")
        ).scalar_one()
    assert persistence == "u"  # UNLOGGED
    engine.dispose()


def test_sixteen_uses_of_one_nonce_succeed_once(app_database: TestDatabase) -> None:
    nonce, expired = "n" * 32, "e" * 32
    now = datetime.now(UTC)
    fresh = {"created_at": now, "expires_at": now + timedelta(minutes=5)}
    stale = {"created_at": now - timedelta(minutes=10), "expires_at": now - timedelta(minutes=5)}
    with transaction() as conn:
        for value, times in ((nonce, fresh), (expired, stale)):
            conn.execute(
                insert(auth_nonces).values(nonce=value, wallet=key(700), purpose="profile_update", **times)
            )

    def use(value: str) -> str | None:
        with transaction() as conn:
            return conn.execute(
                update(auth_nonces)
                .where(
                    auth_nonces.c.nonce == value,
                    auth_nonces.c.used_at.is_(None),
                    auth_nonces.c.expires_at > func.now(),
                )
                .values(used_at=func.now())
                .returning(auth_nonces.c.wallet)
            ).scalar_one_or_none()

    outcomes = run_concurrently(16, lambda _: use(nonce))
    assert [o.error for o in outcomes if o.error] == []
    assert [o.value for o in outcomes if o.value is not None] == [key(700)]
    assert use(expired) is None  # past its expiry a nonce is refused even unused
    with transaction() as conn:
        assert (
            conn.execute(select(auth_nonces.c.used_at).where(auth_nonces.c.nonce == expired)).scalar_one()
            is None
        )
