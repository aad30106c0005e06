"""The DB-API connection our engines make: pg8000's own, with fewer waits for the server.

Every wait is a round trip to pgBouncer and PostgreSQL while the pooled server connection is pinned to us, so
it costs both the request's latency and the pool's throughput (docs/PERFORMANCE.md). pg8000 1.31 waits more
often than the protocol needs; this subclass sends the same messages and reads the same answers, in fewer
exchanges:

- **A parameterized statement is one exchange, not three.** pg8000 sends Parse, waits; Describe, waits; Bind
  and Execute, waits. Here Parse, Bind, Describe (of the portal), Execute and Sync go out together and the
  answers are read in order up to ReadyForQuery, as the extended-query protocol allows (the server skips to
  Sync after an error, so a failure anywhere still ends with one ErrorResponse and ReadyForQuery).
  Parameters and results stay in text format, with the types the server infers, exactly as pg8000 sends them.
- **BEGIN, and the transaction's own settings, travel with its first statement.** pg8000's cursor sends
  `begin transaction` on its own and waits before every transaction's first statement, and transaction.py's
  `SET LOCAL` timeouts waited once more. Here both are written, not sent (`write_in_transaction`); the next
  exchange carries them, and their answers are read, in order, before that statement's. An error in one of
  them is raised there, after every answer of the exchange is read.
- **A statement whose answer can wait rides with the next one.** `write_in_transaction` also takes a
  statement whose rows are wanted later (the rate-limit count, written last in a block, goes out with the
  COMMIT): it returns the pg8000 `Context` that holds the answer once the next exchange has read it, and
  `answer_of` reads it at once if nothing has gone out since.
- **Writes whose answers can wait ride with the next exchange** (`answers_deferred`, set by written.py's
  context manager): inside a transaction, a parameterized statement is written like the above, not sent. For
  writes that return no rows and whose row count nobody reads; a statement that may return rows is refused.
  A join's recording waits 4 times instead of 9.
- **COMMIT and ROLLBACK are one simple Query message** each, not three extended exchanges. A ROLLBACK reads
  the answers of what was still written without raising their errors: it undoes them.
- **A statement's placeholders are converted once per SQL text, not once per execution.** pg8000's cursor
  turns `%s` into `$1`, `$2`, ... by scanning the SQL character by character in Python on every execute
  (about 0.3 microseconds a character here: a join's ten statements cost over a millisecond of CPU). For the
  styles whose values pass through unchanged (`format`, SQLAlchemy's; `qmark`; `numeric`) the result depends
  on the text alone, and SQLAlchemy sends the same few texts again and again, so `convert_paramstyle_cached`
  keeps the conversions of the most recent texts. pg8000's cursor looks the function up in its module at
  every call, so the module's name is pointed at ours when this module loads; the other styles still go to
  pg8000's function.

Why this is safe behind pgBouncer in transaction mode (engine.py, transaction.py): nothing is prepared under
a name and no session setting is touched (the unnamed statement and portal end with the exchange); BEGIN,
COMMIT and ROLLBACK are still explicit and in the same order, so the server connection is pinned by the
BEGIN's ReadyForQuery and released by the COMMIT's, as before; the settings are `SET LOCAL`, as before.
Errors are pg8000's own objects, so SQLAlchemy and transaction.py map them as before.
tests/db/test_driver_round_trips.py counts the exchanges; bench/api_profile.py shows what they cost.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Sequence
from typing import Any

import pg8000.legacy
from pg8000.converters import make_params
from pg8000.core import Context, _flush
from pg8000.dbapi import ProgrammingError
from pg8000.dbapi import convert_paramstyle as _pg8000_convert_paramstyle
from pg8000.exceptions import DatabaseError, InterfaceError

# pg8000's cursor opens every transaction with exactly this statement (pg8000/legacy.py, Cursor.execute).
_PG8000_BEGIN = "begin transaction"

# Protocol message codes and bodies (PostgreSQL's "Message Formats"); unnamed statement and portal throughout.
_UNNAMED = b"\x00"
_PARSE, _BIND, _DESCRIBE, _EXECUTE, _SYNC = b"P", b"B", b"D", b"E", b"S"
_DESCRIBE_UNNAMED_PORTAL = b"P" + _UNNAMED
_EXECUTE_ALL_ROWS = _UNNAMED + (0).to_bytes(4, "big")  # max rows 0: every row


# The styles whose values go to the server as given, in order: their conversion is a function of the text.
_VALUES_UNCHANGED_STYLES = frozenset({"format", "qmark", "numeric"})
_CONVERTED_TEXTS_KEPT = 512  # far more than the distinct statements the API and the monitor send


# A deferred statement's rows would never be read: refuse what may return some (a guard, not a parser).
_RETURNS_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW|TABLE|FETCH)\b|\bRETURNING\b", re.IGNORECASE)


def _may_return_rows(statement: str) -> bool:
    return _RETURNS_ROWS.search(statement) is not None


@functools.lru_cache(maxsize=_CONVERTED_TEXTS_KEPT)
def _converted_text(style: str, query: str) -> str:
    statement: str = _pg8000_convert_paramstyle(style, query, ())[0]
    return statement


def convert_paramstyle_cached(style: str, query: str, args: Any) -> tuple[str, Any]:
    """pg8000's `convert_paramstyle`, with the converted SQL of the values-unchanged styles cached per text
    (a text pg8000 refuses raises every time: errors are not cached)."""
    if style in _VALUES_UNCHANGED_STYLES:
        return _converted_text(style, query), args
    converted: tuple[str, Any] = _pg8000_convert_paramstyle(style, query, args)
    return converted


pg8000.legacy.convert_paramstyle = convert_paramstyle_cached


def _bind_body(params: Sequence[str | None], encoding: str) -> bytes:
    # Portal and statement unnamed; 0 parameter format codes (all text); the values; 0 result format codes
    # (all text, which is what pg8000's converters decode).
    body = bytearray(_UNNAMED + _UNNAMED + b"\x00\x00" + len(params).to_bytes(2, "big"))
    for value in params:
        if value is None:
            body += b"\xff\xff\xff\xff"  # length -1: NULL
        else:
            encoded = value.encode(encoding)
            body += len(encoded).to_bytes(4, "big") + encoded
    body += b"\x00\x00"
    return bytes(body)


class Pg8000Connection(pg8000.legacy.Connection):  # type: ignore[misc]
    # Statements in the write buffer whose answers are not read yet, oldest first, each with the context its
    # answer is read into: the next exchange carries them and reads their answers before its own.
    _written: tuple[Context, ...] = ()
    # While set (written.py, `answers_deferred`), a parameterized statement inside a transaction is written
    # like the simple ones above instead of sent: for writes whose row count and errors can wait.
    answers_deferred: bool = False

    @property
    def _in_transaction(self) -> bool:
        # pg8000's cursor and rollback() ask this. A written BEGIN already opens the transaction, so a
        # rollback after a failure before the first statement went out still sends ROLLBACK (with the BEGIN).
        return bool(self._written) or bool(super()._in_transaction)

    def write_in_transaction(self, statement: str) -> Context:
        """Write `statement` (simple protocol, no parameters) into the current transaction, opening it first
        if needed, without waiting: the next exchange (a statement, or the COMMIT) carries it and raises its
        error, if any. Returns the context its answer (rows, row count) is read into then; `answer_of` gives
        it. For what never needs its answer at once: a transaction's own settings (transaction.py), and a
        last statement whose answer can come back with the COMMIT (the rate-limit count)."""
        self._ensure_open()
        if not self._in_transaction:
            self._write_simple(_PG8000_BEGIN)
        return self._write_simple(statement)

    def answer_of(self, context: Context) -> Context:
        """`context` (from `write_in_transaction`) with its answer read: if it is still waiting in the write
        buffer, everything written goes out now and every answer is read (raising the first error)."""
        if any(waiting is context for waiting in self._written):
            self._ensure_open()
            self._settle_written()
        return context

    def execute_simple(self, statement: str) -> Any:
        self._ensure_open()
        if statement == _PG8000_BEGIN and not self._in_transaction:
            self._write_simple(statement)
            return Context(statement)
        context = Context(statement)
        self.send_QUERY(statement)
        self._exchange(context)
        return context

    def execute_unnamed(
        self, statement: str, vals: Sequence[Any] = (), oids: Sequence[int] = (), stream: Any = None
    ) -> Any:
        if stream is not None:  # COPY runs its own exchange: pg8000's, after the written statements
            self._settle_written()
            return super().execute_unnamed(statement, vals=vals, oids=oids, stream=stream)
        self._ensure_open()
        if self.answers_deferred and _may_return_rows(statement):
            # A caller's bug, not an outage: ProgrammingError, which transaction.py lets through as a 500.
            raise ProgrammingError(f"a statement that returns rows cannot be deferred: {statement[:80]!r}")
        # Every message is built before any is written, so a value that cannot be sent (pg8000 cannot convert
        # it, or it cannot be encoded) raises with nothing of this statement in the buffer.
        encoding = self._client_encoding
        parse = bytearray(_UNNAMED + statement.encode(encoding) + _UNNAMED + len(oids).to_bytes(2, "big"))
        for oid in oids:
            parse += (0 if oid == -1 else oid).to_bytes(4, "big", signed=True)  # -1 and 0: server infers
        bind = _bind_body(make_params(self.py_types, vals), encoding)
        context = Context(statement)
        self._send_message(_PARSE, bytes(parse))
        self._send_message(_BIND, bind)
        self._send_message(_DESCRIBE, _DESCRIBE_UNNAMED_PORTAL)
        self._send_message(_EXECUTE, _EXECUTE_ALL_ROWS)
        self._send_message(_SYNC, b"")
        if self.answers_deferred and self._in_transaction:
            self._written += (context,)  # its Sync's ReadyForQuery ends its answer, as a simple Query's does
        else:
            self._exchange(context)
        return context

    def commit(self) -> None:
        self.execute_simple("commit")

    def rollback(self) -> None:
        """ROLLBACK, with whatever is still written. A written statement's error is not raised here: the
        rollback undoes it with the rest, and raising would hide the error the caller is rolling back for."""
        if not self._in_transaction:
            return
        self._ensure_open()
        written = self._written_contexts()
        context = Context("rollback")
        self.send_QUERY("rollback")
        _flush(self._sock)
        for answer in written:
            with contextlib.suppress(DatabaseError, InterfaceError):
                self.handle_messages(answer)
        self.handle_messages(context)

    # pg8000's named prepared statements are not used by SQLAlchemy; if anything ever does use them, the
    # written statements go out first so their exchanges read only their own answers.
    def prepare_statement(self, statement: str, oids: Sequence[int] | None = None) -> Any:
        self._settle_written()
        return super().prepare_statement(statement, oids)

    def execute_named(self, *args: Any) -> Any:
        self._settle_written()
        return super().execute_named(*args)

    def _ensure_open(self) -> None:
        if self._sock is None:
            raise InterfaceError("connection is closed")

    def _write_simple(self, statement: str) -> Context:
        context = Context(statement)
        self.send_QUERY(statement)
        self._written += (context,)
        return context

    def _exchange(self, context: Any) -> None:
        """Send everything written and read the answers: the written statements' first, then this one's."""
        _flush(self._sock)
        self._read_answers([*self._written_contexts(), context])

    def _settle_written(self) -> None:
        if self._written:
            _flush(self._sock)
            self._read_answers(self._written_contexts())

    def _written_contexts(self) -> list[Any]:
        written, self._written = self._written, ()
        return list(written)

    def _read_answers(self, contexts: list[Any]) -> None:
        """Read each context's answers in order; raise the first error once every answer is read (later
        answers are in the socket too, and the next exchange must find only its own)."""
        first_error: Exception | None = None
        for context in contexts:
            try:
                self.handle_messages(context)
            except (DatabaseError, InterfaceError) as exc:
                first_error = first_error or exc
        if first_error is not None:
            raise first_error


def make_pg8000_connection(
    dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """SQLAlchemy's `do_connect` hook: connect as `pg8000.connect` would (same arguments), with the class
    above. Any other driver is left to SQLAlchemy (None)."""
    if dialect.driver != "pg8000":
        return None
    return Pg8000Connection(*cargs, **cparams)
