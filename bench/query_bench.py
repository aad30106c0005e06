"""The product's reads before and after migration 0003, on generated data at the review's sizes: 20,000 pools,
200,000 participants (one wallet in 2,000 pools), 500,000 activity rows.

A throw-away database is migrated to 0002 and filled; a copy of it is upgraded to head (0003 runs on the
data, as it would in production) and the tables 0003 adds but cannot derive (`pool_payouts`,
`winner_totals`) are filled from the same pools. Each read is then timed on both, in turns, through
pgBouncer, each run in its own `transaction()`, timing only the statement (execute + fetch); five EXPLAIN
ANALYZE per read and schema give the server's own time and the plan's shape. Prints p50 and p95 per read.
Needs the local stack (`make db-up`). Takes two to four minutes on a busy two-core machine.

Run: .venv/bin/python bench/query_bench.py [runs per read]
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "layers" / "shared"))

from alembic import command  # noqa: E402
from alembic.config import Config as AlembicConfig  # noqa: E402
from sqlalchemy import Select, func, select, text  # noqa: E402
from sqlalchemy.engine import Connection, Engine, make_url  # noqa: E402

from missout.db.connection_plan import plan_connection  # noqa: E402
from missout.db.engine import build_engine  # noqa: E402
from missout.db.tables import activity, mints, participants, pool_payouts, pools, winner_totals  # noqa: E402
from missout.db.transaction import transaction  # noqa: E402
from missout.settings import DatabaseSettings  # noqa: E402
from tests.support.engines import local_engine  # noqa: E402

POOLS, SEATS_PER_POOL, ACTIVITY_ROWS, WALLETS, MINT_COUNT = 20_000, 10, 500_000, 50_000, 5
ENTRY = 20_000_000


def _key(prefix: str, n: int) -> str:
    """The same base58-shaped key the generator's SQL builds (0 is no base58 digit: it becomes 'y'; the
    padding 'z' is never a digit, so distinct numbers give distinct keys)."""
    return prefix + str(n).replace("0", "y").rjust(43, "z")


WHALE = _key("W", 99_999)  # the wallet seated in every tenth pool
FIRST_MINT, FIRST_CREATOR = _key("M", 1), _key("C", 1)
SOME_ADDRESS = _key("P", 12_345)

_FUNCTIONS = """
CREATE FUNCTION bench_key(prefix text, n bigint) RETURNS text IMMUTABLE LANGUAGE sql
    AS $$ SELECT prefix || lpad(translate(n::text, '0', 'y'), 43, 'z') $$;
CREATE FUNCTION bench_sig(n bigint) RETURNS text IMMUTABLE LANGUAGE sql
    AS $$ SELECT 'S' || lpad(translate(n::text, '0', 'y'), 87, 'z') $$;
CREATE FUNCTION bench_status(i bigint) RETURNS text IMMUTABLE LANGUAGE sql AS $$
    SELECT CASE WHEN i % 20 < 12 THEN 'ended' WHEN i % 20 < 14 THEN 'cancelled' WHEN i % 20 < 17 THEN 'closed'
                WHEN i % 20 = 17 THEN 'open' WHEN i % 20 = 18 THEN 'locked' ELSE 'winner_selected' END $$;
CREATE FUNCTION bench_wallet(pool bigint, seat int) RETURNS text IMMUTABLE LANGUAGE sql AS $$
    SELECT CASE WHEN seat = 9 AND pool % 10 = 0 THEN bench_key('W', 99999)
                ELSE bench_key('W', ((pool * 10 + seat) * 7919) % 50000 + 1) END $$;
"""

# Shapes of the review's data: 60 % of pools ended (a winner, a payout), the rest spread over the other
# statuses; ten seats per pool; joins, then donations up to 500,000 activity rows, and one payout per end.
_FILL = f"""
INSERT INTO mints (address, token_program, decimals, symbol)
    SELECT bench_key('M', m), 'spl-token', 6, 'T' || m FROM generate_series(1, {MINT_COUNT}) AS m;
INSERT INTO pools (pool_address, mint, creator_wallet, entry_amount, max_participants, participants_count,
                   lock_duration_seconds, status, total_amount, start_time, create_signature, winner_wallet,
                   next_check_at, created_at)
    SELECT bench_key('P', i), bench_key('M', 1 + i % {MINT_COUNT}), bench_key('C', 1 + i % 2000), {ENTRY}, 20,
           {SEATS_PER_POOL}, 600, bench_status(i),
           CASE WHEN bench_status(i) = 'ended' THEN 0 ELSE {ENTRY * SEATS_PER_POOL} END,
           now() - (({POOLS} - i) * interval '1 minute'), bench_sig(i),
           CASE WHEN bench_status(i) = 'ended' THEN bench_wallet(i, (i % 10)::int) END,
           CASE WHEN bench_status(i) IN ('open', 'locked', 'winner_selected')
                THEN now() + ((i % 600) - 300) * interval '1 second' END,
           now() - (({POOLS} - i) * interval '1 minute')
    FROM generate_series(1, {POOLS}) AS i;
INSERT INTO participants (pool_id, wallet, join_signature, joined_at)
    SELECT p.id, bench_wallet(p.id, s), bench_sig(1000000 + p.id * 10 + s),
           p.created_at + s * interval '1 second'
    FROM pools AS p CROSS JOIN generate_series(0, {SEATS_PER_POOL - 1}) AS s;
INSERT INTO activity (pool_id, wallet, kind, amount, signature, slot, block_time)
    SELECT pool_id, wallet, 'join_pool', {ENTRY}, join_signature, 1000 + id, joined_at FROM participants;
INSERT INTO activity (pool_id, wallet, kind, amount, signature, slot, block_time)
    SELECT id, winner_wallet, 'payout', {ENTRY * SEATS_PER_POOL * 9 // 10}, bench_sig(3000000 + id),
           5000 + id, created_at + interval '30 minutes'
    FROM pools WHERE status = 'ended';
INSERT INTO activity (pool_id, wallet, kind, amount, signature, slot, block_time)
    SELECT 1 + n % {POOLS}, bench_key('W', n % {WALLETS} + 1), 'donate', {ENTRY} + n, bench_sig(5000000 + n),
           9000 + n, now() - n * interval '1 second'
    FROM generate_series(1, {ACTIVITY_ROWS} - (SELECT count(*) FROM activity)) AS n;
"""  # noqa: S608 - only this module's numeric constants are formatted in

# What 0003 adds and cannot derive from 0002's rows: the payout of every ended pool and the winners' totals.
_FILL_PAYOUTS = f"""
INSERT INTO pool_payouts (pool_id, mint, signature, winner, winner_amount, dev_amount, burn_amount,
                          treasury_amount, total_amount, slot, block_time)
    SELECT id, mint, bench_sig(3000000 + id), winner_wallet, {ENTRY * SEATS_PER_POOL * 9 // 10},
           {ENTRY * SEATS_PER_POOL * 500 // 10_000}, {ENTRY * SEATS_PER_POOL * 350 // 10_000},
           {ENTRY * SEATS_PER_POOL * 150 // 10_000}, {ENTRY * SEATS_PER_POOL}, 5000 + id,
           created_at + interval '30 minutes'
    FROM pools WHERE status = 'ended';
INSERT INTO winner_totals (wallet, mint, wins, total_won, biggest_win, last_win_at)
    SELECT winner, mint, count(*), sum(winner_amount), max(winner_amount), max(block_time)
    FROM pool_payouts GROUP BY winner, mint;
"""  # noqa: S608 - only this module's numeric constants are formatted in

_PAGE = 20
_LIST_COLUMNS = (
    pools.c.id,
    pools.c.pool_address,
    pools.c.mint,
    pools.c.creator_wallet,
    pools.c.status,
    pools.c.entry_amount,
    pools.c.total_amount,
    pools.c.participants_count,
    pools.c.created_at,
    mints.c.decimals,
    mints.c.symbol,
)


def _pool_page(*conditions: object) -> Select[object]:
    """The pool list's statement (as `pools.listing` builds it: filters, newest first, one extra row)."""
    return (
        select(*_LIST_COLUMNS)
        .join(mints, mints.c.address == pools.c.mint)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(pools.c.created_at.desc(), pools.c.id.desc())
        .limit(_PAGE + 1)
    )


def _top_winners_from_activity() -> Select[object]:
    won = func.sum(activity.c.amount)
    return (
        select(activity.c.wallet, won.label("won"))
        .where(activity.c.kind == "payout")
        .group_by(activity.c.wallet)
        .order_by(won.desc())
        .limit(_PAGE)
    )


def _top_winners_from_payouts() -> Select[object]:
    won = func.sum(pool_payouts.c.winner_amount)
    return (
        select(pool_payouts.c.winner, pool_payouts.c.mint, won.label("won"), func.count().label("wins"))
        .group_by(pool_payouts.c.winner, pool_payouts.c.mint)
        .order_by(won.desc())
        .limit(_PAGE)
    )


def _top_winners_from_totals() -> Select[object]:
    return (
        select(winner_totals.c.wallet, winner_totals.c.mint, winner_totals.c.total_won, winner_totals.c.wins)
        .order_by(winner_totals.c.total_won.desc(), winner_totals.c.wallet, winner_totals.c.mint)
        .limit(_PAGE)
    )


def _due_pools() -> Select[object]:
    """The monitor's due scan: live pools whose check time has passed, oldest first, row-locked."""
    return (
        select(pools.c.id, pools.c.pool_address, pools.c.status, pools.c.next_check_at)
        .where(pools.c.next_check_at <= func.now(), pools.c.status != "closed")
        .order_by(pools.c.next_check_at, pools.c.id)
        .limit(25)
        .with_for_update(skip_locked=True, of=pools)
    )


READS: dict[str, Callable[[], Select[object]]] = {
    "pool list, no filter": lambda: _pool_page(),
    "pool list, status=open": lambda: _pool_page(pools.c.status == "open"),
    "pool list, mint": lambda: _pool_page(pools.c.mint == FIRST_MINT),
    "pool list, creator": lambda: _pool_page(pools.c.creator_wallet == FIRST_CREATOR),
    "pool list, participant (2,000 pools)": lambda: _pool_page(
        pools.c.id.in_(select(participants.c.pool_id).where(participants.c.wallet == WHALE))
    ),
    "newest pool at an address": lambda: (
        select(pools.c.id)
        .where(pools.c.pool_address == SOME_ADDRESS)
        .order_by(pools.c.created_at.desc())
        .limit(1)
    ),
    "monitor: due pools (SKIP LOCKED)": _due_pools,
    "top winners: activity payouts": _top_winners_from_activity,
}
READS_AFTER_ONLY: dict[str, Callable[[], Select[object]]] = {
    "top winners: pool_payouts": _top_winners_from_payouts,
    "top winners: winner_totals page": _top_winners_from_totals,
}


def _stack_env() -> dict[str, str]:
    out = subprocess.run([str(REPO / "dev" / "stack.sh"), "env"], check=True, capture_output=True, text=True)
    pairs = (line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines())
    return {name: shlex.split(value)[0] for name, value in pairs}


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _migrate(direct_url: str, revision: str) -> None:
    os.environ["DIRECT_DATABASE_URL"] = direct_url
    command.upgrade(AlembicConfig(str(REPO / "alembic.ini")), revision)


def _run_script(direct_url: str, script: str) -> None:
    # Set-up over the direct URL in one transaction; the simple protocol takes the whole script at once.
    engine = local_engine(direct_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # bulk set-up, not an app statement
        conn.exec_driver_sql(script)
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


@dataclass
class Database:
    """One throw-away database of the benchmark, reached directly (set-up) and through pgBouncer (reads)."""

    name: str
    direct_url: str
    app: Engine
    settings: DatabaseSettings


def _open(env: dict[str, str], name: str) -> Database:
    pooled_url = _with_database(env["DATABASE_URL"], name)
    settings = DatabaseSettings(url=pooled_url, statement_timeout_ms=60_000)
    app = build_engine(plan_connection(pooled_url), settings)  # through pgBouncer, NullPool: the app's engine
    return Database(name, _with_database(env["DIRECT_DATABASE_URL"], name), app, settings)


def _timed_execute(conn: Connection, statement: Select[object]) -> float:
    started = time.perf_counter()
    conn.execute(statement).all()
    return (time.perf_counter() - started) * 1000


def _time_interleaved(databases: list[Database], statement: Select[object], runs: int) -> list[list[float]]:
    """`runs` timings per database, taken in turns (A, B, A, B, ...): the machine's load changes over a run,
    and turns make both schemas pay the same weather. Three warm-up turns first (caches, plans)."""
    timings: list[list[float]] = [[] for _ in databases]
    for turn in range(runs + 3):
        for database, sink in zip(databases, timings, strict=True):
            with transaction(database.app, database.settings) as conn:
                elapsed = _timed_execute(conn, statement)
            if turn >= 3:
                sink.append(elapsed)
    return timings


def _p50_p95(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _plan(database: Database, statement: Select[object], runs: int = 5) -> tuple[float, str]:
    """The server's own execution time (median of `runs` EXPLAIN ANALYZE) and the plan's shape (scans,
    sorts, indexes): they say why a figure moved, which the client-side timing alone cannot."""
    compiled = statement.compile(dialect=database.app.dialect, compile_kwargs={"literal_binds": True})
    times, plan = [], {}
    for _ in range(runs):
        with transaction(database.app, database.settings) as conn:
            (plan,) = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}").scalar_one()
        times.append(float(plan["Execution Time"]))
    steps: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        if "Index Name" in node:
            steps.append(f"{kind} {node['Index Name']}")
        elif kind in ("Seq Scan", "Sort", "HashAggregate", "GroupAggregate", "Hash Join", "Nested Loop"):
            steps.append(f"{kind} {node.get('Relation Name', '')}".rstrip())
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan["Plan"])
    return statistics.median(times), ", ".join(dict.fromkeys(steps))


Figure = tuple[float, float, float, str]  # client p50, client p95, server p50, plan shape


def _measure(before: Database, after: Database, runs: int) -> dict[str, tuple[Figure | None, Figure]]:
    figures: dict[str, tuple[Figure | None, Figure]] = {}
    for name, build in (READS | READS_AFTER_ONLY).items():
        sides = [before, after] if name in READS else [after]
        timed = _time_interleaved(sides, build(), runs)
        measured = [(*_p50_p95(t), *_plan(side, build())) for side, t in zip(sides, timed, strict=True)]
        figures[name] = (measured[0] if len(sides) == 2 else None, measured[-1])
    return figures


def _print(figures: dict[str, tuple[Figure | None, Figure]], runs: int) -> None:
    print(
        f"\n{runs} runs per read and schema, in turns, through pgBouncer; client = statement time seen by the"
    )
    print("app (execute + fetch, ms); server = median execution time of 5 EXPLAIN ANALYZE (ms)")
    header = ("read", "0002 p50", "p95", "server", "0003 p50", "p95", "server")
    print("{:<38} {:>9} {:>7} {:>7}   {:>9} {:>7} {:>7}".format(*header))
    for read, (old, new) in figures.items():
        was = f"{old[0]:9.2f} {old[1]:7.2f} {old[2]:7.2f}" if old else f"{'-':>9} {'-':>7} {'-':>7}"
        print(f"{read:<38} {was}   {new[0]:9.2f} {new[1]:7.2f} {new[2]:7.2f}")
    print("\nplans (0002 -> 0003)")
    for read, (old, new) in figures.items():
        print(f"{read}:\n    0002: {old[3] if old else '-'}\n    0003: {new[3]}")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    env = _stack_env()
    suffix = uuid.uuid4().hex[:8]
    admin = local_engine(env["MISSOUT_ADMIN_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    before, after = _open(env, f"missout_bench_{suffix}_0002"), _open(env, f"missout_bench_{suffix}_0003")
    try:
        started = time.perf_counter()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{before.name}"'))
        _migrate(before.direct_url, "0002")
        _run_script(before.direct_url, _FUNCTIONS + _FILL)
        sizes = f"{POOLS:,} pools, {POOLS * SEATS_PER_POOL:,} participants, {ACTIVITY_ROWS:,} activity rows"
        print(f"generated {sizes} at 0002 in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        with admin.connect() as conn:  # the same rows, then 0003 runs on them as it would in production
            conn.execute(text(f'CREATE DATABASE "{after.name}" TEMPLATE "{before.name}"'))
        _migrate(after.direct_url, "head")
        _run_script(after.direct_url, _FILL_PAYOUTS)
        seconds = time.perf_counter() - started
        print(f"copied, upgraded the copy to head and filled its payout tables in {seconds:.1f} s")
        figures = _measure(before, after, runs)
    finally:
        for database in (before, after):
            database.app.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)'))
        admin.dispose()
    _print(figures, runs)


if __name__ == "__main__":
    main()
