"""Run a snippet in a fresh interpreter: nothing imported but what it imports, nothing in its environment but
what the test passes. For what a cold Lambda start sees (loaded modules, open sockets, first requests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from tests.support.stack import REPO

# The Lambda functions' sources as the runtime lays them out, plus `dev` for `local_lambda`.
LAMBDA_PATHS = ("layers/shared", "functions/api", "functions/monitor", "dev")


def run_fresh(
    code: str, *args: str, env: Mapping[str, str], paths: Sequence[str] = LAMBDA_PATHS
) -> dict[str, Any]:
    """The JSON object `code` prints on its last line; fails the test with the child's stderr otherwise."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in paths),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
