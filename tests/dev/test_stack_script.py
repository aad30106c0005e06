"""dev/stack.sh: the shell interface, and a second pgBouncer that a test can stop and restart."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

import stack

SCRIPT = Path(__file__).resolve().parents[2] / "dev" / "stack.sh"


def test_env_output_survives_eval_with_an_awkward_password(tmp_path: Path) -> None:
    password = "p'a\"ss@/:% y"
    inherited = {k: v for k, v in os.environ.items() if k not in ("MISSOUT_PG_PORT", "MISSOUT_PGB_PORT")}
    env = {**inherited, "MISSOUT_STACK_DIR": str(tmp_path), "MISSOUT_DB_PASSWORD": password}
    exports = subprocess.run([str(SCRIPT), "env"], env=env, capture_output=True, text=True, check=True).stdout
    shown = subprocess.run(
        ["bash", "-c", f'{exports}\nprintf "%s\\n" "$DIRECT_DATABASE_URL" "$MISSOUT_STACK_DIR"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()

    url = make_url(shown[0])
    assert (url.password, url.port, url.database) == (password, 55432, "missout")
    assert shown[1] == str(tmp_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((stack.HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def own_pooler(stack_settings: dict[str, str]) -> Iterator[tuple[stack.Config, int]]:
    """A named pgBouncer of this test's own, on the stack the session started; removed afterwards."""
    cfg = stack.Config.from_env()
    if stack.pgbouncer_bin() is None:
        pytest.skip("pgBouncer is not installed on this machine")
    port = free_port()
    try:
        # Inside the try: a start that fails after spawning pgBouncer (e.g. its login check) must not leak it.
        stack.start_pgbouncer(cfg, "test-restart", port)
        yield cfg, port
    finally:
        stack.stop_pgbouncer(cfg, "test-restart")
        shutil.rmtree(cfg.pgb_dir("test-restart"), ignore_errors=True)


@pytest.mark.integration
def test_a_named_pgbouncer_can_be_stopped_and_restarted(own_pooler: tuple[stack.Config, int]) -> None:
    cfg, port = own_pooler
    url = make_url(stack.env_vars(cfg)["DIRECT_DATABASE_URL"]).set(port=port)
    engine = create_engine(url, poolclass=NullPool, connect_args={"ssl_context": False})

    def select_one() -> object:
        with engine.begin() as conn:
            return conn.execute(text("select 1")).scalar()

    assert select_one() == 1
    stack.stop_pgbouncer(cfg, "test-restart")
    with pytest.raises(DBAPIError):
        select_one()
    assert stack.pgb_running(cfg, stack.MAIN) is not None  # the shared pooler is untouched
    stack.start_pgbouncer(cfg, "test-restart", port)
    assert select_one() == 1


@pytest.mark.integration
def test_the_pooler_holds_the_roles_scram_verifier_not_the_password(
    own_pooler: tuple[stack.Config, int],
) -> None:
    """The userlist copies PostgreSQL's verifier, which is made from the configured password; a login through
    the pooler succeeds with the password and fails with any other (the pooler checks proofs against it)."""
    cfg, port = own_pooler
    verifier = stack.role_secret(cfg, stack.pg_bin(cfg))
    assert verifier.startswith("SCRAM-SHA-256$4096:")
    assert stack.scram_verifier_matches(verifier, cfg.password)
    assert not stack.scram_verifier_matches(verifier, cfg.password + "x")
    userlist = (cfg.pgb_dir("test-restart") / "userlist.txt").read_text()
    assert userlist == stack.userlist_entry(stack.APP_ROLE, verifier)
    assert cfg.password not in userlist

    url = make_url(stack.env_vars(cfg)["DIRECT_DATABASE_URL"]).set(port=port)
    with create_engine(url, poolclass=NullPool, connect_args={"ssl_context": False}).connect() as conn:
        assert conn.execute(text("select current_user")).scalar() == stack.APP_ROLE
    wrong = create_engine(
        url.set(password=cfg.password + "x"), poolclass=NullPool, connect_args={"ssl_context": False}
    )
    with pytest.raises(DBAPIError, match=r"(?i)password authentication failed|SASL authentication failed"):
        wrong.connect()


@pytest.mark.integration
def test_a_second_start_keeps_the_verifier(stack_settings: dict[str, str]) -> None:
    """`start` sets the password only when the stored verifier is not made from it: setting it again would
    draw a new salt and leave running poolers with a verifier PostgreSQL no longer accepts."""
    cfg = stack.Config.from_env()
    before = stack.role_secret(cfg, stack.pg_bin(cfg))
    stack.bootstrap(cfg, stack.pg_bin(cfg))
    assert stack.role_secret(cfg, stack.pg_bin(cfg)) == before


@pytest.mark.parametrize(
    "verifier",
    [
        "",
        "md5" + "0" * 32,
        "SCRAM-SHA-256$4096:c2FsdA==$bm90LWEta2V5:bm90LWEta2V5",
        "SCRAM-SHA-256$many:c2FsdA==$a:b",
        "SCRAM-SHA-256$4096:!!$a:b",
        "SCRAM-SHA-1$4096:c2FsdA==$a$b",
    ],
)
def test_anything_but_a_verifier_of_the_password_does_not_match(verifier: str) -> None:
    assert not stack.scram_verifier_matches(verifier, "missout-dev-only")


def test_the_pooler_runs_with_open_files_for_its_clients() -> None:
    """runuser resets the soft limit to 1,024; the wrapper raises it (never past the hard limit)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    wanted = stack.pgbouncer_fds(1200)
    shown = subprocess.run(
        stack.with_fd_limit(wanted, ["sh", "-c", "ulimit -n"]), capture_output=True, text=True, check=True
    ).stdout.strip()
    expected = wanted if hard == resource.RLIM_INFINITY or hard >= wanted else hard
    assert int(shown) == expected
