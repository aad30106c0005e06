"""Overlap of durable senders: 10 senders (as 10 overlapping monitor runs) each drive the same 100 pools,
in their own random order with random pauses, through their own RPC client, against one local chain and one
intent table (real PostgreSQL through real pgBouncer). Half the pools need `unlock_pool` (the program's
status guard refuses a second one), half `claim_refund_forfeit` (the program would run it again and again:
only the sender keeps it to one).

Prints how many sends were asked for, what they came to, how many transactions reached the chain, how many
took effect, and the fees spent on duplicates the chain refused. Needs the local stack (`make db-up`); uses a
throw-away database it drops at the end.

Run: .venv/bin/python bench/send_overlap.py [senders] [pools]
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "layers" / "shared"), str(REPO / "dev")]

from solders.instruction import Instruction  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from missout import settings  # noqa: E402
from missout.chain.instructions import build_claim_refund_forfeit, build_unlock_pool  # noqa: E402
from missout.chain.send import DurableSender, SendOutcome, SendPolicy  # noqa: E402
from missout.db import reset_app_engine  # noqa: E402
from tests.chain.send_support import register_pool  # noqa: E402
from tests.support.crank_world import PROGRAM_ID, CrankWorld, Intercept, deadline_in  # noqa: E402
from tests.support.database import migrate  # noqa: E402
from tests.support.engines import local_engine  # noqa: E402
from tests.support.stack import stack_env  # noqa: E402

POLICY = SendPolicy(resend_interval_s=0.05, poll_interval_s=0.01, safety_margin_ms=200)


async def run(senders: int, pool_count: int, world: CrankWorld, engine_url: str) -> None:
    engine = local_engine(engine_url)
    work: list[tuple[int, str, list[Instruction], Pubkey]] = []
    for index in range(pool_count):
        if index % 2 == 0:
            pool = world.full_pool()
            ix = build_unlock_pool(PROGRAM_ID, pool, world.dev.pubkey())
            work.append((register_pool(engine, pool), "unlock_pool", [ix], pool))
        else:
            keys = world.cancelled_pool()
            ix = build_claim_refund_forfeit(PROGRAM_ID, keys, world.treasury.pubkey(), world.dev.pubkey())
            pool_id = register_pool(engine, keys.address, "cancelled")
            work.append((pool_id, "claim_refund_forfeit", [ix], keys.address))
    counts: Counter[str] = Counter()
    rng = random.Random(12)

    async def count(method: str) -> int | None:
        counts[method] += 1
        return None

    async def one_sender(number: int) -> list[SendOutcome]:
        order = list(work)
        rng.shuffle(order)
        outcomes = []
        async with world.rpc(Intercept(world.app, count)) as rpc:
            sender = DurableSender(rpc, world.dev, deadline_in(600), policy=POLICY)
            for pool_id, action, instructions, _ in order:
                await asyncio.sleep(rng.uniform(0, 0.005))
                outcomes.append(await sender.send(pool_id, action, instructions))
        return outcomes

    started = time.perf_counter()
    per_sender = await asyncio.gather(*(one_sender(n) for n in range(senders)))
    elapsed = time.perf_counter() - started

    outcomes = [o for sender_outcomes in per_sender for o in sender_outcomes]
    records = world.chain.history.signatures_for_address(world.dev.pubkey(), limit=1000)
    landed = [r for r in records if r.account_keys[0] == world.dev.pubkey()]
    per_pool: Counter[int] = Counter()
    for pool_id, _, _, address in work:
        per_pool[pool_id] = sum(1 for r in landed if r.err is None and address in r.account_keys)
    refused = [r for r in landed if r.err is not None]
    with engine.begin() as conn:
        intent_rows = conn.execute(
            text("SELECT count(*), count(DISTINCT (pool_id, action)) FROM crank_intents")
        ).one()
    engine.dispose()

    kinds = Counter(o.kind.value for o in outcomes)
    results = Counter(o.result.value for o in outcomes)
    more_than_one = sum(1 for v in per_pool.values() if v > 1)
    unlocks = pool_count - pool_count // 2
    forfeits = pool_count // 2
    print(f"senders {senders}, pools {pool_count} ({unlocks} unlock_pool, {forfeits} claim_refund_forfeit)")
    print(f"sends asked for:                 {len(outcomes)}")
    print("outcomes by kind:                " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("outcomes by result:              " + ", ".join(f"{k} {v}" for k, v in sorted(results.items())))
    print(f"simulations:                     {counts['simulateTransaction']}")
    print(f"sendTransaction requests:        {counts['sendTransaction']}")
    print(f"intent rows (signed attempts):   {intent_rows[0]} for {intent_rows[1]} (pool, action) pairs")
    print(f"transactions landed:             {len(landed)}")
    effects = sum(per_pool.values())
    print(f"effects on chain (successes):    {effects} (pools with more than one: {more_than_one})")
    print(f"refused duplicates landed:       {len(refused)}, fees {sum(r.fee for r in refused)} lamports")
    print(f"fees of the effects:             {sum(r.fee for r in landed if r.err is None)} lamports")
    print(f"wall time:                       {elapsed:.1f} s ({len(outcomes) / elapsed:.1f} sends/s)")


def main() -> None:
    senders = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    pool_count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    env = stack_env()
    name = f"missout_bench_{uuid.uuid4().hex[:10]}"
    admin = local_engine(env["MISSOUT_ADMIN_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        direct = make_url(env["DIRECT_DATABASE_URL"]).set(database=name).render_as_string(hide_password=False)
        pooled = make_url(env["DATABASE_URL"]).set(database=name).render_as_string(hide_password=False)
        migrate(direct)
        os.environ["DATABASE_URL"] = pooled
        settings.clear_caches()
        reset_app_engine()
        asyncio.run(run(senders, pool_count, CrankWorld(b"bench-send-overlap"), direct))
    finally:
        reset_app_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
