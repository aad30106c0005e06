"""Run the same unit of work from many threads at once, released together, and collect every outcome.

Each worker runs its own `transaction()` through the app's engine (pgBouncer in transaction mode, NullPool:
one client connection per transaction), so the races are the ones production sees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from missout.db import app_plan
from missout.db.engine import connect_args_for, guard_against_autocommit
from missout.settings import database_settings

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None
    error: BaseException | None


def run_concurrently(count: int, work: Callable[[int], T], *, threads: int | None = None) -> list[Outcome[T]]:
    """Call `work(0..count-1)` from `threads` threads (default: one per call), all started at one barrier."""
    workers = threads or count
    barrier = threading.Barrier(workers)

    def one(index: int) -> Outcome[T]:
        try:
            return Outcome(work(index), None)
        except Exception as exc:  # the caller counts failures; one thread's error must not hide the others'
            return Outcome(None, exc)

    def lane(lane_index: int) -> list[Outcome[T]]:
        barrier.wait(timeout=30)
        return [one(i) for i in range(lane_index, count, workers)]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        lanes = list(pool.map(lane, range(workers)))
    return [outcome for lane_outcomes in lanes for outcome in lane_outcomes]


def reusing_pooled_engine(size: int) -> Engine:
    """The app's pooled URL with `size` client connections kept open (the app itself keeps none): for tests
    that run thousands of transactions and must not spend their time on connection handshakes."""
    plan = app_plan()
    assert plan.behind_pooler, "this engine is for tests through pgBouncer"
    engine = create_engine(
        plan.url, connect_args=connect_args_for(plan, database_settings()), pool_size=size, max_overflow=0
    )
    guard_against_autocommit(engine)
    return engine
