"""Engines on the local stack for test and benchmark set-up and inspection: light to import (no pytest, no
alembic), so the benchmark's client processes can use it too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool


def local_engine(url: str | URL, **options: Any) -> Engine:
    """A NullPool engine on the local stack's direct URL, for set-up and inspection (never the code under
    test, which goes through the pooler with the app's engine). TLS off, as the app's own plan is for a
    loopback host (missout.db.connection_plan): left to itself, pg8000 builds a new TLS context for every
    connect, about 20 ms of CPU spent loading the trust store, only to be told the server has no TLS."""
    connect_args = {"ssl_context": False, **options.pop("connect_args", {})}
    return create_engine(url, poolclass=NullPool, connect_args=connect_args, **options)
