"""Warm latency: the real API handler (Mangum -> FastAPI -> SQLAlchemy -> pgBouncer -> PostgreSQL) called in
process with API Gateway v2 events, against one bare pgBouncer transaction (pg8000 connect, one query,
close) from the same run. Requests and bare transactions alternate, so both see the same machine load.

The handler logs at INFO, as in production; its log lines go to /dev/null while timing (they are written,
so their cost is in the figure).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pg8000.native
from sqlalchemy.engine import make_url

from bench.environment import BenchEnvironment
from bench.harness import Figure, Reference, median, not_measurable, percentile

REPO = Path(__file__).resolve().parents[2]
RUNS = 3
REQUESTS_PER_RUN = 100
TARGET_RATIO = 1.5


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def bare_transaction(url: str) -> Callable[[], None]:
    parsed = make_url(url)

    def once() -> None:
        conn = pg8000.native.Connection(
            parsed.username or "",
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            database=parsed.database,
            password=parsed.password,
            ssl_context=False,
        )
        conn.run("SELECT 1")  # no parameters: one simple-protocol message, safe behind transaction pooling
        conn.close()

    return once


def event(name: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = json.loads((REPO / "events" / name).read_text())
    result = copy.deepcopy(base)
    result.update(changes)
    return result


def timed(calls: list[Callable[[], None]], rounds: int) -> list[list[float]]:
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            started = time.perf_counter()
            call()
            samples[index].append((time.perf_counter() - started) * 1000)
    return samples


def percentiles(samples: list[float]) -> dict[str, float]:
    return {f"p{q}": round(percentile(samples, q), 2) for q in (50, 95, 99)}


def _point_app_at(url: str) -> None:
    from missout import settings
    from missout.db import reset_app_engine

    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_URL_SECRET_ARN", None)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
    settings.clear_caches()
    reset_app_engine()


def warm_routes() -> list[Figure]:
    env = BenchEnvironment.shared()
    env.pool_ids  # noqa: B018 - seeds the pools the list reads
    _point_app_at(env.pooled_url)
    from local_lambda import lambda_context
    from missout_api.handler import handler

    context = lambda_context("api", 29)
    query = {"limit": "20", "status": "open"}
    routes: dict[str, tuple[str, dict[str, Any]]] = {
        "list": (
            "GET /api/pools?limit=20&status=open",
            event("api_get_pools.json", rawQueryString="limit=20&status=open", queryStringParameters=query),
        ),
        "health": ("GET /health", event("api_get_health.json")),
    }  # fmt: skip

    def request(ev: dict[str, Any]) -> Callable[[], None]:
        def once() -> None:
            response = handler(ev, context)
            if response["statusCode"] != 200:
                raise RuntimeError(
                    f"{ev['rawPath']} answered {response['statusCode']}: {response['body'][:200]}"
                )

        return once

    calls = [request(ev) for _, ev in routes.values()]
    bare = bare_transaction(env.pooled_url)
    per_run: list[list[dict[str, float]]] = []
    with stdout_to_devnull():
        timed([*calls, bare], 20)  # warm-up: first connect, dialect initialisation, route compilation
        for _ in range(RUNS):
            per_run.append([percentiles(s) for s in timed([*calls, bare], REQUESTS_PER_RUN)])
    bare_p = {q: median([run[-1][q] for run in per_run]) for q in ("p50", "p95", "p99")}
    figures = []
    for index, (route, (command, _)) in enumerate(routes.items()):
        ours = {q: median([run[index][q] for run in per_run]) for q in ("p50", "p95", "p99")}
        figures.append(
            Figure(
                id=f"warm.{route}",
                group="warm latency",
                name=f"API handler in process, {command}",
                command=f"handler(<API Gateway v2 event {command}>) in process, through pgBouncer",
                unit="ms p95",
                status="measured",
                value=ours["p95"],
                runs=RUNS,
                reference=Reference(
                    "bare pgBouncer transaction p95",
                    "pg8000.native: connect through pgBouncer, SELECT 1, close",
                    bare_p["p95"],
                ),
                target=f"ratio <= {TARGET_RATIO}",
                target_met=ours["p95"] / bare_p["p95"] <= TARGET_RATIO,
                limits=(
                    "one core: the Python work per request (routing, validation, serialisation, SQLAlchemy) "
                    "plus the SCRAM login of a fresh pooled connection, which NullPool pays on every request"
                ),
                notes=(
                    f"{REQUESTS_PER_RUN} requests per run, {RUNS} runs; medians of the runs' percentiles",
                ),
                details={"ours": ours, "bare_pgbouncer": bare_p, "per_run": per_run},
            )
        )
    return figures


def routes_waiting() -> list[Figure]:
    """Detail and join: the routes come with issue 15. The reason says whether the route exists yet, so a
    landed route without its figure shows up here instead of passing unnoticed."""
    from missout_api.app import create_app

    paths = {getattr(r, "path", "") for r in create_app().routes}
    detail = any(p.startswith("/api/pools/{") for p in paths)
    return [
        not_measurable(
            "warm.detail",
            "warm latency",
            "API handler, pool detail",
            "route exists but has no figure yet"
            if detail
            else "not yet measurable: issue 15 (no detail route)",
        ),
        not_measurable(
            "warm.join",
            "warm latency",
            "API handler, reported join",
            "not yet measurable: issue 15 (no join route; needs the local chain to prove the join)",
        ),
    ]
