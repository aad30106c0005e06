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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for folder in ("layers/shared", "functions/monitor", "dev", "."):
    sys.path.insert(0, str(REPO / folder))

from sqlalchemy import text  # noqa: E402

from missout import settings  # noqa: E402
from missout.chain.accounts import decode_pool, encode_pool  # noqa: E402
from missout.db import reset_app_engine  # noqa: E402
from missout.lifecycle import LifecycleSettings, next_action  # noqa: E402
from tests.lifecycle.states import DEV, SLOT0, T0, committed, locked, observed, pool_account  # noqa: E402
from tests.support.database import migrate  # noqa: E402
from tests.support.engines import local_engine  # noqa: E402
from tests.support.stack import stack_env  # noqa: E402


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@dataclass(frozen=True)
class CrankRun:
    pools: int
    setup_s: float
    ticks: int
    elapsed_s: float
    transactions: int
    all_done: bool  # every pool paid out, recorded and its randomness account closed
    pools_per_tick: float
    first_tick_pools: int
    longest_tick_s: float

    @property
    def tx_per_s(self) -> float:
        return self.transactions / self.elapsed_s

    def line(self) -> str:
        return (
            f"{self.pools:>5} pools: set-up {self.setup_s:6.1f} s; driven in {self.ticks} ticks, "
            f"{self.elapsed_s:6.1f} s ({'all' if self.all_done else 'NOT all'} paid, recorded and closed); "
            f"{self.transactions} crank transactions = {self.tx_per_s:5.1f} tx/s; "
            f"pools driven per tick {self.pools_per_tick:6.1f} (first tick {self.first_tick_pools}); "
            f"longest tick {self.longest_tick_s:5.1f} s; {self.pools / self.elapsed_s:5.2f} pools finished/s"
        )


@contextmanager
def throwaway_database(prefix: str) -> Iterator[tuple[str, str]]:
    """A migrated database of its own (dropped afterwards), made this process's DATABASE_URL meanwhile:
    yields its direct and its pooled (pgBouncer) URL."""
    env = stack_env()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = local_engine(env["MISSOUT_ADMIN_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    direct_url = with_database(env["DIRECT_DATABASE_URL"], name)
    pooled_url = with_database(env["DATABASE_URL"], name)
    saved_url = os.environ.get("DATABASE_URL")
    try:
        migrate(direct_url)
        os.environ["DATABASE_URL"] = pooled_url
        settings.clear_caches()
        reset_app_engine()
        yield direct_url, pooled_url
    finally:
        reset_app_engine()
        if saved_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved_url
        settings.clear_caches()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def drive(pools: int) -> CrankRun:
    """Full pools on the local chain, driven by real ticks until every one is finished (at most 50 ticks)."""
    from tests.monitor.world import MonitorWorld

    with throwaway_database("missout_bench") as (direct_url, _):
        direct = local_engine(direct_url)
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
        result = CrankRun(
            pools=pools,
            setup_s=setup_s,
            ticks=ticks,
            elapsed_s=elapsed,
            transactions=world.dev_transactions() - before,
            all_done=len(world.intents()) == 6 * pools,
            pools_per_tick=statistics.mean(seen),
            first_tick_pools=seen[0],
            longest_tick_s=max(tick_times),
        )
        world.close()
        direct.dispose()
        return result


def decide_many(count: int = 10_000, repeats: int = 5) -> list[float]:
    """Seconds per pass of `next_action` over `count` decoded pools (open, locked, committed)."""
    return decide_and_decode(count, repeats)[0]


def decide_and_decode(count: int = 10_000, repeats: int = 5) -> tuple[list[float], list[float]]:
    """Seconds per pass of `next_action` over `count` decoded pools (open, locked, committed), and per pass
    of `decode_pool` over the same pools' account bytes (what a tick does to every pool before deciding),
    the two passes alternating."""
    rng = random.Random(3)
    makers = [pool_account, locked, committed]
    views = [observed(rng.choice(makers)()) for _ in range(count)]
    accounts = [encode_pool(view.pool) for view in views]
    config = LifecycleSettings(dev_wallet=DEV)
    decide, decode = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        for view in views:
            next_action(view, T0 + 1_000, SLOT0 + 10, config)
        decide.append(time.perf_counter() - started)
        started = time.perf_counter()
        for data in accounts:
            decode_pool(data)
        decode.append(time.perf_counter() - started)
    return decide, decode


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
        print(asyncio.run(drive(size)).line())
    count = 10_000
    best = min(decide_many(count))
    each_us = best / count * 1e6
    print(f"next_action, {count} decoded pools: {best * 1000:6.1f} ms (best of 5), {each_us:5.1f} µs/pool")
    cold_import()


if __name__ == "__main__":
    main()
