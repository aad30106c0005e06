"""Database access: engine, the transaction helper every statement goes through, tables, health."""

from missout.db.engine import app_engine, app_plan, reset_app_engine
from missout.db.transaction import DatabaseUnavailable, transaction

__all__ = ["DatabaseUnavailable", "app_engine", "app_plan", "reset_app_engine", "transaction"]
