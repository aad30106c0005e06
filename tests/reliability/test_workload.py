"""The load's own bookkeeping: joins land on the model chain first and are recorded as the API records
them, and the audit that judges every fault run does see a half-written join, a lost one and a pool whose
counters drifted from its seats (a checker that cannot fail would make every fault row meaningless)."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine

from missout.db import app_engine
from missout.db.tables import activity, participants, pools, used_signatures
from missout.settings import database_settings
from tests.reliability.workload import ENTRY, JoinPlan, Lane, Tally, attempt_join, audit, seed_pools
from tests.support.database import TestDatabase


def _seats(engine: Engine, pool_id: int) -> list[tuple[int, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(participants.c.seat, participants.c.wallet, participants.c.join_signature)
            .where(participants.c.pool_id == pool_id)
            .order_by(participants.c.seat)
        ).all()
    return [(r.seat, r.wallet, r.join_signature) for r in rows]


def test_joins_recorded_out_of_chain_order_end_with_the_chains_seats(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    (pool_id,) = seed_pools(direct_engine, 1)
    plan = JoinPlan(direct_engine, Lane((pool_id,)))
    first, second, third = plan.next(), plan.next(), plan.next()
    tally = Tally()
    # The third report commits first; the first one's report fails (its seat is on chain all the same).
    for join in (third, second):
        assert attempt_join(join, app_engine(), database_settings()) == "committed"
        tally.record(join, "committed", 0.0)
    tally.record(first, "unavailable", 0.0)

    seats = _seats(direct_engine, pool_id)
    assert [(seat, wallet) for seat, wallet, _ in seats[1:]] == [
        (1, first.wallet),
        (2, second.wallet),
        (3, third.wallet),
    ]
    assert [proof for _, _, proof in seats[1:]] == [None, second.signature, third.signature]
    with direct_engine.connect() as conn:
        count, total = conn.execute(
            select(pools.c.participants_count, pools.c.total_amount).where(pools.c.id == pool_id)
        ).one()
    assert (count, int(total)) == (4, 4 * ENTRY)
    result = audit(direct_engine, tally, [pool_id])
    assert (result.committed, result.failed_cleanly, result.lost, result.half_written) == (2, 1, 0, 0)
    assert result.pools_inconsistent == 0
    assert result.clean


def test_the_audit_sees_half_written_lost_and_drifted_records(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    pool_a, pool_b = seed_pools(direct_engine, 2)
    plan = JoinPlan(direct_engine, Lane((pool_a, pool_b)))
    joins = [plan.next() for _ in range(4)]
    tally = Tally()
    for join in joins:
        assert attempt_join(join, app_engine(), database_settings()) == "committed"
        tally.record(join, "committed", 0.0)
    assert audit(direct_engine, tally, [pool_a, pool_b]).clean

    half, lost = joins[0], joins[1]
    with direct_engine.begin() as conn:
        conn.execute(delete(activity).where(activity.c.signature == half.signature))
        conn.execute(
            update(participants)
            .where(participants.c.join_signature == lost.signature)
            .values(join_signature=None)
        )
        conn.execute(delete(activity).where(activity.c.signature == lost.signature))
        conn.execute(delete(used_signatures).where(used_signatures.c.signature == lost.signature))
        conn.execute(update(pools).where(pools.c.id == pool_b).values(participants_count=9))
    result = audit(direct_engine, tally, [pool_a, pool_b])
    assert (result.committed, result.half_written, result.lost) == (2, 1, 1)
    assert result.pools_inconsistent == 1
    assert not result.clean
