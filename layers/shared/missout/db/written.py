"""A statement written into the transaction now and answered with its next exchange: one wait fewer.

For a statement whose answer the block does not need at once. Written last in a `transaction()` block, it goes
out with the COMMIT, so the block waits once for both (driver.py, `write_in_transaction`). The rate limiter's
count is the user: every API request would otherwise wait for its count on its own.

What changes against running it at once:
- **Errors.** An error in the statement is raised by the exchange that carries it: the next statement, or the
  COMMIT. Either way the transaction rolls back, so nothing of it is half-applied. Past a failed statement,
  PostgreSQL answers a COMMIT with a ROLLBACK, and the driver raises the statement's own error.
- **Answer.** `rows()` gives the answer; called before anything else went out, it sends what was written and
  waits then, as running it at once would have.
- **Parameters.** None: only SQL text, simple protocol.

On a connection that is not ours (driver.py) the statement runs at once; callers need not care which.

`answers_deferred` does the same for the SQLAlchemy statements executed inside it (parameters and all): for
writes that return no rows and whose row counts nobody reads. Their errors come as above, from the next
exchange; a statement that may return rows is refused there, since its rows would never be read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from missout.db.driver import Pg8000Connection

Row = list[Any]  # pg8000's decoded values, in the statement's column order


@dataclass(frozen=True, slots=True)
class WrittenStatement:
    _driver: Pg8000Connection | None
    _context: Any  # pg8000's Context (its answer once read); None when the statement ran at once
    _ran: tuple[Row, ...] = ()

    def rows(self) -> list[Row]:
        """The statement's rows, in order (empty for a statement that returns none)."""
        if self._driver is None:
            return list(self._ran)
        answered = self._driver.answer_of(self._context)
        return list(answered.rows or ())


def write_statement(conn: Connection, sql: str) -> WrittenStatement:
    """Write `sql` into `conn`'s transaction; it goes out with the next statement or the COMMIT."""
    driver = conn.connection.driver_connection
    if isinstance(driver, Pg8000Connection):
        return WrittenStatement(driver, driver.write_in_transaction(sql))
    result = conn.exec_driver_sql(sql)
    return WrittenStatement(None, None, tuple(list(row) for row in result) if result.returns_rows else ())


@contextmanager
def answers_deferred(conn: Connection) -> Iterator[None]:
    """Inside the block, `conn.execute` of a statement without rows writes it into the transaction instead
    of waiting for its answer; the next statement that must be answered (or the COMMIT) carries it. A row
    count read inside the block is -1: do not read one. Nests; on a connection that is not ours, a no-op."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, Pg8000Connection):
        yield
        return
    before = driver.answers_deferred
    driver.answers_deferred = True
    try:
        yield
    finally:
        driver.answers_deferred = before
