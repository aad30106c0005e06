"""Faults under a join write load through the app's own path (`transaction()` through pgBouncer, a new
connection per request as on Lambda): pgBouncer killed and restarted, PostgreSQL restarted. Every request
must end committed or as a clean `DatabaseUnavailable` (the API's 503), nothing may be half-written or lost,
the pools' counters must still equal their seats, and writes must succeed again without anyone's help."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

import stack
from missout.db.connection_plan import plan_connection
from missout.db.engine import build_engine
from missout.db.transaction import DatabaseUnavailable, transaction
from missout.settings import DatabaseSettings
from tests.reliability.servers import free_port
from tests.reliability.workload import JoinPlan, Lane, Tally, attempt_join, audit, run_load, seed_pools
from tests.support.database import TestDatabase


@dataclass(frozen=True)
class Pooler:
    config: stack.Config
    name: str
    port: int
    url: str


@pytest.fixture
def pooler(app_database: TestDatabase) -> Iterator[Pooler]:
    """A pgBouncer of this test's own, configured like the stack's, so killing it disturbs nothing else."""
    config = stack.Config.from_env()
    name, port = "reliability", free_port()
    stack.start_pgbouncer(config, name, port)
    url = make_url(app_database.pooled_url).set(port=port).render_as_string(hide_password=False)
    try:
        yield Pooler(config, name, port, url)
    finally:
        stack.stop_pgbouncer(config, name)


def kill_pgbouncer(pooler: Pooler) -> None:
    pid = stack.pgb_running(pooler.config, pooler.name)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # no shutdown of any kind: clients and servers are cut mid-flight
    while stack.alive(pid, "pgbouncer"):
        time.sleep(0.01)
    # A killed daemon may linger as a zombie (its parent never reaps it): clear its pidfile for the restart.
    (pooler.config.pgb_dir(pooler.name) / "pgbouncer.pid").unlink(missing_ok=True)


def restart_postgres(config: stack.Config, down_s: float) -> None:
    stack.stop_postgres(config)  # fast shutdown: running transactions are aborted (57P01)
    time.sleep(down_s)
    stack.start_postgres(config)


def _load_with_fault(
    pooler: Pooler,
    direct_engine: Engine,
    *,
    clients: int,
    duration_s: float,
    fault: Callable[[], None],
    lead_s: float,
    pools: int = 200,
) -> tuple[Tally, float, list[int]]:
    pool_ids = seed_pools(direct_engine, pools)
    settings = DatabaseSettings(url=pooler.url, pgbouncer="true", connect_timeout_s=5)
    engine = build_engine(plan_connection(pooler.url, pgbouncer="true"), settings)
    plan = JoinPlan(direct_engine, Lane(tuple(pool_ids)))
    restored_at = [0.0]

    def inject() -> None:
        time.sleep(lead_s)
        fault()
        restored_at[0] = time.perf_counter()

    try:
        tally = run_load(engine, settings, plan, clients=clients, duration_s=duration_s, meanwhile=inject)
        # Recovery without help: one more request after the load, no restart of anything on our side.
        if attempt_join(plan.next(), engine, settings) != "committed":
            tally.errors.append("the first request after the load was not committed")
    finally:
        engine.dispose()
    return tally, restored_at[0], pool_ids


def _check_and_report(
    name: str,
    scenario: str,
    tally: Tally,
    restored_at: float,
    pool_ids: list[int],
    direct_engine: Engine,
    report: list[dict[str, Any]],
) -> None:
    result = audit(direct_engine, tally, pool_ids)
    recovered = any(t > restored_at for t in tally.committed_at)
    report.append(
        {
            "fault": name,
            "scenario": scenario,
            "test": "tests/reliability/test_database_faults.py",
            **asdict(result),
            "recovered": recovered,
            "error_samples": tally.errors[:3],
        }
    )
    assert tally.errors == []  # nothing but committed or a clean 503
    assert result.lost == 0
    assert result.half_written == 0
    assert result.pools_inconsistent == 0
    assert result.failed_cleanly + result.committed_after_503 > 0  # the fault really hit requests
    assert recovered


def test_pgbouncer_killed_and_restarted_mid_load(
    pooler: Pooler, direct_engine: Engine, fault_report: list[dict[str, Any]]
) -> None:
    def fault() -> None:
        kill_pgbouncer(pooler)
        time.sleep(1.0)
        stack.start_pgbouncer(pooler.config, pooler.name, pooler.port)

    tally, restored, pool_ids = _load_with_fault(
        pooler, direct_engine, clients=6, duration_s=6.0, fault=fault, lead_s=1.5
    )
    _check_and_report(
        "pgbouncer SIGKILL + restart",
        "6 clients writing joins for 6 s; pgBouncer killed with SIGKILL after 1.5 s, restarted 1 s later",
        tally, restored, pool_ids, direct_engine, fault_report,
    )  # fmt: skip


@pytest.mark.long
def test_pgbouncer_killed_twice_under_heavier_load(
    pooler: Pooler, direct_engine: Engine, fault_report: list[dict[str, Any]]
) -> None:
    def fault() -> None:
        for _ in range(2):
            kill_pgbouncer(pooler)
            time.sleep(1.5)
            stack.start_pgbouncer(pooler.config, pooler.name, pooler.port)
            time.sleep(3.0)

    tally, restored, pool_ids = _load_with_fault(
        pooler, direct_engine, clients=30, duration_s=15.0, fault=fault, lead_s=2.0, pools=2_000
    )
    _check_and_report(
        "pgbouncer SIGKILL x2, 30 clients",
        "30 clients writing joins for 15 s; pgBouncer killed twice (down 1.5 s each, 3 s apart)",
        tally, restored, pool_ids, direct_engine, fault_report,
    )  # fmt: skip


@pytest.mark.long
def test_postgres_restarted_mid_load(
    pooler: Pooler, direct_engine: Engine, fault_report: list[dict[str, Any]]
) -> None:
    tally, restored, pool_ids = _load_with_fault(
        pooler,
        direct_engine,
        clients=10,
        duration_s=15.0,
        fault=lambda: restart_postgres(pooler.config, down_s=2.0),
        lead_s=2.0,
        pools=1_000,
    )
    _check_and_report(
        "postgresql restart",
        "10 clients writing joins through pgBouncer for 15 s; PostgreSQL fast shutdown after 2 s, started "
        "again 2 s later (pgBouncer stays up and reconnects)",
        tally, restored, pool_ids, direct_engine, fault_report,
    )  # fmt: skip


def test_pooler_killed_inside_a_transaction_is_a_clean_unavailable(pooler: Pooler) -> None:
    settings = DatabaseSettings(url=pooler.url, pgbouncer="true", connect_timeout_s=5)
    engine = build_engine(plan_connection(pooler.url, pgbouncer="true"), settings)
    try:

        def select_across_the_kill() -> None:
            with transaction(engine, settings) as conn:
                conn.execute(text("SELECT 1")).scalar_one()
                kill_pgbouncer(pooler)
                conn.execute(text("SELECT 2")).scalar_one()

        with pytest.raises(DatabaseUnavailable):
            select_across_the_kill()
    finally:
        engine.dispose()
        stack.start_pgbouncer(pooler.config, pooler.name, pooler.port)  # for the fixture's clean stop


def test_a_socket_timeout_mid_statement_is_a_clean_unavailable(pooler: Pooler) -> None:
    # pg8000's socket timeout (connect_timeout_s) also bounds every read: a statement outliving it surfaces
    # from the driver as a bare TimeoutError, which must still become the 503, not a 500.
    settings = DatabaseSettings(url=pooler.url, pgbouncer="true", connect_timeout_s=0.5)
    engine = build_engine(plan_connection(pooler.url, pgbouncer="true"), settings)
    try:
        with pytest.raises(DatabaseUnavailable), transaction(engine, settings) as conn:
            conn.execute(text("SELECT pg_sleep(2)"))
    finally:
        engine.dispose()
