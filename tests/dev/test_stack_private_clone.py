"""A clone anywhere works: under a 0700 folder (`mktemp -d`, or root's home) the stack still starts.

As root the servers run as `postgres`, which cannot enter such a folder, so the stack moves to a folder of its
own under /var/tmp (named after the clone's path) and says so. The test clones this repository's HEAD, starts
the stack from the clone on ports of its own, logs in through pgBouncer, then stops it and removes everything.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

import stack
from tests.support.stack import REPO

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((stack.HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.strip()


@pytest.fixture
def private_clone() -> Iterator[Path]:
    """HEAD of this repository, cloned into `mktemp -d` (mode 0700), removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="missout-private-"))
    assert parent.stat().st_mode & 0o777 == 0o700
    clone = parent / "clone"
    try:
        _git("clone", "--quiet", "--no-checkout", str(REPO), str(clone))
        _git("-C", str(clone), "checkout", "--quiet", _git("-C", str(REPO), "rev-parse", "HEAD"))
        yield clone
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _stack(clone: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(clone / "dev" / "stack.sh"), *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_a_clone_under_a_private_folder_starts_its_stack_and_says_where(private_clone: Path) -> None:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MISSOUT_")}
    env = {**inherited, "MISSOUT_PG_PORT": str(_free_port()), "MISSOUT_PGB_PORT": str(_free_port())}
    stack_dir = Path(_stack(private_clone, env, "dir").stdout.strip())
    try:
        started = _stack(private_clone, env, "start")
        assert started.returncode == 0, started.stdout + started.stderr

        if stack.is_root():
            # One line says where the stack went: a folder outside the clone that the servers can reach.
            notes = [line for line in started.stdout.splitlines() if "cannot reach" in line]
            assert notes == [
                f"stack: user postgres cannot reach {private_clone / '.local' / 'stack'}, "
                f"so the stack lives in {stack_dir}"
            ]
            assert not stack_dir.is_relative_to(private_clone)
            assert stack_dir.parent.stat().st_mode & 0o777 == 0o755
            assert stack_dir.parent.stat().st_uid == 0
            # Derived from the clone's path: asking again gives the same folder.
            assert Path(_stack(private_clone, env, "dir").stdout.strip()) == stack_dir
        else:
            assert stack_dir == private_clone / ".local" / "stack"

        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in _stack(private_clone, env, "env").stdout.splitlines()
        )
        pooled = shlex.split(exports["DATABASE_URL"])[0]
        assert f":{env['MISSOUT_PGB_PORT']}/" in pooled
        # `pgbouncer=true` is for the app's connection plan, not a driver argument.
        engine = create_engine(make_url(pooled).difference_update_query(["pgbouncer"]), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                assert conn.execute(text("select current_user")).scalar_one() == "missout"
        finally:
            engine.dispose()
    finally:
        stopped = _stack(private_clone, env, "stop")
        shutil.rmtree(stack_dir.parent if stack.is_root() else stack_dir, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "postgres: stopped" in stopped.stdout
