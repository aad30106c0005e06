"""The monitor never pays for FastAPI, and neither handler touches the network or AWS at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PATHS = [REPO / "layers" / "shared", REPO / "functions" / "api", REPO / "functions" / "monitor"]


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    env = {"PYTHONPATH": ":".join(str(p) for p in PATHS), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_monitor_handler_does_not_import_fastapi_or_starlette() -> None:
    loaded = _modules_after_import("missout_monitor.handler")
    assert "missout_monitor.handler" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("fastapi", "starlette", "mangum")}


def test_handlers_import_without_boto3() -> None:
    # boto3 is only needed when a secret ARN is configured; importing it costs ~100 ms of cold start.
    for module in ("missout_monitor.handler", "missout_api.handler"):
        loaded = _modules_after_import(module)
        assert module in loaded
        assert "boto3" not in loaded
