"""Cold start: import and init of each handler in a fresh interpreter, against its framework floor (the
imports no handler of that shape can avoid) timed the same way in the same run.

The child process times itself from its first line to the end of the imports, so interpreter start-up
(the same for both) is left out. Figure and floor runs alternate, so a busy neighbour on this shared machine
slows both alike. Bytecode comes from a warm cache (one discarded run first), as the precompiled layer gives
it on Lambda (`dev/sam.sh build`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Figure, Reference, median, not_measurable

REPO = Path(__file__).resolve().parents[2]
RUNS = 5
TARGET_RATIO = 1.25
BUILD = REPO / ".aws-sam" / "build"
PYCACHE = REPO / ".local" / "bench-pycache"

# The child: time the imports, then say which heavy modules ended up loaded (boto3 must not be).
_CHILD = """
import time
_t0 = time.perf_counter()
{imports}
_elapsed = time.perf_counter() - _t0
import json, sys
print(json.dumps({{"s": _elapsed, "loaded": sorted(m for m in ("boto3", "botocore", "fastapi", "solders")
                                                   if m in sys.modules)}}))
"""


@dataclass(frozen=True)
class Handler:
    name: str
    module: str
    floor: str  # the framework floor's import line

    @property
    def code(self) -> str:
        return f"import {self.module}"


HANDLERS = (
    Handler("api", "missout_api.handler", "import fastapi, sqlalchemy, pydantic"),
    Handler("monitor", "missout_monitor.handler", "import sqlalchemy, solders"),
)


@dataclass(frozen=True)
class Interpreter:
    label: str
    python: str
    path: tuple[Path, ...]  # PYTHONPATH entries, in order


def interpreters() -> tuple[list[Interpreter], list[str]]:
    """The venv's Python (the tree's sources) and, when present, python3.12 with the SAM-built layer
    (its pinned dependencies; our sources still from the tree, first on the path, so never stale)."""
    sources = (REPO / "layers/shared", REPO / "functions/api", REPO / "functions/monitor")
    found = [Interpreter(f"python{sys.version_info.major}.{sys.version_info.minor}", sys.executable, sources)]
    missing = []
    py312 = python312()
    if py312 is None:
        missing.append("python3.12 not found (set PYTHON312)")
    elif not (BUILD / "SharedLayer" / "python").is_dir():
        missing.append("python3.12: no SAM build of the layer (run `make sam-build`)")
    else:
        found.append(Interpreter("python3.12", py312, (*sources, BUILD / "SharedLayer" / "python")))
    return found, missing


def python312() -> str | None:
    pyenv = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv")) / "versions/3.12.1/bin/python3.12"
    for candidate in (os.environ.get("PYTHON312"), str(pyenv), shutil.which("python3.12")):
        if candidate and Path(candidate).is_file():
            probe = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.stdout.strip() == "True":
                return candidate
    return None


def time_imports(interpreter: Interpreter, imports: str) -> tuple[float, list[str]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": ":".join(str(p) for p in interpreter.path),
        "PYTHONPYCACHEPREFIX": str(PYCACHE / interpreter.label),
        "PYTHONNOUSERSITE": "1",
    }
    done = subprocess.run(
        [interpreter.python, "-c", _CHILD.format(imports=imports)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["s"]) * 1000, list(result["loaded"])


def measure_handler(handler: Handler, interpreter: Interpreter) -> Figure:
    time_imports(interpreter, handler.code)  # fills the bytecode cache
    time_imports(interpreter, handler.floor)
    ours: list[float] = []
    floor: list[float] = []
    loaded: list[str] = []
    for _ in range(RUNS):
        ms, loaded = time_imports(interpreter, handler.code)
        ours.append(ms)
        floor.append(time_imports(interpreter, handler.floor)[0])
    value, reference = median(ours), median(floor)
    boto = "boto3" in loaded
    ratio_ok = value / reference <= TARGET_RATIO
    return Figure(
        id=f"cold_start.{handler.name}.{interpreter.label}",
        group="cold start",
        name=f"{handler.name} handler import + init ({interpreter.label})",
        command=f"{interpreter.label} -c '{handler.code}'  (fresh process, timed inside it)",
        unit="ms",
        status="measured",
        value=round(value, 1),
        runs=RUNS,
        reference=Reference(
            "framework floor", f"{interpreter.label} -c '{handler.floor}'", round(reference, 1)
        ),
        target=f"ratio <= {TARGET_RATIO}, no boto3",
        target_met=ratio_ok and not boto,
        limits="CPU speed of one core (imports are single-threaded) and whether bytecode is cached",
        notes=(
            f"boto3 on the cold path: {'YES' if boto else 'no'}",
            "botocore on the cold path: "
            + (
                "yes (aws_lambda_powertools/__init__ imports it to register its user agent)"
                if "botocore" in loaded
                else "no"
            ),
            "heavy modules loaded after init: " + (", ".join(loaded) or "none of those checked"),
        ),
        details={"runs_ms": [round(v, 1) for v in ours], "floor_runs_ms": [round(v, 1) for v in floor]},
    )


def cold_start() -> list[Figure]:
    found, missing = interpreters()
    figures = [measure_handler(h, i) for i in found for h in HANDLERS]
    figures += [
        not_measurable(f"cold_start.{h.name}.python3.12", "cold start", f"{h.name} handler (python3.12)", why)
        for why in missing
        for h in HANDLERS
    ]
    return figures
