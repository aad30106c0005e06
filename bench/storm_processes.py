"""The connection storm's join clients in one process against `CLIENT_PROCESSES` processes, interleaved run
by run against the same pgbench reference: what spreading the clients over processes changes.

Run: .venv/bin/python -m bench.storm_processes   (needs the local stack: `dev/stack.sh start`; ~8 minutes)
Prints, per size and fleet, the medians over `storm.RUNS` runs, with the CPU the client side burnt per second
of each run ("cores": pgbench's from its rusage, ours from the worker processes'); writes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / p) for p in ("layers/shared", "dev")]

from bench.environment import BenchEnvironment  # noqa: E402
from bench.figures.storm import CLIENT_PROCESSES, PGBENCH_SCALE, RUNS, SIZES, RunResult, measure_size  # noqa: E402
from bench.harness import median, render_table  # noqa: E402
from tests.reliability.client_processes import ClientProcesses  # noqa: E402
from tests.reliability.workload import split_lanes  # noqa: E402


def _row(
    clients: int, target: str, procs: int, runs: list[RunResult], pgbench_tps: float, *, audited: bool = True
) -> list[str]:
    tps = median([r.tps for r in runs])
    return [
        str(clients),
        target,
        str(procs),
        f"{tps:.1f}",
        f"{tps / pgbench_tps:.2f}",
        f"{median([r.p95_ms for r in runs]):.0f}",
        str(sum(r.unavailable for r in runs)),
        str(sum(r.errors for r in runs)),
        str(sum(r.lost + r.half_written for r in runs)) if audited else "-",
        f"{median([r.client_cores for r in runs]):.2f}",
        " ".join(f"{r.tps:.0f}" for r in runs),
    ]


def main() -> int:
    env = BenchEnvironment.shared()
    try:
        env.pgbench_init(PGBENCH_SCALE)
        lanes = split_lanes(env.pool_ids, 1 + CLIENT_PROCESSES)  # one lane for the single process
        header = ["clients", "to", "procs", "tx/s", "/pgbench", "p95 ms", "503s", "errors", "lost", "cores"]
        header.append("runs")
        rows: list[list[str]] = []
        with (
            ClientProcesses(env.direct_url, lanes[:1]) as single,
            ClientProcesses(env.direct_url, lanes[1:]) as spread,
        ):
            for clients in SIZES:
                runs = measure_size(env, [single, spread], clients)
                pgbench_tps = median([r.tps for r in runs.pgbench])
                rows.append(
                    _row(clients, "pgbench", CLIENT_PROCESSES, runs.pgbench, pgbench_tps, audited=False)
                )
                for target, series in (("pgbouncer", runs.pooled), ("direct", runs.direct)):
                    for fleet, fleet_runs in zip((single, spread), series, strict=True):
                        rows.append(_row(clients, target, len(fleet.lanes), fleet_runs, pgbench_tps))
                print(render_table(rows[-5:], header), flush=True)
    finally:
        BenchEnvironment.close_shared()
    print(f"\nall sizes, {RUNS} runs each, series interleaved:\n{render_table(rows, header)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
