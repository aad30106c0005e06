"""A connection reset in the middle of a statement is `DatabaseUnavailable`, never a raw socket error.

The app talks to the real pgBouncer through a TCP relay this test owns; the relay resets the client side of
every connection (RST, as a pooler or load balancer that drops a connection does) while a statement runs."""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from missout import settings
from missout.db import DatabaseUnavailable, reset_app_engine, transaction
from tests.support.database import TestDatabase

pytestmark = pytest.mark.integration


class ResettingRelay:
    """127.0.0.1:<port> -> `target`, byte for byte, until `reset_clients()` aborts every client connection.

    One thread per connection relays both directions with `select`, so the thread that owns a socket is the
    one that aborts it (a socket closed while another thread sits in `recv` on it is not really closed)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._resets = 0  # bumped by reset_clients(); each connection aborts when it sees a new value
        self._live = 0
        # When set, a new connection is aborted as soon as its first bytes (the startup packet) arrive: a
        # pooler that accepts and then drops the connection while the client waits for its answer.
        self.reset_new_connections = False
        # When set, the next bytes any client sends are not relayed: its connection is aborted instead.
        self.reset_on_next_client_message = threading.Event()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _relay(self, client: socket.socket) -> None:
        if self.reset_new_connections:
            with contextlib.suppress(OSError):
                client.recv(65536)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            return
        upstream = socket.create_connection(self._target)
        with self._lock:
            generation = self._resets
            self._live += 1
        peer = {client: upstream, upstream: client}
        aborted = False
        try:
            while not aborted:
                ready, _, _ = select.select([client, upstream], [], [], 0.02)
                with self._lock:
                    aborted = self._resets != generation
                if aborted:
                    # linger 0: close() sends RST instead of FIN, as a dropped connection looks to a client
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                for source in ready:
                    chunk = source.recv(65536)
                    if not chunk:
                        return
                    if source is client and self.reset_on_next_client_message.is_set():
                        self.reset_on_next_client_message.clear()
                        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return
                    peer[source].sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self._live -= 1
            for end in (client, upstream):
                with contextlib.suppress(OSError):
                    end.close()

    def reset_clients(self) -> int:
        """Abort every open client connection; returns how many were open."""
        with self._lock:
            self._resets += 1
            return self._live

    def stop(self) -> None:
        self._stopped.set()
        self._threads[0].join(timeout=2)  # the accept loop first: it owns the listening socket
        self._listener.close()
        self.reset_clients()
        for thread in self._threads[1:]:
            thread.join(timeout=2)


@pytest.fixture
def relay(app_database: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[ResettingRelay]:
    pooled = make_url(app_database.pooled_url)
    relay = ResettingRelay((pooled.host or "127.0.0.1", pooled.port or 5432))
    # Same URL (pgbouncer=true kept, so the app still plans for a transaction pooler), through the relay.
    monkeypatch.setenv("DATABASE_URL", pooled.set(port=relay.port).render_as_string(hide_password=False))
    settings.clear_caches()
    reset_app_engine()
    try:
        yield relay
    finally:
        relay.stop()
        reset_app_engine()
        settings.clear_caches()


def _statement_reset_midway(relay: ResettingRelay) -> BaseException | None:
    with ThreadPoolExecutor(max_workers=1) as worker:

        def long_statement() -> None:
            with transaction() as conn:
                conn.execute(text("SELECT pg_sleep(3)"))

        running = worker.submit(long_statement)
        time.sleep(0.5)  # the statement is on the wire, its answer not yet
        assert relay.reset_clients() >= 1
        return running.exception(timeout=10)


def test_a_reset_in_the_middle_of_a_statement_is_database_unavailable(relay: ResettingRelay) -> None:
    with transaction() as conn:  # the path works before the reset
        assert conn.execute(text("SELECT 1")).scalar_one() == 1

    error = _statement_reset_midway(relay)

    assert isinstance(error, DatabaseUnavailable), repr(error)
    # And the next transaction, on a fresh connection, works again.
    with transaction() as conn:
        assert conn.execute(text("SELECT 2")).scalar_one() == 2


def test_a_reset_between_statements_is_database_unavailable(relay: ResettingRelay) -> None:
    def second_statement_after_a_reset() -> None:
        with transaction() as conn:
            conn.execute(text("SELECT 1"))
            relay.reset_clients()
            time.sleep(0.1)
            conn.execute(text("SELECT 2"))  # written into a socket the peer reset

    with pytest.raises(DatabaseUnavailable):
        second_statement_after_a_reset()


def test_a_reset_while_connecting_is_database_unavailable(relay: ResettingRelay) -> None:
    # No transaction is open yet, so no rollback hides the driver's raw socket error behind its own.
    relay.reset_new_connections = True

    def connect_and_query() -> None:
        with transaction() as conn:
            conn.execute(text("SELECT 1"))

    with pytest.raises(DatabaseUnavailable) as caught:
        connect_and_query()
    import traceback

    traceback.print_exception(caught.value)

    relay.reset_new_connections = False
    with transaction() as conn:
        assert conn.execute(text("SELECT 3")).scalar_one() == 3


def test_a_reset_while_rolling_back_a_failed_statement_is_database_unavailable(relay: ResettingRelay) -> None:
    # The statement fails on the server; the connection is then reset under the ROLLBACK that follows, so
    # the driver's raw socket error is the last word (nothing after it wraps it).
    def failing_statement_then_reset() -> None:
        with transaction() as conn:
            try:
                conn.execute(text("SELECT 1 / 0"))
            finally:
                relay.reset_on_next_client_message.set()

    with pytest.raises(DatabaseUnavailable):
        failing_statement_then_reset()
