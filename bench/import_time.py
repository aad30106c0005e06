"""Cold-import cost of each Lambda handler: `python -X importtime` and wall time of a fresh interpreter.

Run: .venv/bin/python bench/import_time.py [runs]. Prints per-handler median wall time, the importtime
total of top-level modules, the heaviest packages, and the monitor/API ratio (the ratio is what to compare
between runs: these machines are shared and absolute times are noisy).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHONPATH = ":".join(str(REPO / p) for p in ("layers/shared", "functions/api", "functions/monitor"))
HANDLERS = {"api": "missout_api.handler", "monitor": "missout_monitor.handler"}


def wall_times(module: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], env={"PYTHONPATH": PYTHONPATH}, check=True)
        times.append(time.perf_counter() - started)
    return times


def importtime(module: str) -> tuple[float, list[tuple[float, str]]]:
    """Total cumulative microseconds of top-level imports, and the ten heaviest packages (the cumulative
    time of each package's root module, wherever in the tree it was first imported)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env={"PYTHONPATH": PYTHONPATH},
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0.0
    packages: dict[str, float] = {}
    own = module.split(".")[0]
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative_us, raw_name = line.removeprefix("import time:").split("|")
        name = raw_name.strip()
        # One space after the bar marks a top-level import; nested ones are indented further.
        if raw_name.startswith(" ") and not raw_name.startswith("  "):
            total += float(cumulative_us)
        if "." not in name and name != own:
            packages[name] = max(packages.get(name, 0.0), float(cumulative_us))
    heaviest = sorted(((us, name) for name, us in packages.items()), reverse=True)[:10]
    return total, heaviest


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    bare = statistics.median(wall_times("sys", runs))
    print(f"python {sys.version.split()[0]}, {runs} runs each; bare interpreter {bare * 1000:.0f} ms")
    medians = {}
    for name, module in HANDLERS.items():
        medians[name] = statistics.median(wall_times(module, runs))
        total_us, heaviest = importtime(module)
        wall_ms = medians[name] * 1000
        print(f"\n{name} ({module}): wall median {wall_ms:.0f} ms, importtime {total_us / 1000:.0f} ms")
        for us, top_module in heaviest:
            print(f"  {us / 1000:8.1f} ms  {top_module}")
    print(f"\nmonitor / api wall ratio: {medians['monitor'] / medians['api']:.2f}")


if __name__ == "__main__":
    main()
