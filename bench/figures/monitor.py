"""Monitor figures, from `bench/monitor_throughput.py` (one implementation): `next_action` over 10,000
decoded pools, and crank transactions per second with the real monitor ticks driving full pools on the local
chain (in process) with their records in PostgreSQL through pgBouncer.

Each crank figure is the median of three runs, each followed by its reference (the chain and client alone).
The 1,000-pool runs take 2 to 15 minutes each on the shared 2-core machine (depending on the neighbours'
load), which with the rest of the table is more than `make bench`'s ten minutes: they are the long tier
(`make bench-long`), recorded into the same results file.
"""

from __future__ import annotations

import asyncio

from bench import monitor_throughput
from bench.harness import Figure, Reference, median
from bench.localnet_throughput import throughputs

DECISIONS = 10_000
DECISION_PASSES = 5
DECISION_TARGET_MS = 50.0
SHORT_POOLS = 100
LONG_POOLS = 1_000
CRANK_RUNS = 3


def next_action_figure() -> list[Figure]:
    decide_s, decode_s = monitor_throughput.decide_and_decode(DECISIONS, DECISION_PASSES)
    passes_ms, decode_ms = [s * 1000 for s in decide_s], [s * 1000 for s in decode_s]
    value, reference = median(passes_ms), median(decode_ms)
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
            reference=Reference(
                f"decoding the same {DECISIONS:,} pool accounts (what a tick does before deciding)",
                f"missout.chain.accounts.decode_pool(data) for {DECISIONS:,} accounts, one pass",
                round(reference, 2),
            ),
            target=f"<= {DECISION_TARGET_MS:.0f} ms",
            target_met=value <= DECISION_TARGET_MS,
            limits="one core, pure Python: no I/O in the decision",
            notes=(
                f"median of {DECISION_PASSES} passes, alternating with the decoding passes; best"
                f" {min(passes_ms):.1f} ms",
            ),
            details={
                "passes_ms": [round(v, 2) for v in passes_ms],
                "decode_passes_ms": [round(v, 2) for v in decode_ms],
            },
        )
    ]


# The reference of a crank figure: the local chain and the same in-process solana-py client alone, sending
# and confirming one transaction at a time with a compute-budget instruction, a transfer and a modelled
# program instruction (a crank transaction is heavier: the pool program's checks and token transfers).
CHAIN_CASE = "ComputeBudget + transfer + modelled, in process"
CHAIN_TRANSACTIONS = 100


def crank_figure(pools: int, runs: int) -> list[Figure]:
    crank_runs, chain_runs = [], []
    for _ in range(runs):  # alternating, so the neighbours' load hits both alike
        crank_runs.append(asyncio.run(monitor_throughput.drive(pools)))
        chain_runs.append(asyncio.run(throughputs(CHAIN_TRANSACTIONS))[CHAIN_CASE])
    all_done = all(run.all_done for run in crank_runs)
    value, reference = median([run.tx_per_s for run in crank_runs]), median(chain_runs)
    last = crank_runs[-1]
    notes = [
        f"median of {runs} runs, each alternating with its reference (set-up of the full pools not timed:"
        f" {', '.join(f'{run.setup_s:.0f}' for run in crank_runs)} s); each run drove the pools in"
        f" {', '.join(str(run.ticks) for run in crank_runs)} tick(s) over"
        f" {', '.join(f'{run.elapsed_s:.0f}' for run in crank_runs)} s",
        f"{last.transactions} crank transactions per run ({last.transactions / pools:.0f} per pool); the"
        " reference is what the chain and the client alone sustain one transaction at a time, so the ratio"
        " is the share of the chain's pace the monitor keeps while it also decides, records every step in"
        " PostgreSQL and reads each pool back",
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
            status="measured" if all_done else "failed",
            value=round(value, 2),
            runs=runs,
            reference=Reference(
                f"the local chain and client alone: {CHAIN_CASE}, sent and confirmed one at a time",
                f"python bench/localnet_throughput.py {CHAIN_TRANSACTIONS}",
                round(reference, 1),
            ),
            limits="one core shared by the monitor, the in-process chain (signature checks) and PostgreSQL",
            notes=tuple(notes) if all_done else ("not every pool finished within 50 ticks", *notes),
            details={
                "pools": pools,
                "runs_tx_per_s": [round(run.tx_per_s, 2) for run in crank_runs],
                "chain_runs_tx_per_s": [round(v, 1) for v in chain_runs],
                "transactions": [run.transactions for run in crank_runs],
                "ticks": [run.ticks for run in crank_runs],
                "elapsed_s": [round(run.elapsed_s, 1) for run in crank_runs],
                "setup_s": [round(run.setup_s, 1) for run in crank_runs],
                "pools_per_tick": [round(run.pools_per_tick, 1) for run in crank_runs],
                "first_tick_pools": [run.first_tick_pools for run in crank_runs],
                "longest_tick_s": [round(run.longest_tick_s, 1) for run in crank_runs],
            },
        )
    ]


def crank_short() -> list[Figure]:
    return crank_figure(SHORT_POOLS, CRANK_RUNS)


def crank_long() -> list[Figure]:
    return crank_figure(LONG_POOLS, CRANK_RUNS)
