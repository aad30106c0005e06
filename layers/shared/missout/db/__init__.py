"""Database access: engine, the transaction helper every statement goes through, tables, health.

Who owns the transaction, by signature:
  * a function that takes a `Connection` (`conn`) runs inside the caller's transaction and never commits: the
    caller opens it with `with transaction() as conn:` and decides what else belongs in the same commit (e.g.
    the replay guard row and the action's effects, or a pool row and its participants);
  * a function that takes an `Engine` (or nothing, meaning the app's engine) opens its own
    `transaction(engine)` and has committed when it returns: it is a whole unit of work (a lease, a health
    probe).
No transaction stays open across an RPC call or any other wait: read the chain first, then write in one short
transaction.
"""

from missout.db.engine import app_engine, app_plan, reset_app_engine
from missout.db.transaction import ConstraintViolation, DatabaseUnavailable, transaction

__all__ = [
    "ConstraintViolation",
    "DatabaseUnavailable",
    "app_engine",
    "app_plan",
    "reset_app_engine",
    "transaction",
]
