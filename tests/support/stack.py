"""The local PostgreSQL + pgBouncer stack as the tests see it: started through `dev/stack.sh` (the same
command `make dev` uses), its connection settings read from `dev/stack.sh env`."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "dev" / "stack.sh"


def stack(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STACK), *args], check=check, capture_output=True, text=True, timeout=300)


def stack_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in stack("env").stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env
