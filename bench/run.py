"""`make bench`: every figure in one table, written to bench/results/latest.json, then the docs.

Run: .venv/bin/python -m bench.run [--only PREFIX ...]   (needs the local stack: `dev/stack.sh start`)
With --only, the subset is written to bench/results/partial.json and the docs are left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / p) for p in ("layers/shared", "functions/api", "functions/monitor", "dev")]

from bench.environment import BenchEnvironment  # noqa: E402
from bench.figures.cold_start import cold_start, python312  # noqa: E402
from bench.figures.folded import db_roundtrip, import_profile, localnet, verify  # noqa: E402
from bench.figures.monitor import monitor  # noqa: E402
from bench.figures.storm import storm  # noqa: E402
from bench.figures.warm_latency import routes_waiting, warm_routes  # noqa: E402
from bench.harness import Figure, FigureSpec, render_table, run_spec, table_rows  # noqa: E402
from bench.report import write_docs  # noqa: E402

RESULTS = REPO / "bench" / "results"

# The table, in print order. A new figure is one function and one line here.
FIGURES = (
    FigureSpec("cold_start", "cold start", cold_start),
    FigureSpec("warm", "warm latency", warm_routes),
    FigureSpec("warm.pending", "warm latency", routes_waiting),
    FigureSpec("storm", "connection storm", storm),
    FigureSpec("monitor", "monitor", monitor),
    FigureSpec("db", "database", db_roundtrip),
    FigureSpec("verify", "verification", verify),
    FigureSpec("localnet", "local chain", localnet),
)


def machine() -> dict[str, Any]:
    meminfo = dict(
        line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line
    )
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    env = BenchEnvironment.shared()
    py312 = python312()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python312": "3.12 at " + py312 if py312 else "not found",
        "postgresql": env.postgres_version(),
        "pgbouncer": env.pgbouncer_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--only", nargs="*", default=[], help="figure ids (prefixes) to run")
    args = parser.parse_args(argv)
    specs = [s for s in FIGURES if not args.only or any(s.id.startswith(p) for p in args.only)]
    started = time.perf_counter()
    result: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    figures: list[Figure] = []
    try:
        result["machine"] = machine()
        for spec in specs:
            print(f"bench: {spec.id} ...", flush=True)
            figures += run_spec(spec)
        if not args.only:
            result["import_profile"] = import_profile()
    finally:
        BenchEnvironment.close_shared()
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["duration_s"] = round(time.perf_counter() - started, 1)
    result["figures"] = [f.as_json() for f in figures]
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / ("partial.json" if args.only else "latest.json")
    target.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(render_table(table_rows(figures)))
    print(f"\n{len(figures)} figures in {result['duration_s']} s -> {target.relative_to(REPO)}")
    if not args.only:
        for written in write_docs():
            print(f"wrote {written.relative_to(REPO)}")
    return 1 if any(f.status == "failed" for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
