"""Latency of one short transaction as the app runs it: through pgBouncer with NullPool (connect + BEGIN +
SET LOCAL + SELECT + COMMIT per request, what a Lambda pays) versus direct to PostgreSQL with the small pool
kept for direct connections. Needs the local stack (`make db-up`); prints medians, p95 and the ratio.

Run: .venv/bin/python bench/db_roundtrip.py [transactions]
"""

from __future__ import annotations

import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "layers" / "shared"))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from missout.db.connection_plan import plan_connection  # noqa: E402
from missout.db.engine import build_engine  # noqa: E402
from missout.db.transaction import transaction  # noqa: E402
from missout.settings import DatabaseSettings  # noqa: E402


def stack_urls() -> tuple[str, str]:
    out = subprocess.run([str(REPO / "dev" / "stack.sh"), "env"], check=True, capture_output=True, text=True)
    env = dict(line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines())
    return shlex.split(env["DATABASE_URL"])[0], shlex.split(env["DIRECT_DATABASE_URL"])[0]


def measure(engine: Engine, settings: DatabaseSettings, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        with transaction(engine, settings) as conn:
            conn.execute(text("SELECT 1")).scalar_one()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def report(name: str, timings: list[float]) -> float:
    ordered = sorted(timings)
    median = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"{name:<32} median {median:6.2f} ms   p95 {p95:6.2f} ms   ({len(ordered)} transactions)")
    return median


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    pooled_url, direct_url = stack_urls()
    results = {}
    cases = (
        ("pgBouncer, NullPool (the app)", pooled_url, "auto"),
        ("direct, NullPool (connect cost)", direct_url, "true"),
        ("direct, pool of 2", direct_url, "auto"),
    )
    for name, url, pooler in cases:
        # DATABASE_PGBOUNCER=true on the direct URL only forces NullPool, to show what a connect costs.
        settings = DatabaseSettings(url=url, pgbouncer=pooler)
        engine = build_engine(plan_connection(url, pgbouncer=settings.pgbouncer), settings)
        measure(engine, settings, 20)  # warm-up: first connect, dialect initialisation
        results[name] = report(name, measure(engine, settings, runs))
        engine.dispose()
    pooled, _, direct = results.values()
    print(f"pooled / direct-with-pool median ratio: {pooled / direct:.2f}")


if __name__ == "__main__":
    main()
