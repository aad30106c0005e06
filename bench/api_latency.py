"""In-process latency of the API's main routes through the real Lambda handler (API Gateway v2 events),
next to one bare transaction through pgBouncer measured in the same run, so the ratios say what a route
costs beyond its unavoidable database round trip.

* list:   GET /api/pools?limit=20 over 40 recorded pools
* detail: GET /api/pools/{address} of a pool with 20 participants and its activity
* join:   POST /api/pools/{address}/join of a join that landed on the local chain (served over HTTP from a
          thread of this process): verify at finalized, read the pool's accounts, record in one transaction
* health: GET /health (one probe transaction: SELECT current_setting('server_version'))
* bare:   BEGIN; SET LOCAL ...; SELECT 1; COMMIT through pgBouncer, as `transaction()` runs it (the BEGIN
          and SET LOCAL ride with the SELECT: missout/db/driver.py)
* join_rpc: the RPC requests a join report must make, and only those, on an RPC session kept open (the
          join's own floor): getTransaction of the join, then the pool's accounts (`read_pool_state`,
          one call given the mint and vault, as the route reads them)

Needs the local stack (`make db-up`); uses a throw-away database, dropped at the end.
Run: .venv/bin/python bench/api_latency.py [samples]   (default 100); `make bench` takes its warm latency
figures from `measure` below.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "dev"), str(ROOT / "layers/shared"), str(ROOT / "functions/api")]

import pytest  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.signature import Signature  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from local_lambda import lambda_context  # noqa: E402
from missout import settings  # noqa: E402
from missout.db import reset_app_engine  # noqa: E402
from missout.db.transaction import transaction  # noqa: E402
from missout.pools.chain_state import PoolTokenKeys, read_pool_state  # noqa: E402
from missout.wiring import chain_wiring  # noqa: E402
from tests.api.chain_api import Answer, api_event, invoke, served_world  # noqa: E402
from tests.support.database import migrate  # noqa: E402
from tests.support.engines import local_engine  # noqa: E402
from tests.support.stack import stack, stack_env  # noqa: E402
from tests.support.verify_world import VerifyWorld  # noqa: E402

SERIES = ("bare", "health", "list", "detail", "join", "join_rpc")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def timed_request(
    method: str,
    path: str,
    status: int,
    *,
    query: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
) -> float:
    """The handler's time alone: Lambda hands it an event already parsed and serializes its answer itself,
    so building the event and checking the answer stay outside the timing."""
    from missout_api.handler import handler

    event, context = api_event(method, path, body=body, query=query), lambda_context("api", 29)
    started = time.perf_counter()
    response = handler(event, context)
    elapsed = (time.perf_counter() - started) * 1000
    if response["statusCode"] != status:
        raise SystemExit(f"unexpected answer {response['statusCode']}: {response.get('body')}")
    return elapsed


def expect(answer: Answer, *statuses: int) -> Answer:
    if answer.status not in statuses:
        raise SystemExit(f"unexpected answer {answer.status}: {answer.body}")
    return answer


def bare_transaction() -> None:
    with transaction() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def report_create(world: VerifyWorld, max_participants: int) -> Pubkey:
    creator = world.wallet()  # one creator per pool: a single wallet's tokens run out after ~50 creates
    signature, pool = world.create_pool(creator, max_participants=max_participants)
    body = {"pool": str(pool), "signature": signature, "wallet": str(creator.pubkey())}
    expect(invoke("POST", "/api/pools", body=body), 201)
    return pool


@dataclass(frozen=True)
class Prepared:
    """What the timed requests read and report: the busy pool (20 participants) and joins that landed on the
    chain but are not reported yet (pool, signature, wallet)."""

    busy: Pubkey
    pending: list[tuple[str, str, str]]


def prepare(world: VerifyWorld, joins: int) -> Prepared:
    """40 recorded pools, one of them full of reported joins, and `joins` unreported joins on the chain."""
    pools = [report_create(world, 20) for _ in range(40)]
    busy = pools[0]
    for _ in range(19):
        player = world.wallet()
        join = world.join(busy, player)
        expect(
            invoke(
                "POST", f"/api/pools/{busy}/join", body={"signature": join, "wallet": str(player.pubkey())}
            ),
            201,
        )

    # Joins for the measured reports land first (outside the timing), 19 per pool.
    pending: list[tuple[str, str, str]] = []
    while len(pending) < joins:
        pool = report_create(world, 20)
        for _ in range(19):
            player = world.wallet()
            pending.append((str(pool), world.join(pool, player), str(player.pubkey())))
    return Prepared(busy, pending)


def join_report(pool: str, signature: str, wallet: str) -> float:
    return timed_request(
        "POST", f"/api/pools/{pool}/join", 201, body={"signature": signature, "wallet": wallet}
    )


class JoinRpcFloor:
    """The chain reads a join report cannot avoid, on its own event loop and one RPC session for the whole
    run (so no client set-up is timed: that is the route's cost, not the chain's)."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()  # not the thread's current loop: the handler keeps that one
        self._wiring = chain_wiring()
        self._session = self._wiring.rpc.session()
        self._rpc = self._loop.run_until_complete(self._session.__aenter__())
        self._token_keys: dict[str, PoolTokenKeys] = {}

    def learn(self, pools: Iterable[str]) -> None:
        """Untimed: each pool's mint and vault. The route takes them from the verified transaction, so its
        pool read is one `getMultipleAccounts` (missout/pools/chain_state.py), and so does the floor."""
        program_id = self._wiring.program.program_id
        for pool in set(pools) - self._token_keys.keys():
            state = self._loop.run_until_complete(
                read_pool_state(self._rpc, program_id, Pubkey.from_string(pool))
            )
            self._token_keys[pool] = PoolTokenKeys(state.pool.mint, state.vault)

    def reads(self, pool: str, signature: str) -> None:
        async def both() -> None:
            await self._rpc.get_transaction(Signature.from_string(signature))
            await read_pool_state(
                self._rpc,
                self._wiring.program.program_id,
                Pubkey.from_string(pool),
                expected=self._token_keys[pool],
            )

        self._loop.run_until_complete(both())

    def close(self) -> None:
        self._loop.run_until_complete(self._session.__aexit__(None, None, None))
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())  # closes this loop's RPC clients
        self._loop.close()


def run(world: VerifyWorld, samples: int, runs: int = 1) -> list[dict[str, list[float]]]:
    """`runs` interleaved runs of `samples` requests per series; returns each run's samples in ms."""
    prepared = prepare(world, samples * runs + 1)
    busy, pending = prepared.busy, prepared.pending
    floor = JoinRpcFloor()
    try:
        return _timed_runs(busy, pending, floor, samples, runs)
    finally:
        floor.close()


def _timed_runs(
    busy: Pubkey, pending: list[tuple[str, str, str]], floor: JoinRpcFloor, samples: int, runs: int
) -> list[dict[str, list[float]]]:
    # Warm-up: imports, the engine, the RPC pool, codec caches.
    bare_transaction()
    expect(invoke("GET", "/health"), 200)
    expect(invoke("GET", "/api/pools", query={"limit": "20"}), 200)
    expect(invoke("GET", f"/api/pools/{busy}"), 200)
    join_report(*pending.pop())
    floor.learn(pool for pool, _signature, _wallet in pending)
    floor.reads(*pending[-1][:2])

    measured: list[dict[str, list[float]]] = []
    for run_index in range(runs):
        results: dict[str, list[float]] = {name: [] for name in SERIES}
        for n in range(run_index * samples, (run_index + 1) * samples):
            # Interleaved, so load on this shared machine hits every series alike.
            results["bare"].append(timed(bare_transaction))
            results["health"].append(timed_request("GET", "/health", 200))
            results["list"].append(timed_request("GET", "/api/pools", 200, query={"limit": "20"}))
            results["detail"].append(timed_request("GET", f"/api/pools/{busy}", 200))
            results["join_rpc"].append(timed(lambda n=n: floor.reads(*pending[n][:2])))  # type: ignore[misc]
            results["join"].append(join_report(*pending[n]))
        measured.append(results)
    return measured


@contextmanager
def api_against_local_chain() -> Iterator[VerifyWorld]:
    """A throw-away database migrated to head, the API pointed at it through pgBouncer (rate limits lifted),
    and a served local chain. Needs the stack up; everything is undone on exit."""
    env = stack_env()
    name = f"missout_bench_{uuid.uuid4().hex[:8]}"
    admin = local_engine(env["MISSOUT_ADMIN_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    patch = pytest.MonkeyPatch()
    try:
        migrate(make_url(env["DIRECT_DATABASE_URL"]).set(database=name).render_as_string(hide_password=False))
        pooled = make_url(env["DATABASE_URL"]).set(database=name).render_as_string(hide_password=False)
        patch.setenv("DATABASE_URL", pooled)
        patch.delenv("DATABASE_URL_SECRET_ARN", raising=False)
        patch.setenv("API_RATE_LIMIT_PER_IP", "1000000")
        patch.setenv("API_RATE_LIMIT_PER_WALLET", "1000000")
        settings.clear_caches()
        reset_app_engine()
        with served_world(patch, seed=b"bench-api") as world:
            yield world
    finally:
        reset_app_engine()
        patch.undo()
        settings.clear_caches()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(samples: int, runs: int) -> list[dict[str, list[float]]]:
    """The figure function's entry (bench/figures/warm_latency.py): the stack must already be up."""
    with api_against_local_chain() as world:
        return run(world, samples, runs)


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    already_up = stack("status", check=False).returncode == 0
    if not already_up:
        stack("start")
    try:
        (results,) = measure(samples, 1)
    finally:
        if not already_up:
            stack("stop", check=False)
    bare_p50, bare_p95 = percentiles(results["bare"])
    print(f"{'route':<8} {'p50 ms':>9} {'p95 ms':>9} {'p50 / bare':>11} {'p95 / bare':>11}   (n={samples})")
    for name in SERIES:
        p50, p95 = percentiles(results[name])
        print(f"{name:<8} {p50:9.2f} {p95:9.2f} {p50 / bare_p50:11.1f} {p95 / bare_p95:11.1f}")


if __name__ == "__main__":
    main()
