"""How fast the monitor drives pools: full pools on the local chain (in process, through the real solana-py
client) and their records in PostgreSQL through pgBouncer, driven by real ticks until every pool is paid
out, recorded and its randomness account closed. Prints pools driven per tick, crank transactions per
second and the database round trips the monitor's pooled connections save; then `next_action` over 10 000
decoded pools; then the monitor handler's cold import beside a bare `import sqlalchemy, solders`.

Needs the local stack (`make db-up`). Run: .venv/bin/python bench/monitor_throughput.py [pools ...]
(default: 100 1000). Each size runs in a throw-away database that is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for folder in ("layers/shared", "functions/monitor", "dev", "."):
    sys.path.insert(0, str(REPO / folder))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from missout import settings  # noqa: E402
from missout.db import reset_app_engine  # noqa: E402
from missout.lifecycle import LifecycleSettings, next_action  # noqa: E402
from tests.lifecycle.states import DEV, SLOT0, T0, committed, locked, observed, pool_account  # noqa: E402
from tests.support.database import migrate  # noqa: E402
from tests.support.stack import stack_env  # noqa: E402


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def drive(pools: int) -> None:
    from tests.monitor.world import MonitorWorld

    env = stack_env()
    name = f"missout_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(env["MISSOUT_ADMIN_DATABASE_URL"], poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    direct_url = with_database(env["DIRECT_DATABASE_URL"], name)
    try:
        migrate(direct_url)
        os.environ["DATABASE_URL"] = with_database(env["DATABASE_URL"], name)
        settings.clear_caches()
        reset_app_engine()
        direct = create_engine(direct_url, poolclass=NullPool)
        world = MonitorWorld(f"bench-{pools}".encode(), direct)
        started = time.perf_counter()
        made = []
        for index in range(pools):
            pool, _ = world.make_pool(size=2 + index % 4, joined=2 + index % 4, lock_elapsed=False)
            made.append(pool)
        world.chain.advance_time(61)
        world.chain.advance_slots(5)
        for pool in made:
            world.register(pool)
        setup_s = time.perf_counter() - started
        config = world.config("bench", limit=min(pools, 1_000))
        before = world.dev_transactions()
        ticks, seen, tick_times = 0, [], []
        started = time.perf_counter()
        while len(world.intents()) < 6 * pools and ticks < 50:
            tick_started = time.perf_counter()
            report = await world.tick(config)
            tick_times.append(time.perf_counter() - tick_started)
            ticks += 1
            seen.append(report.pools_seen)
            world.chain.advance_slots(1)
            world.due_now()
        elapsed = time.perf_counter() - started
        sent = world.dev_transactions() - before
        done = len(world.intents()) == 6 * pools
        world.close()
        print(
            f"{pools:>5} pools: set-up {setup_s:6.1f} s; driven in {ticks} ticks, {elapsed:6.1f} s "
            f"({'all' if done else 'NOT all'} paid, recorded and closed); "
            f"{sent} crank transactions = {sent / elapsed:5.1f} tx/s; "
            f"pools driven per tick {statistics.mean(seen):6.1f} (first tick {seen[0]}); "
            f"longest tick {max(tick_times):5.1f} s; {pools / elapsed:5.2f} pools finished/s"
        )
        direct.dispose()
    finally:
        reset_app_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def decide_many(count: int = 10_000) -> None:
    rng = random.Random(3)
    makers = [pool_account, locked, committed]
    views = [observed(rng.choice(makers)()) for _ in range(count)]
    config = LifecycleSettings(dev_wallet=DEV)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        for view in views:
            next_action(view, T0 + 1_000, SLOT0 + 10, config)
        timings.append(time.perf_counter() - started)
    best = min(timings)
    each_us = best / count * 1e6
    print(f"next_action, {count} decoded pools: {best * 1000:6.1f} ms (best of 5), {each_us:5.1f} µs/pool")


def cold_import() -> None:
    """Fresh interpreters, same run: the handler module vs the floor of its two heaviest dependencies."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("layers/shared", "functions/monitor")),
    }

    def best_of(code: str) -> float:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            runs.append(time.perf_counter() - started)
        return min(runs) * 1000

    empty = best_of("pass")
    floor = best_of("import sqlalchemy, solders")
    handler = best_of("import missout_monitor.handler")
    print(
        f"cold import (best of 5, interpreter start {empty:.0f} ms included): "
        f"monitor handler {handler:.0f} ms, bare `import sqlalchemy, solders` {floor:.0f} ms, "
        f"handler over floor {handler - floor:.0f} ms"
    )


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [100, 1_000]
    for size in sizes:
        asyncio.run(drive(size))
    decide_many()
    cold_import()


if __name__ == "__main__":
    main()
