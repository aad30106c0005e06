"""The pool lease through pgBouncer: committed at once, so nothing is held across the chain calls that
follow; overlapping monitors split the due pools; a crashed run's leases run out; only the holder releases."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from missout.db import transaction
from missout.db.tables import pools
from missout.pools.due import Verdict, lease_due_pools, release_pool
from tests.support.database import TestDatabase
from tests.support.factories import SIG, insert_mint, insert_pool, key


def make_due(engine: Engine, count: int) -> list[int]:
    insert_mint(engine)
    return [
        insert_pool(engine, pool_address=key(100 + n), create_signature=SIG(100 + n)) for n in range(count)
    ]


def lease(holder: str, limit: int = 4, lease_s: float = 60) -> list[int]:
    with transaction() as conn:  # committed when the block ends: before any RPC call
        return [p.id for p in lease_due_pools(conn, limit=limit, holder=holder, lease_s=lease_s)]


def test_two_runs_lease_disjoint_pools_and_each_lease_is_committed(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    ids = make_due(direct_engine, 6)
    first = lease("run-a")
    with direct_engine.begin() as conn:  # another connection sees the lease: it was committed
        holders = dict(conn.execute(select(pools.c.id, pools.c.leased_by)).all())
    second = lease("run-b")
    assert len(first) == 4
    assert len(second) == 2
    assert set(first) | set(second) == set(ids)
    assert {holders[i] for i in first} == {"run-a"}
    assert lease("run-c") == []  # everything is held


def test_concurrent_runs_never_lease_the_same_pool(app_database: TestDatabase, direct_engine: Engine) -> None:
    ids = make_due(direct_engine, 12)
    results: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def run(name: str) -> None:
        start.wait()
        results[name] = lease(name, limit=4)

    threads = [threading.Thread(target=run, args=(f"run-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    leased = [pool_id for taken in results.values() for pool_id in taken]
    assert len(leased) == len(set(leased))  # disjoint
    assert set(leased) == set(ids)  # 4 runs x 4 = 16 >= 12: every due pool taken once


def test_a_crashed_runs_lease_runs_out_and_only_the_holder_releases(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    [pool_id] = make_due(direct_engine, 1)
    assert lease("crashed", lease_s=0.3) == [pool_id]
    assert lease("next") == []
    time.sleep(0.4)
    assert lease("next") == [pool_id]  # the crashed run never came back: its lease ran out
    later = datetime.now(UTC) + timedelta(minutes=5)
    with transaction() as conn:
        # The crashed run's late verdict is dropped: the pool is someone else's now.
        assert not release_pool(conn, pool_id, holder="crashed", verdict=Verdict(None, 9, "late"))
        assert release_pool(conn, pool_id, holder="next", verdict=Verdict(later, 0, None))
    with direct_engine.begin() as conn:
        row = conn.execute(select(pools).where(pools.c.id == pool_id)).one()._mapping
    assert (row["leased_by"], row["lease_until"], row["failure_count"]) == (None, None, 0)
    assert row["next_check_at"] == later
    assert lease("again") == []  # not due before its next check
