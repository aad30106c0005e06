"""Where a warm API request spends its time: a diagnostic beside the warm-latency figure, not a figure.

* `statements` (default): for each route, the median per request of the connect through pgBouncer, each
  statement (timed around pg8000's cursor.execute, so a statement's round trip and pg8000's decoding of its
  rows), the commit and the close, and what is left: Python work outside the driver.
* `cprofile ROUTE`: cProfile of ROUTE's requests and the top functions by own and cumulative time. The handler
  runs a request's blocking work on the invoking thread (`missout.blocking.serving_one_request`), so the one
  thread cProfile sees holds all of it.

Same set-up as the figure (bench/api_latency.py). Needs the local stack (`dev/stack.sh start`).
Run: .venv/bin/python -m bench.api_profile [statements|cprofile list|detail|join|health] [requests]
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import api_latency
from bench.api_latency import bare_transaction, expect, join_report
from missout.db.driver import Pg8000Connection
from tests.api.chain_api import invoke

Timeline = list[tuple[str, float]]
_current: Timeline | None = None


def _note(label: str, started: float) -> None:
    if _current is not None:
        _current.append((label, (time.perf_counter() - started) * 1000))


def _timed_method(owner: Any, name: str, label: Callable[..., str]) -> Callable[[], None]:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _note(label(*args, **kwargs), started)

    setattr(owner, name, wrapper)
    return lambda: setattr(owner, name, original)


@contextmanager
def driver_timing() -> Iterator[None]:
    """Time pg8000's connect, execute, commit and close (the whole driver call: I/O plus decoding)."""
    import pg8000.legacy  # what SQLAlchemy's pg8000 dialect uses

    def statement_label(_cursor: Any, operation: str, *args: Any, **kwargs: Any) -> str:
        return " ".join(operation.split())[:48]

    undo = [
        # Our engines build the connection themselves (missout.db.driver), not through pg8000.connect.
        _timed_method(Pg8000Connection, "__init__", lambda *a, **k: "CONNECT"),
        _timed_method(pg8000.legacy.Cursor, "execute", statement_label),
        _timed_method(Pg8000Connection, "commit", lambda *a, **k: "COMMIT"),  # our engines' class
        _timed_method(pg8000.legacy.Connection, "rollback", lambda *a, **k: "ROLLBACK"),
        _timed_method(pg8000.legacy.Connection, "close", lambda *a, **k: "CLOSE"),
    ]
    try:
        yield
    finally:
        for restore in undo:
            restore()


def traced(action: Callable[[], object]) -> tuple[float, Timeline]:
    global _current
    _current = []
    started = time.perf_counter()
    try:
        action()
    finally:
        total = (time.perf_counter() - started) * 1000
        timeline, _current = _current, None
    return total, timeline


def statements_report(actions: dict[str, Callable[[], object]], requests: int) -> None:
    totals: dict[str, list[float]] = defaultdict(list)
    parts: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with driver_timing():
        for _ in range(requests):
            for route, action in actions.items():
                total, timeline = traced(action)
                totals[route].append(total)
                merged: dict[str, float] = defaultdict(float)
                for label, ms in timeline:
                    merged[label] += ms
                for label, ms in merged.items():
                    parts[route][label].append(ms)
                parts[route]["(python outside the driver)"].append(total - sum(merged.values()))
    for route, samples in totals.items():
        print(f"\n{route}: median {statistics.median(samples):.2f} ms over {len(samples)} requests")
        for label, values in parts[route].items():
            print(f"  {statistics.median(values):7.2f} ms  x{len(values) / len(samples):.1f}  {label}")


def cprofile_report(action: Callable[[], object], requests: int) -> None:
    profiler = cProfile.Profile()
    action()  # first-call costs, outside the profile
    profiler.enable()
    for _ in range(requests):
        action()
    profiler.disable()
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(45)
        print(out.getvalue())


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "statements"
    route = sys.argv[2] if mode == "cprofile" else None
    requests = int(sys.argv[-1]) if sys.argv[-1].isdigit() else 50
    with api_latency.api_against_local_chain() as world:
        prepared = api_latency.prepare(world, 2 * requests + 2)
        pending = iter(prepared.pending)
        actions: dict[str, Callable[[], object]] = {
            "bare": bare_transaction,
            "health": lambda: expect(invoke("GET", "/health"), 200),
            "list": lambda: expect(invoke("GET", "/api/pools", query={"limit": "20"}), 200),
            "detail": lambda: expect(invoke("GET", f"/api/pools/{prepared.busy}"), 200),
            "join": lambda: join_report(*next(pending)),
        }
        for action in actions.values():
            action()  # warm-up
        if route is None:
            statements_report(actions, requests)
        else:
            cprofile_report(actions[route], requests)


if __name__ == "__main__":
    main()
