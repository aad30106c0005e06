"""Monitor figures. They need `lifecycle.next_action` and the crank loop (issue 7); until those land they
are listed as not measurable, never with a number."""

from __future__ import annotations

import importlib.util

from bench.harness import Figure, not_measurable


def _landed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def monitor() -> list[Figure]:
    lifecycle = _landed("missout.lifecycle")
    why = "missout.lifecycle exists but has no figure yet" if lifecycle else "not yet measurable: issue 7"
    return [
        not_measurable("monitor.next_action.10000", "monitor", "next_action over 10,000 decoded pools", why,
                       target="<= 50 ms"),
        not_measurable("monitor.crank.100", "monitor", "crank tx/s, 100 pools on the local chain",
                       "not yet measurable: issue 7"),
        not_measurable("monitor.crank.1000", "monitor", "crank tx/s, 1,000 pools on the local chain",
                       "not yet measurable: issue 7"),
    ]  # fmt: skip
