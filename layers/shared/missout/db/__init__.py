"""Database access: engine, the transaction helper every statement goes through, tables, health."""

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
