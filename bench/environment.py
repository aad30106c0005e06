"""What the database figures run against, created on first use and removed at the end of the run:
a throw-away database migrated to head (seeded with open pools for the join load) and a named pgBouncer,
`bench`, identical to the stack's own except for `max_client_conn` (the storm needs 1,000 clients; the
stack's default of 500 stays as it is for everything else).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cached_property
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

import stack
from tests.reliability.servers import free_port
from tests.reliability.workload import seed_pools
from tests.support.database import migrate
from tests.support.engines import local_engine

REPO = Path(__file__).resolve().parents[1]
DATABASE = "missout_bench"
BENCH_POOLER = "bench"
BENCH_MAX_CLIENT_CONN = 2_000  # 1,000 storm clients plus pgbench's, with room
SEEDED_POOLS = 4_000  # 76,000 seats: more joins than any storm run records


def _with(url: str, *, database: str | None = None, port: int | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    if port is not None:
        parsed = parsed.set(port=port)
    return parsed.render_as_string(hide_password=False)


class BenchEnvironment:
    _shared: BenchEnvironment | None = None

    @classmethod
    def shared(cls) -> BenchEnvironment:
        """One environment for every figure of a run (one database, one bench pooler)."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    @classmethod
    def close_shared(cls) -> None:
        if cls._shared is not None:
            cls._shared.close()
            cls._shared = None

    def __init__(self) -> None:
        self.config = stack.Config.from_env()
        if stack.pg_running(self.config) is None:
            raise RuntimeError("the local stack is down: run `dev/stack.sh start` (make bench does)")
        self.env = stack.env_vars(self.config)
        self._created_database = False
        self._started_pooler = False

    # -- database ---------------------------------------------------------------------------------

    def _admin(self) -> Engine:
        # CREATE/DROP DATABASE cannot run in a transaction: direct URL, autocommit (never the pooler).
        return local_engine(self.env["MISSOUT_ADMIN_DATABASE_URL"], isolation_level="AUTOCOMMIT")

    @cached_property
    def direct_url(self) -> str:
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        admin.dispose()
        self._created_database = True
        url = _with(self.env["DIRECT_DATABASE_URL"], database=DATABASE)
        migrate(url)
        return url

    @cached_property
    def pool_ids(self) -> list[int]:
        engine = local_engine(self.direct_url)
        try:
            return seed_pools(engine, SEEDED_POOLS)
        finally:
            engine.dispose()

    @property
    def pooled_url(self) -> str:
        """Through the stack's own pgBouncer (`main`), as the app runs."""
        return _with(self.env["DATABASE_URL"], database=DATABASE)

    @cached_property
    def bench_pooler_port(self) -> int:
        port = free_port()
        stack.start_pgbouncer(self.config, BENCH_POOLER, port, max_client_conn=BENCH_MAX_CLIENT_CONN)
        self._started_pooler = True
        return port

    @property
    def bench_pooled_url(self) -> str:
        return _with(self.env["DATABASE_URL"], database=DATABASE, port=self.bench_pooler_port)

    # -- versions, for the machine section ----------------------------------------------------------

    def postgres_version(self) -> str:
        return stack.pg_version(stack.pg_bin(self.config))

    def pgbouncer_version(self) -> str:
        binary = stack.pgbouncer_bin()
        return stack.pgbouncer_version(binary) if binary else "not installed"

    def pgbench(self) -> str | None:
        local = stack.pg_bin(self.config) / "pgbench"
        return str(local) if local.exists() else shutil.which("pgbench")

    def pgbench_target(self, port: int) -> list[str]:
        # pgbench takes the database name as its last argument (its -d means --debug).
        return ["-h", stack.HOST, "-p", str(port), "-U", stack.APP_ROLE, DATABASE]

    def psql_env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.config.password, "PGCONNECT_TIMEOUT": "10"}

    def pgbench_init(self, scale: int) -> None:
        """TPC-B tables in the bench database, over the direct port (COPY and VACUUM need a session)."""
        pgbench = self.pgbench()
        if pgbench is None:
            raise RuntimeError("pgbench not found (Debian: postgresql-contrib / postgresql-client)")
        self.direct_url  # noqa: B018 - creates the database on first use
        done = subprocess.run(
            [pgbench, "-i", "-q", "-s", str(scale), *self.pgbench_target(self.config.pg_port)],
            env=self.psql_env(),
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench -i failed: {done.stderr.strip()[-400:]}")

    # -- cleanup ------------------------------------------------------------------------------------

    def close(self) -> None:
        if self._started_pooler:
            stack.stop_pgbouncer(self.config, BENCH_POOLER)
        if self._created_database:
            admin = self._admin()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            admin.dispose()
