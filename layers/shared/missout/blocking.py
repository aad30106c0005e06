"""Blocking work (a database transaction, a first-use import) called from async code: one process-wide pool of
worker threads that live as long as the process, or, while one request at a time is served (a Lambda
invocation), the calling thread itself.

Why not FastAPI's own hop (`run_in_threadpool`, anyio's worker threads) for sync routes: anyio ties its idle
workers to the root task of the event loop's run and stops them when that task ends. Under Mangum every
request is its own root task (`run_until_complete` of one ASGI call), so every request started a new thread
and threw it away, a few milliseconds on a warm Lambda (bench/api_profile.py). The threads here outlive the
request, so a warm Lambda reuses the same thread for every request; under uvicorn (`make dev`) the event loop
still never waits on a statement, and at most `MAX_WORKERS` blocking calls run at once, anyio's default too.

`run_blocking` is for async code; `offloaded` turns a sync route into an async one that runs its whole body
here (FastAPI then sees a coroutine and also validates the response without another hop). Nothing else in
the API hands work to threads.

A worker runs the call in a copy of the caller's context variables (as anyio does), so logging context
follows the request. If the awaiting task is cancelled (a server shutting down), the call still runs to its
end in its thread: a transaction commits or rolls back there, never half-way.

Inside `serving_one_request()` (the Lambda handler wraps each invocation in it) the call runs at once on the
calling thread, in the same copy of the context. A Lambda execution environment serves one request at a
time and nothing else runs on its event loop (the API starts no task of its own), so the loop has nothing to
serve while the statement waits; the hop to a worker and back only cost time: about 0.3 ms of CPU per request
on this machine (paired A/B through the handler, bench/api_profile.py's set-up), a fifth of a pool list's
Python outside the driver.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

MAX_WORKERS = 40  # anyio's default limit on concurrent worker threads, which the routes had before
THREAD_NAME_PREFIX = "missout-blocking"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()

# Set for the block of `serving_one_request`, and so for the tasks started in it (a task copies the context).
_one_request = contextvars.ContextVar("missout_blocking_one_request", default=False)


def _workers() -> ThreadPoolExecutor:
    # Created on first use: importing the API (and a SnapStart snapshot) starts no thread.
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix=THREAD_NAME_PREFIX)
    return _executor


@contextmanager
def serving_one_request() -> Iterator[None]:
    """While this block runs, the event loop serves one request and nothing else (a Lambda invocation):
    `run_blocking` runs its calls on the calling thread instead of a worker (see the module doc)."""
    token = _one_request.set(True)
    try:
        yield
    finally:
        _one_request.reset(token)


async def run_blocking(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` on a persistent worker thread; the event loop serves others meanwhile. Inside
    `serving_one_request()`, on the calling thread: there is nobody else to serve."""
    context = contextvars.copy_context()
    if _one_request.get():
        return context.run(func, *args, **kwargs)
    call = functools.partial(context.run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_workers(), call)


def offloaded(func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """A sync route as an async one whose body runs through `run_blocking`. The signature, name and doc stay
    the route's (`functools.wraps`), so FastAPI injects the same parameters and the OpenAPI schema is
    unchanged."""

    @functools.wraps(func)
    async def in_worker(*args: P.args, **kwargs: P.kwargs) -> T:
        return await run_blocking(func, *args, **kwargs)

    return in_worker
