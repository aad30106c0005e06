"""`make bench`: every figure in one table, written to bench/results/latest.json, then the docs.

Run: .venv/bin/python -m bench.run [--only PREFIX ...]   (needs the local stack: `dev/stack.sh start`)
With --only, the subset is written to bench/results/partial.json and the docs are left alone.
With --long (`make bench-long`), only the long tier runs and is merged into latest.json, then the docs are
rewritten; `make bench` carries the last long-tier figure over, dated, and never measures it itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / p) for p in ("layers/shared", "functions/api", "functions/monitor", "dev")]

from bench.environment import BenchEnvironment  # noqa: E402
from bench.figures.cold_start import cold_start, python312  # noqa: E402
from bench.figures.first_tick import first_tick  # noqa: E402
from bench.figures.folded import db_roundtrip, import_profile, localnet, verify  # noqa: E402
from bench.figures.monitor import crank_long, crank_short, next_action_figure  # noqa: E402
from bench.figures.storm import storm  # noqa: E402
from bench.figures.warm_latency import warm_routes  # noqa: E402
from bench.harness import Figure, FigureSpec, not_measurable, render_table, run_spec, table_rows  # noqa: E402
from bench.report import write_docs  # noqa: E402

RESULTS = REPO / "bench" / "results"

# The table, in print order. A new figure is one function and one line here.
FIGURES = (
    FigureSpec("cold_start", "cold start", cold_start),
    FigureSpec("cold_start.monitor_first_tick", "cold start", first_tick),
    FigureSpec("warm", "warm latency", warm_routes),
    FigureSpec("storm", "connection storm", storm),
    FigureSpec("monitor.next_action", "monitor", next_action_figure),
    FigureSpec("monitor.crank.100", "monitor", crank_short),
    FigureSpec("monitor.crank.1000", "monitor", crank_long, long=True),
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
        # The version, not the path: the report is committed and must not name a folder of this machine.
        "python312": _version(py312) if py312 else "not found",
        "postgresql": env.postgres_version(),
        "pgbouncer": env.pgbouncer_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _version(interpreter: str) -> str:
    probe = [interpreter, "-c", "import platform; print(platform.python_version())"]
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


def carried_over(spec: FigureSpec, previous: dict[str, Any]) -> dict[str, Any]:
    """A long-tier figure in a `make bench` run: the last `make bench-long` measurement, dated, if there is
    one; otherwise not measurable. Never a number this run did not measure or an earlier run did not."""
    for figure in previous.get("figures", []):
        if figure["id"] == spec.id and figure["status"] == "measured":
            when = figure["details"].get("measured_at", "an earlier run")
            note = f"measured by `make bench-long` at {when}, not by this run of `make bench`"
            return {**figure, "notes": [n for n in figure["notes"] if "make bench-long" not in n] + [note]}
    reason = "long tier: run `make bench-long` (7 to 20 minutes here: past `make bench`'s 10-minute budget)"
    return not_measurable(spec.id, spec.group, spec.id, reason).as_json()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--only", nargs="*", default=[], help="figure ids (prefixes) to run")
    parser.add_argument(
        "--long", action="store_true", help="run only the long tier and merge it into latest.json"
    )
    args = parser.parse_args(argv)
    if args.long:
        specs = [s for s in FIGURES if s.long]
    else:
        specs = [s for s in FIGURES if not args.only or any(s.id.startswith(p) for p in args.only)]
    latest = RESULTS / "latest.json"
    previous: dict[str, Any] = json.loads(latest.read_text()) if latest.exists() else {}
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    result: dict[str, Any] = {"started_at": started_at}
    figures: list[Figure] = []
    rows: list[dict[str, Any]] = []
    try:
        result["machine"] = machine()
        for spec in specs:
            if spec.long and not (args.long or args.only):
                rows.append(carried_over(spec, previous))
                if rows[-1]["status"] == "measured" and "long_tier" in previous:
                    result["long_tier"] = previous["long_tier"]
                continue
            print(f"bench: {spec.id} ...", flush=True)
            measured = run_spec(spec)
            if spec.long:
                measured = [Figure(**{**f.__dict__, "details": {**f.details, "measured_at": started_at}})
                            for f in measured]  # fmt: skip
            figures += measured
            rows += [f.as_json() for f in measured]
        if not (args.only or args.long):
            result["import_profile"] = import_profile()
    finally:
        BenchEnvironment.close_shared()
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["duration_s"] = round(time.perf_counter() - started, 1)
    result["figures"] = rows
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.long:
        if not previous:
            raise SystemExit("make bench-long merges into bench/results/latest.json: run `make bench` first")
        ids = {row["id"] for row in rows}
        merged = [next((r for r in rows if r["id"] == old["id"]), old) for old in previous["figures"]]
        merged += [r for r in rows if r["id"] not in {old["id"] for old in previous["figures"]}]
        previous["figures"] = merged
        previous["long_tier"] = {k: result[k] for k in ("started_at", "duration_s")} | {
            "load_average": result["machine"]["load_average_at_end"], "figures": sorted(ids)
        }  # fmt: skip
        result, target = previous, latest
    else:
        target = RESULTS / ("partial.json" if args.only else "latest.json")
    target.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(render_table(table_rows(rows)))  # rows: this run's figures and the long tier carried over
    print(f"\n{len(figures)} figures measured in {round(time.perf_counter() - started, 1)} s -> "
          f"{target.relative_to(REPO)}")  # fmt: skip
    if not args.only:
        for written in write_docs():
            print(f"wrote {written.relative_to(REPO)}")
    return 1 if any(f.status == "failed" for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
