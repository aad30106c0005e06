"""Monitor figures, from `bench/monitor_throughput.py` (one implementation): `next_action` over 10,000
decoded pools, and crank transactions per second with the real monitor ticks driving full pools on the local
chain (in process) with their records in PostgreSQL through pgBouncer.

The 1,000-pool crank run takes 7 to 15 minutes on the shared 2-core machine (depending on the
neighbours' load), which with the rest of the table is more than `make bench`'s ten minutes: it is the long
tier (`make bench-long`), recorded into the same results file.
"""

from __future__ import annotations

import asyncio

from bench import monitor_throughput
from bench.harness import Figure, median

DECISIONS = 10_000
DECISION_PASSES = 5
DECISION_TARGET_MS = 50.0
SHORT_POOLS = 100
LONG_POOLS = 1_000


def next_action_figure() -> list[Figure]:
    passes_ms = [s * 1000 for s in monitor_throughput.decide_many(DECISIONS, DECISION_PASSES)]
    value = median(passes_ms)
    return [
        Figure(
            id=f"monitor.next_action.{DECISIONS}",
            group="monitor",
            name=f"next_action over {DECISIONS:,} decoded pools",
            command=f"missout.lifecycle.next_action(view, now, slot, settings) for {DECISIONS:,} views "
            "(open, locked and committed pools, decoded beforehand), one pass",
            unit="ms",
            status="measured",
            value=round(value, 2),
            runs=DECISION_PASSES,
            target=f"<= {DECISION_TARGET_MS:.0f} ms",
            target_met=value <= DECISION_TARGET_MS,
            limits="one core, pure Python: no I/O in the decision",
            notes=(f"median of {DECISION_PASSES} passes; best {min(passes_ms):.1f} ms",),
            details={"passes_ms": [round(v, 2) for v in passes_ms]},
        )
    ]


def crank_figure(pools: int) -> list[Figure]:
    run = asyncio.run(monitor_throughput.drive(pools))
    notes = [
        f"one run (its set-up of full pools, {run.setup_s:.0f} s, is not timed); "
        f"driven in {run.ticks} ticks over {run.elapsed_s:.0f} s",
    ]
    if pools == LONG_POOLS:
        notes.append("long tier: `make bench-long`, not part of `make bench`")
    return [
        Figure(
            id=f"monitor.crank.{pools}",
            group="monitor",
            name=f"crank tx/s, {pools:,} full pools on the local chain",
            command=f"python bench/monitor_throughput.py {pools}: real ticks (run_tick) until every pool is "
            "paid out, recorded and its randomness account closed; transactions counted on the chain",
            unit="tx/s",
            status="measured" if run.all_done else "failed",
            value=round(run.tx_per_s, 2),
            runs=1,
            limits="one core shared by the monitor, the in-process chain (signature checks) and PostgreSQL",
            notes=tuple(notes) if run.all_done else ("not every pool finished within 50 ticks", *notes),
            details={
                "pools": run.pools,
                "transactions": run.transactions,
                "ticks": run.ticks,
                "elapsed_s": round(run.elapsed_s, 1),
                "setup_s": round(run.setup_s, 1),
                "pools_per_tick": round(run.pools_per_tick, 1),
                "first_tick_pools": run.first_tick_pools,
                "longest_tick_s": round(run.longest_tick_s, 1),
            },
        )
    ]


def crank_short() -> list[Figure]:
    return crank_figure(SHORT_POOLS)


def crank_long() -> list[Figure]:
    return crank_figure(LONG_POOLS)
