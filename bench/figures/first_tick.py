"""The monitor's cold start with its first tick: a fresh interpreter imports the real handler (init) and is
invoked once with the scheduled event, on a budget that fits exactly one tick, against the local chain served
over HTTP from this process and a throw-away database through pgBouncer.

`cold_start.monitor` times init alone; this figure says what the first tick adds to it, so that work moved
out of init onto the first tick shows here instead of disappearing. Two first ticks:
- `quiet`: one registered pool, not due (discovery, the rate-limit clean-up, resume, the lease query, the
  metrics: what most ticks of a quiet deployment do);
- `act`: one full pool due, which the tick unlocks (one step per pool: `MONITOR_STEPS_PER_POOL=1`, so each
  run does the same work; the actor, its instruction builders and Switchboard's modules load).
Each run of either interpreter gets a new pool; every earlier one is pushed a day out first. The first run
of each fills the bytecode cache and is not counted. The chain's server shares the machine's cores with the
child, so wall time includes serving its RPC; the child's CPU time does not.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.figures.cold_start import Interpreter, interpreters, run_child
from bench.harness import Figure, Reference, median, not_measurable
from bench.monitor_throughput import throwaway_database
from tests.support.engines import local_engine

RUNS = 5
MODES = ("quiet", "act")
# Lazily loaded groups, named in the notes: which of them init and the first tick loaded.
WATCHED = ("missout.monitor.act", "missout.chain.switchboard.gateway", "missout.monitor.payout_tx")
DEV_PATH = Path(__file__).resolve().parents[2] / "dev"  # local_lambda (a LambdaContext with a deadline)

_CHILD = """
import time
_t0, _c0 = time.perf_counter(), time.process_time()
import missout_monitor.handler as monitor
_t1, _c1 = time.perf_counter(), time.process_time()
import json, sys
from local_lambda import lambda_context
at_init = sorted(m for m in {watched!r} if m in sys.modules)
modules = len(sys.modules)
event = {{"scheduled_time": "2025-11-25T19:05:00Z", "execution_id": "bench", "attempt": "1"}}
summary = monitor.handler(event, lambda_context("monitor", 20.0))
_t2, _c2 = time.perf_counter(), time.process_time()
print(json.dumps({{
    "init": [(_t1 - _t0) * 1000, (_c1 - _c0) * 1000],
    "tick": [(_t2 - _t1) * 1000, (_c2 - _c1) * 1000],
    "at_init": at_init,
    "after_tick": sorted(m for m in {watched!r} if m in sys.modules),
    "tick_imports": len(sys.modules) - modules,
    "summary": summary,
}}))
"""


def first_tick() -> list[Figure]:
    from tests.monitor.world import SECRET, MonitorWorld
    from tests.support.http_server import free_socket, serve_in_thread

    found, missing = interpreters()
    figures: list[Figure] = []
    with throwaway_database("missout_first_tick") as (direct_url, pooled_url):
        direct = local_engine(direct_url)
        sock = free_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        world = MonitorWorld(b"bench-first-tick", direct, gateway_url=url)
        world.chain.follow_wall_clock()
        keys = Path(tempfile.mkdtemp(prefix="missout-first-tick-"))
        (keys / "dev.json").write_text(json.dumps(list(bytes(world.dev))))
        (keys / "randomness.hex").write_text(SECRET.hex())
        env = {
            "DATABASE_URL": pooled_url,
            "SOLANA_RPC_URLS": url,
            "DEV_WALLET_PUBKEY": str(world.dev.pubkey()),
            "DEV_WALLET_KEYPAIR_PATH": str(keys / "dev.json"),
            "RANDOMNESS_SECRET_PATH": str(keys / "randomness.hex"),
            # One tick per invocation: the next tick's slot (a minute away) does not fit in the budget.
            "MONITOR_TICK_SECONDS": "60",
            "MONITOR_SAFETY_MARGIN_MS": "500",
            "MONITOR_PROBE_GATEWAY_HEALTH": "false",
            "MONITOR_STEPS_PER_POOL": "1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        with serve_in_thread(world.app, sock):
            for mode in MODES:
                runs: dict[str, list[dict[str, Any]]] = {i.label: [] for i in found}
                for index in range(RUNS + 1):
                    for interpreter in found:
                        _push_every_pool_a_day_out(direct)
                        world.register(world.full_pool(participants=2))
                        if mode == "quiet":
                            _push_every_pool_a_day_out(direct)
                        result = _run(interpreter, env)
                        if index:  # the first run fills the bytecode cache
                            runs[interpreter.label].append(result)
                figures += [_figure(mode, i, runs[i.label]) for i in found]
        world.close()
        direct.dispose()
    figures += [
        not_measurable(f"cold_start.monitor_first_tick.{mode}.python3.12", "cold start", mode, why)
        for why in missing
        for mode in MODES
    ]
    return figures


def _push_every_pool_a_day_out(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE pools SET next_check_at = now() + interval '1 day'"))


def _run(interpreter: Interpreter, env: dict[str, str]) -> dict[str, Any]:
    with_dev = Interpreter(interpreter.label, interpreter.python, (*interpreter.path, DEV_PATH))
    result: dict[str, Any] = run_child(with_dev, _CHILD.format(watched=WATCHED), env)
    summary = result["summary"]
    if (summary["ticks"], summary["failed_ticks"]) != (1, 0):
        raise RuntimeError(f"expected one good tick, got {summary}")
    return result


def _figure(mode: str, interpreter: Interpreter, runs: list[dict[str, Any]]) -> Figure:
    def med(part: str, index: int) -> float:
        return median([r[part][index] for r in runs])

    def total(index: int) -> float:
        return median([r["init"][index] + r["tick"][index] for r in runs])

    init_wall, init_cpu, with_tick_wall, with_tick_cpu = med("init", 0), med("init", 1), total(0), total(1)
    last = runs[-1]
    return Figure(
        id=f"cold_start.monitor_first_tick.{mode}.{interpreter.label}",
        group="cold start",
        name=f"monitor handler init + first tick, {mode} ({interpreter.label})",
        command=f"{interpreter.label} -c 'import missout_monitor.handler; handler(scheduled event, one tick)'"
        " against the local chain over HTTP and PostgreSQL through pgBouncer",
        unit="ms",
        status="measured",
        value=round(with_tick_wall, 1),
        runs=len(runs),
        reference=Reference("init alone, same runs", "import missout_monitor.handler", round(init_wall, 1)),
        limits="one core; the first tick's RPC calls are served by this process's local chain (wall time)",
        notes=(
            f"CPU time: init {init_cpu:.0f} ms, init + first tick {with_tick_cpu:.0f} ms"
            f" (the tick alone {med('tick', 1):.0f} ms)",
            f"the first tick imported {last['tick_imports']} more modules (the HTTP transport's: httpcore2,"
            " h2, h11, anyio's asyncio backend, truststore; and what the tick needed of ours)",
            "loaded at init: " + _named(last["at_init"]),
            "loaded after the first tick: " + _named(last["after_tick"]),
        ),
        details={
            "init_ms": [round(r["init"][0], 1) for r in runs],
            "init_cpu_ms": [round(r["init"][1], 1) for r in runs],
            "tick_ms": [round(r["tick"][0], 1) for r in runs],
            "tick_cpu_ms": [round(r["tick"][1], 1) for r in runs],
            "init_cpu_median_ms": round(init_cpu, 1),
            "with_tick_cpu_median_ms": round(with_tick_cpu, 1),
            "pools_seen": [r["summary"]["pools_seen"] for r in runs],
        },
    )


def _named(loaded: list[str]) -> str:
    return ", ".join(loaded) or "none of " + ", ".join(WATCHED)
