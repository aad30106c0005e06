"""Where the API's blocking work runs (`missout.blocking`): in a Lambda invocation, on the invoking thread
(one request per invocation: no hop to a worker, no thread started); under an ASGI server, on worker threads
that outlive the request, never on the event loop (uvicorn keeps serving while a statement waits); with the
request's context variables, and with the same answers as before (problem+json, 503 for the database)."""

from __future__ import annotations

import asyncio
import contextvars
import socket
import threading

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from missout import settings
from missout.blocking import THREAD_NAME_PREFIX, run_blocking, serving_one_request
from missout.db import app_engine, reset_app_engine
from missout_api.app import create_app
from tests.api.chain_api import invoke
from tests.support.database import TestDatabase
from tests.support.factories import insert_mint, insert_pool, key

MISSING_POOL = "11111111111111111111111111111111"


@pytest.fixture
def started_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads started while the test runs (every `Thread.start`, anyio's and ours)."""
    names: list[str] = []
    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        names.append(thread.name)
        original(thread)

    monkeypatch.setattr(threading.Thread, "start", start)  # undone by monkeypatch after the test
    return names


def test_a_lambda_invocation_runs_its_blocking_work_on_the_invoking_thread(
    app_database: TestDatabase, direct_engine: Engine, started_threads: list[str]
) -> None:
    insert_mint(direct_engine)
    insert_pool(direct_engine, pool_address=key(900))
    statement_threads: list[threading.Thread] = []
    event.listen(app_engine(), "before_cursor_execute", lambda *_: statement_threads.append(_current()))
    paths = ["/health", "/api/pools", f"/api/pools/{key(900)}", f"/api/pools/{MISSING_POOL}"]

    statuses = [invoke("GET", path).status for _ in range(10) for path in paths]

    assert statuses == [200, 200, 200, 404] * 10
    # Before: anyio started (and stopped) one "AnyIO worker thread" per request under Mangum, 40 here; then a
    # worker pool took every request's blocking work across a thread hop. Now none is started at all.
    assert started_threads == []
    assert statement_threads, "no statement was seen"
    assert set(statement_threads) == {_current()}


def _current() -> threading.Thread:
    return threading.current_thread()


def test_blocking_database_work_never_holds_the_event_loop(
    app_database: TestDatabase, direct_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under an ASGI server (one event loop, many clients): a read stuck on a row lock must not stop another
    request from being answered meanwhile. If the read ran on the loop, /health could not start until the
    lock wait gave up (10 s here), and the read would end as a 503."""
    monkeypatch.setenv("DATABASE_LOCK_TIMEOUT_MS", "10000")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "20000")
    settings.clear_caches()
    reset_app_engine()
    app = create_app()

    with direct_engine.connect() as locker:
        # Every counted read upserts its rate-limit row; this lock makes that upsert wait (SELECTs still run).
        locker.execute(text("LOCK TABLE rate_limit_hits IN EXCLUSIVE MODE"))

        async def scenario() -> tuple[int, bool, int]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
                stuck = asyncio.create_task(client.get("/api/pools"))
                await asyncio.wait_for(_until_a_backend_waits_on_a_lock(direct_engine), 9)
                health = await asyncio.wait_for(client.get("/health"), 9)
                stuck_meanwhile = not stuck.done()
                await asyncio.to_thread(locker.rollback)
                read = await asyncio.wait_for(stuck, 10)
                return health.status_code, stuck_meanwhile, read.status_code

        health, stuck_meanwhile, read = asyncio.run(scenario())

    assert health == 200
    assert stuck_meanwhile, "the read finished before the lock was released"
    assert read == 200


async def _until_a_backend_waits_on_a_lock(engine: Engine) -> None:
    def waiting() -> int:
        with engine.connect() as conn:
            count: int = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one()
            return count

    for _ in range(180):  # the caller's wait_for bounds it too
        if await asyncio.to_thread(waiting):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no request ever waited on the lock")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: a connect to it is refused


def test_a_read_through_the_handler_answers_503_problem_when_the_database_is_unreachable(
    app_database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql+pg8000://nobody:nothing@127.0.0.1:{_closed_port()}/none")
    settings.clear_caches()
    reset_app_engine()

    for path in ("/api/pools", f"/api/pools/{MISSING_POOL}"):
        answer = invoke("GET", path)
        assert answer.status == 503
        assert answer.problem()["dependency"] == "database"
        assert answer.headers["retry-after"] == "5"


def test_run_blocking_carries_the_callers_context_variables() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    async def in_request() -> tuple[str, str]:
        request_id.set("req-42")
        return await run_blocking(lambda: (request_id.get(), threading.current_thread().name))

    seen, thread = asyncio.run(in_request())
    assert seen == "req-42"
    assert thread.startswith(THREAD_NAME_PREFIX)


def test_serving_one_request_runs_the_call_on_the_calling_thread_in_a_copy_of_the_context() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    def call() -> tuple[str, threading.Thread]:
        seen = request_id.get()
        request_id.set("changed by the call")  # stays in the call's copy, as on a worker
        return seen, _current()

    async def in_request() -> tuple[str, threading.Thread, str]:
        request_id.set("req-42")
        with serving_one_request():
            seen, thread = await run_blocking(call)
        return seen, thread, request_id.get()

    seen, thread, after = asyncio.run(in_request())
    assert (seen, thread, after) == ("req-42", _current(), "req-42")


def test_a_cancelled_caller_does_not_cut_the_blocking_call_short() -> None:
    """A server shutting down cancels its tasks; the call in the worker (a transaction) still ends
    normally."""
    release, finished = threading.Event(), threading.Event()

    def slow() -> None:
        release.wait(10)
        finished.set()

    async def cancel_midway() -> bool:
        task = asyncio.create_task(run_blocking(slow))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return finished.is_set()

    finished_before_release = asyncio.run(cancel_midway())
    release.set()
    assert not finished_before_release
    assert finished.wait(10)
