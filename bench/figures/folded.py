"""The figures of the older single-purpose scripts (`bench/db_roundtrip.py`, `bench/localnet_throughput.py`,
`bench/verify_latency.py`, `bench/import_time.py`), each still runnable alone, brought into the one table
with a reference from the same run."""

from __future__ import annotations

import asyncio

from bench.db_roundtrip import measure
from bench.environment import BenchEnvironment
from bench.harness import Figure, Reference, median
from bench.import_time import importtime
from bench.localnet_throughput import throughputs
from bench.verify_latency import latencies
from missout.db.connection_plan import plan_connection
from missout.db.engine import build_engine
from missout.settings import DatabaseSettings

RUNS = 3


def db_roundtrip() -> list[Figure]:
    """One app transaction (BEGIN, SET LOCAL, SELECT 1, COMMIT) through pgBouncer with NullPool (a connect
    per request, what a Lambda pays) against the same transaction direct to PostgreSQL on a kept pool."""
    env = BenchEnvironment.shared()
    medians: dict[str, list[float]] = {"pooled": [], "direct": []}
    cases = {"pooled": (env.pooled_url, "auto"), "direct": (env.direct_url, "auto")}
    engines = {}
    for name, (url, pooler) in cases.items():
        settings = DatabaseSettings(url=url, pgbouncer=pooler)
        engines[name] = (build_engine(plan_connection(url, pgbouncer=settings.pgbouncer), settings), settings)
        measure(*engines[name], 20)  # warm-up: first connect, dialect initialisation
    for _ in range(RUNS):
        for name, (engine, settings) in engines.items():
            medians[name].append(median(measure(engine, settings, 100)))
    for engine, _ in engines.values():
        engine.dispose()
    return [
        Figure(
            id="db.transaction.pgbouncer_nullpool",
            group="database",
            name="one app transaction through pgBouncer, new connection each (NullPool)",
            command="python bench/db_roundtrip.py  (transaction(): BEGIN; SET LOCAL x2; SELECT 1; COMMIT)",
            unit="ms",
            status="measured",
            value=round(median(medians["pooled"]), 2),
            runs=RUNS,
            reference=Reference(
                "same transaction direct to PostgreSQL, pooled connection kept",
                "direct URL, QueuePool(2)",
                round(median(medians["direct"]), 2),
            ),
            limits="the SCRAM login to pgBouncer on every request (what NullPool costs)",
            details={"pooled_runs_ms": medians["pooled"], "direct_runs_ms": medians["direct"]},
        )
    ]


def localnet() -> list[Figure]:
    """The local chain through solana-py in process, against the chain driven directly (no RPC)."""
    runs = [asyncio.run(throughputs(100)) for _ in range(RUNS)]
    ours = "modelled instruction, in process"
    base = "modelled instruction, LocalChain direct (no RPC)"
    return [
        Figure(
            id="localnet.modelled_instruction",
            group="local chain",
            name="modelled-program transaction via solana-py AsyncClient, in process",
            command="python bench/localnet_throughput.py 100  (getLatestBlockhash + send + confirm)",
            unit="tx/s",
            status="measured",
            value=round(median([r[ours] for r in runs]), 1),
            runs=RUNS,
            reference=Reference(
                base, "LocalChain.send_transaction", round(median([r[base] for r in runs]), 1)
            ),
            limits="one core: JSON-RPC encoding/decoding in solana-py and the ASGI shim",
            details={"runs": runs},
        )
    ]


def verify() -> list[Figure]:
    """Proving one reported join against the transaction fetch it needs."""
    runs = [asyncio.run(latencies(100)) for _ in range(RUNS)]
    whole = "verify_join_pool (fetch + checks)"
    fetch = "fetch only (getTransaction)"
    return [
        Figure(
            id="verify.join",
            group="verification",
            name="verify_join_pool: fetch at finalized + every check, local chain in process",
            command="python bench/verify_latency.py 100",
            unit="ms",
            status="measured",
            value=round(median([median(r[whole]) for r in runs]), 2),
            runs=RUNS,
            reference=Reference(
                fetch, "getTransaction alone", round(median([median(r[fetch]) for r in runs]), 2)
            ),
            limits="one core: decoding the transaction (solders) and the checks; no network in process",
            details={
                "checks_only_ms": round(median([median(r["checks only (canned response)"]) for r in runs]), 3)
            },
        )
    ]


def import_profile() -> dict[str, list[tuple[float, str]]]:
    """`python -X importtime` of each handler: the heaviest packages, for the cold-start notes."""
    return {name: importtime(module)[1][:6] for name, module in
            (("api", "missout_api.handler"), ("monitor", "missout_monitor.handler"))}  # fmt: skip
