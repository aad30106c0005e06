"""One pooled connection for the transactions of one unit of work, instead of one per transaction.

Behind pgBouncer the app keeps no pool (engine.py: NullPool), so every `transaction()` used to open its own
connection: a TCP connect and a SCRAM login, which PBKDF2 makes the dearest part of a short transaction on
both sides (docs/PERFORMANCE.md). A request that reads, asks the chain, then writes (a join report) paid it
twice, and a monitor tick once per intent, outcome and record. Inside `connection_scope()` (an API request, a
monitor tick), transactions share one connection, opened at the first of them and closed when the scope
ends. A transaction on another engine than the connection's swaps it for one of that engine.

Why this stays safe behind a transaction pooler:
- **Nothing stays pinned between transactions.** pgBouncer in transaction mode hands the server connection
  back at each COMMIT; between two transactions the client connection holds no server connection, so keeping
  it open across an RPC call holds nothing but the client slot a request has anyway. Each transaction sets
  its own `SET LOCAL` timeouts, and no session state exists to carry over (transaction.py).
- **Never two transactions at once on it.** A transaction that starts while another holds the scope's
  connection (two blocking calls run concurrently) gets a connection of its own, as without a scope.
- **A failed transaction drops the connection.** Whatever went wrong (a reset socket, a killed pooler, a
  constraint), the next transaction of the scope opens a new connection, so a retry never reuses a
  connection in an unknown state.
- **The scope ends with the request or the tick.** The connection is closed before the handler returns, so no
  socket is left open in a frozen Lambda or a SnapStart snapshot.

The scope lives in a context variable: `missout.blocking` runs blocking work in a copy of the caller's
context, and asyncio gives each task a copy too, so the worker threads of one request and the per-pool tasks
of one tick find its scope.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from sqlalchemy.engine import Connection, Engine

_current: ContextVar[ConnectionScope | None] = ContextVar("missout_connection_scope", default=None)


class ConnectionScope:
    def __init__(self) -> None:
        self._connection: Connection | None = None
        self._in_use = threading.Lock()  # held by the transaction running on the connection
        self._state = threading.Lock()  # orders a transaction's end against the scope's end
        self._ended = threading.Event()
        self.connects = 0  # how many connections this scope opened (one, unless a transaction failed)

    @contextlib.contextmanager
    def begin(self, engine: Engine) -> Iterator[Connection]:
        """A transaction on the scope's connection (opened now if there is none), or, while that connection
        is in use or after the scope ended, on a connection of its own. The connection is dropped if the
        block raises."""
        if self._ended.is_set() or not self._in_use.acquire(blocking=False):
            with engine.begin() as own:
                yield own
            return
        try:
            connection = self._open(engine)
            try:
                with connection.begin():
                    yield connection
            except BaseException:
                self._drop()
                raise
        finally:
            with self._state:
                if self._ended.is_set():  # the scope ended while this ran (a worker outliving its request)
                    self._drop()
                self._in_use.release()

    def close(self) -> None:
        """Close the scope's connection now, or, if a transaction is still running on it, when that ends:
        never waits for it (the API closes its scope on the event loop)."""
        with self._state:
            self._ended.set()
            if self._in_use.acquire(blocking=False):
                try:
                    self._drop()
                finally:
                    self._in_use.release()

    def _open(self, engine: Engine) -> Connection:
        if self._connection is None or self._connection.engine is not engine:
            self._drop()
            self._connection = engine.connect()
            self.connects += 1
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a dead socket cannot close cleanly; it is gone anyway
                connection.close()


def current_scope() -> ConnectionScope | None:
    return _current.get()


@contextlib.contextmanager
def connection_scope() -> Iterator[ConnectionScope]:
    """Share one connection among the transactions run until the block ends (then it is closed). Inside
    another scope this one is that scope: the outer one's end closes the connection."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    scope = ConnectionScope()
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
        scope.close()
