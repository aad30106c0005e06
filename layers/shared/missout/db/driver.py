"""The DB-API connection our engines make: pg8000's own, except that COMMIT is one simple-protocol message.

pg8000's `commit()` sends COMMIT through the extended protocol as three exchanges, each ended by Sync and
waited for (Parse; Describe with Bind; Execute), so every transaction paid three round trips to pgBouncer and
PostgreSQL for a statement that has no parameters. A simple Query message does the same in one.

Why this is safe behind pgBouncer in transaction mode (engine.py, transaction.py): the COMMIT is still
explicit and still sent inside the open transaction, so the server connection is still pinned to us when it
arrives; its ReadyForQuery (status idle) is what lets pgBouncer hand the server connection on, exactly as
after the extended form; nothing is prepared and no session setting is touched. Everything else (BEGIN,
statements, ROLLBACK) is pg8000's unchanged. bench/api_profile.py shows the COMMIT's share per request.
"""

from __future__ import annotations

from typing import Any

import pg8000.legacy


class Pg8000Connection(pg8000.legacy.Connection):  # type: ignore[misc]
    def commit(self) -> None:
        # The same statement pg8000 sends, as one Query message: one round trip instead of three.
        self.execute_simple("commit")


def make_pg8000_connection(
    dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """SQLAlchemy's `do_connect` hook: connect as `pg8000.connect` would (same arguments), with the class
    above. Any other driver is left to SQLAlchemy (None)."""
    if dialect.driver != "pg8000":
        return None
    return Pg8000Connection(*cargs, **cparams)
