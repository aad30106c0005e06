"""The join load spread over worker processes (what the connection storm measures with): two processes with
a few clients each record every join exactly once, neither touches the other's pools, wallets or signatures,
the parent's totals are the sum of what each process answered, and a failing run or a dead process leaves no
process behind."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url

from missout.db.tables import activity, participants, used_signatures
from tests.reliability.client_processes import ClientProcesses, ClientProcessFailed, SpreadRun, shares
from tests.reliability.servers import free_port
from tests.reliability.workload import audit, seed_pools, split_lanes
from tests.support.database import TestDatabase


def _recorded(engine: Engine, signatures: list[str]) -> dict[str, tuple[int, str]]:
    """Each recorded join's pool and wallet, from its activity row, by signature."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(activity.c.signature, activity.c.pool_id, activity.c.wallet).where(
                activity.c.signature.in_(signatures)
            )
        ).all()
    return {r.signature: (r.pool_id, r.wallet) for r in rows}


def _check_run(run: SpreadRun, direct_engine: Engine, fleet: ClientProcesses) -> set[str]:
    """Every committed join of the run is in the database once, in its own lane's pools; returns them."""
    by_lane = [set(lane.tally.committed) for lane in run.lanes]
    assert all(by_lane), "each process committed joins of its own"
    assert not by_lane[0] & by_lane[1]
    assert run.tally.tried == sum(lane.tally.tried for lane in run.lanes)
    assert sorted(run.tally.committed) == sorted(by_lane[0] | by_lane[1])
    assert sorted(run.tally.latencies_ms) == sorted(x for lane in run.lanes for x in lane.tally.latencies_ms)
    assert len(run.tally.latencies_ms) == len(run.tally.committed) + len(run.tally.unavailable)
    assert run.ended_at == max(lane.ended_at for lane in run.lanes)
    assert run.tally.errors == []
    assert [lane.clients for lane in run.lanes] == [2, 1]
    assert run.started_at < run.ended_at
    assert all(lane.cpu_s > 0 for lane in run.lanes)
    assert run.tps == pytest.approx(len(run.tally.committed) / run.window_s)

    recorded = _recorded(direct_engine, run.tally.committed)
    assert set(recorded) == set(run.tally.committed)
    for lane, signatures in zip(fleet.lanes, by_lane, strict=True):
        assert {recorded[s][0] for s in signatures} <= set(lane.pool_ids)
    wallets = [{recorded[s][1] for s in signatures} for signatures in by_lane]
    assert not wallets[0] & wallets[1]

    checked = audit(direct_engine, run.tally, fleet.pool_ids)
    assert (checked.committed, checked.lost, checked.half_written) == (len(run.tally.committed), 0, 0)
    assert checked.pools_inconsistent == 0
    return by_lane[0] | by_lane[1]


def test_two_processes_record_every_join_once_in_their_own_lanes(
    app_database: TestDatabase, direct_engine: Engine
) -> None:
    pool_ids = seed_pools(direct_engine, 200)  # 1,900 seats a lane: more than two short runs fill
    with ClientProcesses(app_database.direct_url, split_lanes(pool_ids, 2)) as fleet:
        first = fleet.run(app_database.pooled_url, clients=3, duration_s=2.0, connect_timeout_s=10)
        first_joins = _check_run(first, direct_engine, fleet)
        # The workers keep their plans: a second run goes on with new numbers on the same pools.
        second = fleet.run(app_database.pooled_url, clients=3, duration_s=2.0, connect_timeout_s=10)
        second_joins = _check_run(second, direct_engine, fleet)
        workers = list(fleet.processes)
    assert not first_joins & second_joins
    with direct_engine.connect() as conn:
        guards = conn.execute(select(used_signatures.c.signature)).scalars().all()
        proofs = conn.execute(
            select(participants.c.join_signature).where(participants.c.join_signature.is_not(None))
        ).scalars()
        assert sorted(guards) == sorted(first_joins | second_joins) == sorted(proofs)
    assert [w.exitcode for w in workers] == [0, 0]


def test_a_failing_run_stops_every_client_process(app_database: TestDatabase, direct_engine: Engine) -> None:
    pool_ids = seed_pools(direct_engine, 4)
    nowhere = make_url(app_database.pooled_url).set(port=free_port()).render_as_string(hide_password=False)
    with ClientProcesses(app_database.direct_url, split_lanes(pool_ids, 2)) as fleet:
        with pytest.raises(ClientProcessFailed, match="DatabaseUnavailable"):
            fleet.run(nowhere, clients=2, duration_s=1.0, connect_timeout_s=2)
        assert [w.is_alive() for w in fleet.processes] == [False, False]
        with pytest.raises(ClientProcessFailed, match="stopped"):
            fleet.run(app_database.pooled_url, clients=2, duration_s=1.0, connect_timeout_s=2)


def test_one_dead_client_process_stops_the_others(app_database: TestDatabase, direct_engine: Engine) -> None:
    pool_ids = seed_pools(direct_engine, 4)
    with ClientProcesses(app_database.direct_url, split_lanes(pool_ids, 2)) as fleet:
        fleet.processes[0].kill()
        fleet.processes[0].join()
        with pytest.raises(ClientProcessFailed, match="client process 0"):
            fleet.run(app_database.pooled_url, clients=2, duration_s=1.0, connect_timeout_s=2)
        assert [w.is_alive() for w in fleet.processes] == [False, False]
        assert fleet.processes[1].exitcode == 0  # the healthy one was asked to stop, and stopped


def test_clients_are_shared_out_to_the_last_one() -> None:
    assert shares(1_000, 2) == [500, 500]
    assert shares(201, 2) == [101, 100]
    assert shares(3, 3) == [1, 1, 1]
    assert sum(shares(7, 4)) == 7
