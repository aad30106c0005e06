"""The join load spread over several processes, as separate Lambda instances are: each worker process owns
one `Lane` of a seeded set-up (its pools and the model chain over them, its wallets and signatures) and runs
its share of the clients as threads of its own interpreter. The connection storm uses it so that its
clients get as many processes as pgbench gets threads; with one lane it is the single-process load.

Workers are spawned, never forked (the parent may already hold threads and engines), build their plan once
and serve one run after another, so their model chains go on from where the last run left the pools. In a
run every worker builds its engine for the run's URL, makes one transaction (a warm instance has already
paid its dialect's first connect), starts its client threads waiting, and says it is ready; once every
worker is ready the parent hands all of them the same deadline, and the common window starts. A worker that
raises, dies or stays silent past its timeout stops every worker, and the parent raises
`ClientProcessFailed`; no worker outlives `stop()` (asked, then terminated, then killed).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from sqlalchemy import text

from missout.db.connection_plan import plan_connection
from missout.db.engine import build_engine
from missout.db.transaction import transaction
from missout.settings import DatabaseSettings
from tests.reliability.workload import JoinPlan, Lane, Load, Tally
from tests.support.engines import local_engine

READY_TIMEOUT_S = 180.0  # spawn, imports and the model chain's read of its pools, on a loaded machine
DRAIN_TIMEOUT_S = 180.0  # after the deadline: the requests in flight and queued (1,000 clients: ~15 s)
STOP_TIMEOUT_S = 10.0  # for a worker to finish its run and leave when asked, before it is terminated


class ClientProcessFailed(RuntimeError):
    """A worker raised, died or stayed silent; every worker has been stopped."""


class _Stopped(Exception):
    """The parent said stop instead of go."""


@dataclass(frozen=True)
class LaneRun:
    """One worker's share of a run."""

    lane: int
    clients: int
    tally: Tally
    ended_at: float  # perf_counter() once its last client finished
    cpu_s: float  # the process's CPU time (every thread, user and system) from its release to its end


@dataclass(frozen=True)
class SpreadRun:
    """A run over every worker: their answers added up, over the window they share."""

    started_at: float  # perf_counter() when the parent released every worker
    lanes: tuple[LaneRun, ...]
    tally: Tally  # every lane's answers, merged

    @property
    def ended_at(self) -> float:
        return max(lane.ended_at for lane in self.lanes)

    @property
    def window_s(self) -> float:
        """From the common start until the last client of the last worker finished."""
        return self.ended_at - self.started_at

    @property
    def tps(self) -> float:
        return len(self.tally.committed) / self.window_s

    @property
    def client_cores(self) -> float:
        """CPU the client processes burnt per second of the window: what they took from the servers."""
        return sum(lane.cpu_s for lane in self.lanes) / self.window_s


def shares(clients: int, workers: int) -> list[int]:
    """`clients` split over `workers` as evenly as whole clients go (the first ones take the remainder)."""
    return [clients // workers + (1 if i < clients % workers else 0) for i in range(workers)]


def _run(
    pipe: Connection, plan: JoinPlan, url: str, clients: int, connect_timeout_s: float
) -> tuple[Tally, float]:
    settings = DatabaseSettings(url=url, pgbouncer="true", connect_timeout_s=connect_timeout_s)
    engine = build_engine(plan_connection(url, pgbouncer="true"), settings)
    try:
        with transaction(engine, settings) as conn:
            conn.execute(text("SELECT 1"))
        load = Load(engine, settings, plan, clients)
        pipe.send(("ready", None))
        order, deadline = pipe.recv()
        if order != "go":
            load.start(0.0)  # a deadline long past: every client leaves without a request
            load.finish()
            raise _Stopped
        cpu = time.process_time()
        load.start(deadline)
        tally = load.finish()
        return tally, time.process_time() - cpu
    finally:
        engine.dispose()


def _worker(pipe: Connection, direct_url: str, lane: Lane) -> None:
    """A worker process's main: its plan, then one run per order until told to stop."""
    try:
        reader = local_engine(direct_url)
        try:
            plan = JoinPlan(reader, lane)
        finally:
            reader.dispose()
        pipe.send(("planned", None))
        while True:
            order, arguments = pipe.recv()
            if order != "run":
                return
            url, clients, connect_timeout_s = arguments
            tally, cpu_s = _run(pipe, plan, url, clients, connect_timeout_s)
            pipe.send(("result", LaneRun(lane.index, clients, tally, time.perf_counter(), cpu_s)))
    except (_Stopped, EOFError):
        return  # told to stop, or the parent is gone and nobody is left to answer
    except BaseException:
        with contextlib.suppress(OSError):
            pipe.send(("failed", traceback.format_exc()))
        raise


class ClientProcesses:
    """One spawned worker per lane, for the life of a `with` block."""

    def __init__(self, direct_url: str, lanes: Sequence[Lane]) -> None:
        if not lanes:
            raise ValueError("at least one lane")
        self.lanes = tuple(lanes)
        self.processes: list[BaseProcess] = []
        self._direct_url = direct_url
        self._pipes: list[Connection] = []
        self._stopped = False

    @property
    def pool_ids(self) -> list[int]:
        return [pool_id for lane in self.lanes for pool_id in lane.pool_ids]

    def __enter__(self) -> ClientProcesses:
        context = multiprocessing.get_context("spawn")
        try:
            for lane in self.lanes:
                ours, theirs = context.Pipe()
                process = context.Process(
                    target=_worker,
                    args=(theirs, self._direct_url, lane),
                    name=f"join-clients-{lane.index}",
                    daemon=True,  # and if this process dies first, multiprocessing ends them at its exit
                )
                self.processes.append(process)
                self._pipes.append(ours)
                process.start()
                theirs.close()
            self._gather("planned", READY_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def run(self, url: str, *, clients: int, duration_s: float, connect_timeout_s: float) -> SpreadRun:
        """`clients` spread over the workers, all released at once and sending joins to `url` for
        `duration_s`; every worker's answers, merged."""
        if self._stopped:
            raise ClientProcessFailed("the client processes were stopped")
        split = shares(clients, len(self.lanes))
        try:
            for i, share in enumerate(split):
                self._send(i, ("run", (url, share, connect_timeout_s)))
            self._gather("ready", READY_TIMEOUT_S)
            started = time.perf_counter()
            for i in range(len(self._pipes)):
                self._send(i, ("go", started + duration_s))
            lanes: list[LaneRun] = self._gather("result", duration_s + DRAIN_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        return SpreadRun(started, tuple(lanes), Tally.merged(lane.tally for lane in lanes))

    def _send(self, i: int, message: tuple[str, Any]) -> None:
        try:
            self._pipes[i].send(message)
        except OSError as exc:  # its end of the pipe is closed: the process is gone
            raise ClientProcessFailed(f"client process {i} is gone ({exc})") from None

    def _gather(self, expected: str, timeout_s: float) -> list[Any]:
        """One `expected` answer from every worker, in lane order. A failure report, a dead worker or the
        timeout raises `ClientProcessFailed` (the caller stops the rest)."""
        answers: dict[int, Any] = {}
        until = time.monotonic() + timeout_s
        while len(answers) < len(self._pipes):
            pipes = {id(pipe): i for i, pipe in enumerate(self._pipes) if i not in answers}
            sentinels = {self.processes[i].sentinel: i for i in pipes.values()}
            remaining = until - time.monotonic()
            if remaining <= 0:
                silent = sorted(pipes.values())
                raise ClientProcessFailed(f"no {expected!r} from client processes {silent} in {timeout_s} s")
            for ready in wait([self._pipes[i] for i in pipes.values()] + list(sentinels), remaining):
                if isinstance(ready, int):
                    i = sentinels[ready]
                    if i in answers or self._pipes[i].poll():
                        continue  # it answered before it ended: the pipe is read below or next round
                    code = self.processes[i].exitcode
                    raise ClientProcessFailed(f"client process {i} died (exit code {code})")
                assert isinstance(ready, Connection)
                i = pipes[id(ready)]
                try:
                    kind, value = ready.recv()
                except EOFError:
                    raise ClientProcessFailed(f"client process {i} closed its pipe") from None
                if kind == "failed":
                    raise ClientProcessFailed(f"client process {i} failed:\n{value}")
                if kind != expected:
                    raise ClientProcessFailed(f"client process {i} answered {kind!r}, not {expected!r}")
                answers[i] = value
        return [answers[i] for i in range(len(self._pipes))]

    def stop(self) -> None:
        """Every worker ends: asked first (one in a run finishes it), then terminated, then killed."""
        if self._stopped:
            return
        self._stopped = True
        for pipe in self._pipes:
            with contextlib.suppress(OSError):
                pipe.send(("stop", None))
        until = time.monotonic() + STOP_TIMEOUT_S
        for process in self.processes:
            if process.pid is not None:
                process.join(max(0.0, until - time.monotonic()))
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                process.terminate()
                process.join(5.0)
            if process.pid is not None and process.is_alive():
                process.kill()
                process.join()
        for pipe in self._pipes:
            pipe.close()
