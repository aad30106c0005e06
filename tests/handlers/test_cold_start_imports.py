"""The monitor never pays for FastAPI, neither handler touches the network or AWS at import, and the API
leaves its chain stack to the routes that need it (loaded on first use, and by SnapStart's warm-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PATHS = [REPO / "layers" / "shared", REPO / "functions" / "api", REPO / "functions" / "monitor"]


# What only the chain routes (reports, fairness) need: never imported by `import missout_api.handler`.
API_CHAIN_STACK = (
    "solana",
    "solders",
    "httpx",
    "httpx2",
    "missout.chain.switchboard",
    "missout.chain.verify",
    "missout.chain.rpc.failover",
    "missout.chain.program",
    "missout.pools.reporting",
    "missout_api.onchain.fairness",
    "missout_api.onchain.reports",
)


def _modules_after_import(module: str, then: str = "") -> set[str]:
    code = f"import sys, {module}\n{then}\nprint('\\n'.join(sorted(sys.modules)))"
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


def test_api_handler_import_leaves_the_chain_stack_to_the_routes_that_need_it() -> None:
    loaded = _modules_after_import("missout_api.handler")
    assert "missout_api.handler" in loaded
    assert not [m for m in API_CHAIN_STACK if m in loaded]


def test_snapstart_warm_up_loads_the_whole_chain_stack() -> None:
    # What `before_snapshot` imports: a restored snapshot must not pay for any of it on its first request.
    loaded = _modules_after_import(
        "missout_api.handler", "from missout_api.snapstart import warm_chain_modules; warm_chain_modules()"
    )
    assert [m for m in API_CHAIN_STACK if m not in loaded] == []
    assert "boto3" not in loaded
