"""The local PostgreSQL + pgBouncer stack as the tests see it: started through `dev/stack.sh` (the same
command `make dev` uses), its connection settings read from `dev/stack.sh env`."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "dev" / "stack.sh"


class StackFailed(RuntimeError):
    """`dev/stack.sh` failed; the message carries what it printed (e.g. which port is busy)."""


def stack(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(STACK), *args], capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise StackFailed(
            f"dev/stack.sh {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def stack_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in stack("env").stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env
