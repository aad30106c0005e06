"""Connection storm: 50, 200 and 1,000 concurrent clients, each behaving like a Lambda instance (a new
connection for every request: the app's NullPool engine), recording joins through the benchmark's
pgBouncer; the same clients straight to PostgreSQL (`max_connections` 100); and `pgbench -C` (a new
connection per transaction) running TPC-B through the same pgBouncer as the reference.

The join transaction is `tests/reliability/workload.record_join`: what the API's join route records for a
verified join (the replay guard and activity row, the pool and its seats synced from the chain state after the
join, the join's proof on its seat), with the chain side played by the workload's model chain.

Real Lambda instances are separate processes, and pgbench runs its clients on `-j` threads, so the join
clients run in as many worker processes (`CLIENT_PROCESSES`, one constant for both) as threads of their own:
`tests/reliability/client_processes.py`, each process with its own pools, model chain, wallets and
signatures, all released at once. The driver is pure Python, so on 2 cores the client side still competes
with pgBouncer and PostgreSQL for CPU (said in `limits`). After every run the database is checked against what
the processes answered (`workload.audit`): a join answered committed but missing counts as lost.
"""

from __future__ import annotations

import re
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from bench.environment import BenchEnvironment
from bench.harness import Figure, Reference, median, percentile
from tests.reliability.client_processes import ClientProcesses
from tests.reliability.workload import audit, split_lanes
from tests.support.engines import local_engine

SIZES = (50, 200, 1_000)
RUNS = 3
DURATION_S = 5.0
PGBENCH_SCALE = 10
TARGET_RATIO = 0.5
CLIENT_PROCESSES = 2  # pgbench's -j and the join clients' processes: one number, so the two cannot drift
CONNECT_TIMEOUT_S = 15  # also bounds every read (pg8000's socket timeout); 1,000 clients drain in 12-14 s
_LIMITS = (
    f"2 cores shared by the Python clients ({CLIENT_PROCESSES} processes, each with one GIL), pgBouncer (one "
    "thread) and PostgreSQL; every request pays a SCRAM login: pgBouncer checks the proof against the role's "
    "stored verifier, and our clients prove it with a key derived once per process (missout/db/scram.py), "
    "where pgbench (libpq) derives it on every connect (PBKDF2, 4,096 rounds; docs/local-stack.md)"
)


@dataclass(frozen=True)
class RunResult:
    tps: float
    committed: int
    unavailable: int  # clean 503s (DatabaseUnavailable)
    errors: int  # anything else: a 500 in the API (pgbench: failed transactions and aborted clients)
    p95_ms: float
    client_cores: float = 0.0  # CPU the client side burnt per second of the run: cores the servers lacked
    lost: int = 0  # answered committed, a row missing (the audit; pgbench's runs are not audited)
    half_written: int = 0
    pools_inconsistent: int = 0

    @property
    def failed(self) -> int:
        return self.unavailable + self.errors


def join_storm(fleet: ClientProcesses, url: str, clients: int, direct: Engine) -> RunResult:
    """One run of `clients` spread over the fleet's processes, then the database checked against it."""
    run = fleet.run(url, clients=clients, duration_s=DURATION_S, connect_timeout_s=CONNECT_TIMEOUT_S)
    checked = audit(direct, run.tally, fleet.pool_ids)
    return RunResult(
        tps=run.tps,
        committed=len(run.tally.committed),
        unavailable=len(run.tally.unavailable),
        errors=len(run.tally.errors),
        p95_ms=percentile(run.tally.latencies_ms, 95),
        client_cores=run.client_cores,
        lost=checked.lost,
        half_written=checked.half_written,
        pools_inconsistent=checked.pools_inconsistent,
    )


def pgbench_storm(env: BenchEnvironment, clients: int) -> RunResult:
    pgbench = env.pgbench()
    assert pgbench is not None
    with tempfile.TemporaryDirectory(prefix="missout-pgbench-") as folder:
        prefix = Path(folder) / "tx"
        cpu, wall = _children_cpu_s(), time.perf_counter()
        done = subprocess.run(
            [
                pgbench,
                "-C",
                "-n",
                "-c",
                str(clients),
                "-j",
                str(CLIENT_PROCESSES),
                "-T",
                str(int(DURATION_S)),
                "-l",
                f"--log-prefix={prefix}",
                *env.pgbench_target(env.bench_pooler_port),
            ],
            env=env.psql_env(),
            capture_output=True,
            text=True,
            timeout=DURATION_S + 120,
            cwd=folder,
            check=False,
        )
        cores = (_children_cpu_s() - cpu) / (time.perf_counter() - wall)
        latencies = [
            int(fields[2]) / 1000
            for log in Path(folder).glob("tx.*")
            for fields in (line.split() for line in log.read_text().splitlines())
            if len(fields) > 2 and fields[2].isdigit()
        ]
    out = done.stdout + done.stderr
    tps = re.search(r"tps = ([0-9.]+)", out)
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    aborted = len(re.findall(r"client \d+ aborted", out))
    if tps is None or processed is None:
        raise RuntimeError(f"pgbench gave no result (exit {done.returncode}): {out[-500:]}")
    return RunResult(
        tps=float(tps.group(1)),
        committed=int(processed.group(1)),
        unavailable=0,
        errors=(int(failed.group(1)) if failed else 0) + aborted,
        p95_ms=percentile(latencies, 95),
        client_cores=cores,
    )


def _children_cpu_s() -> float:
    """CPU time of this process's finished, waited-for children (pgbench, once `subprocess.run` returns)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _summary(runs: list[RunResult]) -> dict[str, object]:
    return {
        "tps_runs": [round(r.tps, 1) for r in runs],
        "unavailable_runs": [r.unavailable for r in runs],
        "errors_runs": [r.errors for r in runs],
        "p95_ms_runs": [round(r.p95_ms, 1) for r in runs],
        "committed_runs": [r.committed for r in runs],
        "unavailable_total": sum(r.unavailable for r in runs),
        "errors_total": sum(r.errors for r in runs),
        "lost_total": sum(r.lost for r in runs),
        "half_written_total": sum(r.half_written for r in runs),
        "pools_inconsistent_max": max(r.pools_inconsistent for r in runs),
        "p95_ms": round(median([r.p95_ms for r in runs]), 1),
        "client_cores_runs": [round(r.client_cores, 2) for r in runs],
    }


def _failures(runs: list[RunResult]) -> str:
    return (
        f"clean 503s over {len(runs)} runs: {sum(r.unavailable for r in runs)}, other errors: "
        f"{sum(r.errors for r in runs)}; p95 {median([r.p95_ms for r in runs]):.0f} ms"
    )


def _cores(runs: list[RunResult]) -> str:
    return f"{median([r.client_cores for r in runs]):.2f}"


def _audited(runs: list[RunResult]) -> tuple[bool, str]:
    lost, half = sum(r.lost for r in runs), sum(r.half_written for r in runs)
    drifted = max(r.pools_inconsistent for r in runs)
    note = (
        f"audit after every run (the database against every process's answers): {lost} lost, {half} "
        f"half-written, {drifted} pools off their seats; any of them fails the target"
    )
    return not (lost or half or drifted), note


@dataclass
class SizeRuns:
    """One size's runs, interleaved: pgbench, then each fleet through pgBouncer and straight."""

    pgbench: list[RunResult]
    pooled: list[list[RunResult]]  # per fleet
    direct: list[list[RunResult]]  # per fleet


def measure_size(env: BenchEnvironment, fleets: list[ClientProcesses], clients: int) -> SizeRuns:
    runs = SizeRuns([], [[] for _ in fleets], [[] for _ in fleets])
    checker = local_engine(env.direct_url)
    try:
        for run in range(RUNS):  # interleaved, so every series sees the same machine
            runs.pgbench.append(pgbench_storm(env, clients))
            for turn in range(len(fleets)):
                i = (run + turn) % len(fleets)  # several fleets take turns at going first
                runs.pooled[i].append(join_storm(fleets[i], env.bench_pooled_url, clients, checker))
                runs.direct[i].append(join_storm(fleets[i], env.direct_url, clients, checker))
    finally:
        checker.dispose()
    return runs


def size_figures(
    clients: int, pgb: list[RunResult], pooled: list[RunResult], direct: list[RunResult]
) -> list[Figure]:
    reference = Reference(
        f"pgbench -C TPC-B, {clients} clients, same pgBouncer",
        f"pgbench -C -n -c {clients} -j {CLIENT_PROCESSES} -T {int(DURATION_S)} (scale {PGBENCH_SCALE}) "
        "via pgBouncer",
        round(median([r.tps for r in pgb]), 1),
    )
    ours = median([r.tps for r in pooled])
    failed = sum(r.failed for r in pooled)
    clean, audit_note = _audited(pooled)
    pooled_figure = Figure(
        id=f"storm.pgbouncer.{clients}",
        group="connection storm",
        name=f"{clients} Lambda-like clients recording joins through pgBouncer",
        command=(
            f"{clients} clients in {CLIENT_PROCESSES} processes (threads) x (connect, join transaction, "
            f"close) for {DURATION_S:.0f} s"
        ),
        unit="tx/s",
        status="measured",
        value=round(ours, 1),
        runs=RUNS,
        reference=reference,
        target=f"ratio >= {TARGET_RATIO}" + (", 0 errors" if clients == max(SIZES) else ""),
        target_met=ours / reference.value >= TARGET_RATIO
        and (clients != max(SIZES) or failed == 0)
        and clean,
        limits=_LIMITS,
        notes=(
            _failures(pooled),
            audit_note,
            "tx/s = joins committed / the common window: from the moment every process is released until "
            "the last client of the last process has its answer",
            f"CPU of the client side per second of a run (median): ours {_cores(pooled)}, pgbench's "
            f"{_cores(pgb)}, of the 2 cores pgBouncer and PostgreSQL also need",
            "pgbench counts only transactions finished within -T; these clients finish the request "
            "in flight after the deadline, so their p95 includes the whole queue",
            "join = the API's recording of a verified join (claim_signature, sync_pool_from_chain, "
            "mark_joined), without the chain round trips of the verification",
        ),
        details={"ours": _summary(pooled), "pgbench": _summary(pgb)},
    )
    direct_figure = Figure(
        id=f"storm.direct.{clients}",
        group="connection storm",
        name=f"{clients} Lambda-like clients recording joins straight to PostgreSQL",
        command=(
            f"the same clients ({CLIENT_PROCESSES} processes) straight to PostgreSQL (max_connections 100), "
            f"{DURATION_S:.0f} s"
        ),
        unit="tx/s",
        status="measured",
        value=round(median([r.tps for r in direct]), 1),
        runs=RUNS,
        reference=Reference("the same clients through pgBouncer", "storm.pgbouncer", round(ours, 1)),
        target=None,
        limits="PostgreSQL's max_connections (100, 3 reserved) and a backend fork per connection",
        notes=(_failures(direct) + " (the 503s: too many clients)", _audited(direct)[1]),
        details={"ours": _summary(direct)},
    )
    return [pooled_figure, direct_figure]


def storm() -> list[Figure]:
    env = BenchEnvironment.shared()
    env.pgbench_init(PGBENCH_SCALE)
    figures: list[Figure] = []
    with ClientProcesses(env.direct_url, split_lanes(env.pool_ids, CLIENT_PROCESSES)) as fleet:
        for clients in SIZES:
            runs = measure_size(env, [fleet], clients)
            figures += size_figures(clients, runs.pgbench, runs.pooled[0], runs.direct[0])
    return figures
