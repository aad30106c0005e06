"""Cold start: import and init of each handler in a fresh interpreter, against its framework floor (the
imports no handler of that shape can avoid) timed the same way in the same run.

The child process times itself from its first line to the end of the imports, so interpreter start-up
(the same for both) is left out. Figure and floor runs alternate, so a busy neighbour on this shared machine
slows both alike. Bytecode comes from a warm cache (one discarded run first), as the precompiled layer gives
it on Lambda (`dev/sam.sh build`).

The API keeps its chain stack (solana-py and its httpx2, solders, the verifier, Switchboard) off the cold
start: the routes that need it import it on first use (`missout_api.onchain`). Two things keep that honest
here: each API figure lists the heavy modules still absent after init, and a companion figure times the
handler's import followed by that whole set (what SnapStart's `before_snapshot` imports, and what the first
chain request of an environment without SnapStart pays).

The handlers pause the garbage collector while they load (`missout.coldstart`); the framework floor is timed
as plain imports, as its definition says. So that the ratio does not pass the collector's saving off as our
code's, each handler figure also times, in one more child per run with the collector paused the same way,
the floor and then each dependency the handler cannot do without (`needs`), one increment at a time: the
notes give our figure against that paused floor, what each needed dependency costs on its own, and what is
left for our own code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Figure, Reference, median, not_measurable

REPO = Path(__file__).resolve().parents[2]
RUNS = 5
TARGET_RATIO = 1.25
BUILD = REPO / ".aws-sam" / "build"
LAYER = BUILD / "SharedLayer" / "python"
PYCACHE = REPO / ".local" / "bench-pycache"

# Modules worth naming in the notes: loaded or not after init (boto3 must never be).
HEAVY = (
    "boto3",
    "botocore",
    "fastapi",
    "solders",
    "solana",
    "httpx",
    "httpx2",
    "missout.chain.switchboard",
    "missout.chain.verify",
)
# What the API loads on the first chain request, never at init (checked: the figure fails otherwise).
API_CHAIN_STACK = (
    "solana",
    "httpx",
    "httpx2",
    "solders",
    "missout.chain.switchboard",
    "missout.chain.verify",
)
# httpx's __init__ imports httpx._main, which loads these when installed: the dev venv has them, the layer
# does not.
DEV_ONLY = ("rich", "click", "pygments")

# The child: time the imports, then say which heavy modules ended up loaded.
# CPU time beside the wall time: imports are CPU-bound, and on this shared machine the wall time also counts
# the neighbours' load, which CPU time mostly leaves out.
_CHILD = """
import time
_t0, _c0 = time.perf_counter(), time.process_time()
{imports}
_elapsed, _cpu = time.perf_counter() - _t0, time.process_time() - _c0
import json, sys
loaded = sorted(m for m in {watched!r} if m in sys.modules)
print(json.dumps({{"s": _elapsed, "cpu_s": _cpu, "loaded": loaded}}))
"""

# The floor, then each needed dependency, timed one after the other with the collector paused as the handlers'
# init runs it.
_STEPS_CHILD = """
import gc, json, time
gc.disable()
timed = []
for line in {lines!r}:
    _t0, _c0 = time.perf_counter(), time.process_time()
    exec(line, {{}})
    timed.append([time.perf_counter() - _t0, time.process_time() - _c0])
print(json.dumps(timed))
"""

API_FLOOR = "import fastapi, sqlalchemy, pydantic"
# The PostgreSQL dialect package (all its drivers' modules: pg8000's lives inside it) loads with the first
# query, or with the first Table that names a postgresql_* option.
_PG_DIALECT = ("sqlalchemy's postgresql dialect", "import sqlalchemy.dialects.postgresql.pg8000")
# The database driver (missout.db.driver): every API request and every monitor tick uses the database.
_PG8000 = ("pg8000", "import pg8000")


@dataclass(frozen=True)
class Handler:
    name: str
    title: str
    code: str  # the import line(s) timed
    floor: str  # the framework floor's import line
    target: bool = True  # False: shown beside its target figure, not held to the 1.25 ratio
    lazy: tuple[str, ...] = ()  # modules that must not be loaded after `code`
    # (name, import line): what the handler cannot do without beyond its floor, whoever imports it
    needs: tuple[tuple[str, str], ...] = ()


HANDLERS = (
    Handler(
        "api",
        "api handler import + init",
        "import missout_api.handler",
        API_FLOOR,
        lazy=API_CHAIN_STACK,
        needs=(
            ("mangum", "import mangum"),
            ("Powertools logging", "import aws_lambda_powertools.logging"),
            _PG_DIALECT,
            _PG8000,
            # Not pydantic.v1: FastAPI loads it only to refuse v1 models, and the API refuses to load it
            # (missout_api.pydantic_v1). Nor pydantic_settings: the settings are plain pydantic models.
        ),
    ),
    Handler(
        "monitor",
        "monitor handler import + init",
        "import missout_monitor.handler",
        "import sqlalchemy, solders",
        needs=(
            ("pydantic", "import pydantic"),
            # Its HTTP client (httpx2) included: the Switchboard gateway's client is one of those too.
            ("solana-py's async client", "import solana.rpc.async_api"),
            (
                "Powertools logging and metrics",
                "import aws_lambda_powertools.logging, aws_lambda_powertools.metrics",
            ),
            _PG_DIALECT,
            # The database driver (missout.db.driver): every tick reads and writes the database.
            ("pg8000", "import pg8000"),
        ),
    ),
    Handler(
        "api_with_chain",
        "api handler import + init, then the chain routes' modules (SnapStart's warm set)",
        "import missout_api.handler, missout_api.snapstart; missout_api.snapstart.warm_chain_modules()",
        API_FLOOR,
        target=False,
    ),
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
    elif not LAYER.is_dir():
        missing.append("python3.12: no SAM build of the layer (run `make sam-build`)")
    else:
        found.append(Interpreter("python3.12", py312, (*sources, LAYER)))
    return found, missing


def python312() -> str | None:
    """The interpreter dev/python312.sh finds (the one `sam build` and `make invoke` use), or None."""
    found = subprocess.run([str(REPO / "dev" / "python312.sh")], capture_output=True, text=True, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


@dataclass(frozen=True)
class Timing:
    wall_ms: float
    cpu_ms: float
    loaded: list[str]


def run_child(interpreter: Interpreter, code: str, env: Mapping[str, str] | None = None) -> Any:
    """The JSON the child prints last, run in a fresh process with only our paths, the bytecode cache and
    `env`."""
    done = subprocess.run(
        [interpreter.python, "-c", code],
        env={
            **(env or {}),
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": ":".join(str(p) for p in interpreter.path),
            "PYTHONPYCACHEPREFIX": str(PYCACHE / interpreter.label),
            "PYTHONNOUSERSITE": "1",
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_imports(interpreter: Interpreter, imports: str) -> Timing:
    result = run_child(interpreter, _CHILD.format(imports=imports, watched=(*HEAVY, *DEV_ONLY)))
    return Timing(float(result["s"]) * 1000, float(result["cpu_s"]) * 1000, list(result["loaded"]))


def time_steps(interpreter: Interpreter, lines: list[str]) -> list[Timing]:
    """Each line's wall and CPU time, run one after the other in one fresh process, collector paused."""
    timed = run_child(interpreter, _STEPS_CHILD.format(lines=lines))
    return [Timing(float(wall) * 1000, float(cpu) * 1000, []) for wall, cpu in timed]


def measure_handler(handler: Handler, interpreter: Interpreter) -> Figure:
    time_imports(interpreter, handler.code)  # fills the bytecode cache
    time_imports(interpreter, handler.floor)
    # The floor, each needed dependency, then the handler itself: its step is our own code and init alone,
    # timed in the same process as what it stands on (a subtraction across processes carries their noise).
    steps = [handler.floor, *(line for _, line in handler.needs), handler.code]
    ours: list[Timing] = []
    floor: list[Timing] = []
    stepped: list[list[Timing]] = []
    for _ in range(RUNS):
        ours.append(time_imports(interpreter, handler.code))
        floor.append(time_imports(interpreter, handler.floor))
        if handler.needs:
            stepped.append(time_steps(interpreter, steps))
    value, reference = median([t.wall_ms for t in ours]), median([t.wall_ms for t in floor])
    cpu, cpu_floor = median([t.cpu_ms for t in ours]), median([t.cpu_ms for t in floor])
    loaded = ours[-1].loaded
    boto = "boto3" in loaded
    leaked = [m for m in handler.lazy if m in loaded]  # a lazy module on the cold path after all
    met = value / reference <= TARGET_RATIO and not boto and not leaked
    notes = _notes(handler, interpreter, loaded, leaked)
    notes += (
        f"CPU time (less sensitive to the neighbours' load): {cpu:.0f} ms against the floor's"
        f" {cpu_floor:.0f} ms, ratio {cpu / cpu_floor:.2f}",
    )
    needed: dict[str, Any] = {}
    if stepped:
        needed = _needed(handler, stepped)
        notes += _needed_notes(needed, value, cpu)
    return Figure(
        id=f"cold_start.{handler.name}.{interpreter.label}",
        group="cold start",
        name=f"{handler.title} ({interpreter.label})",
        command=f"{interpreter.label} -c '{handler.code}'  (fresh process, timed inside it)",
        unit="ms",
        status="measured",
        value=round(value, 1),
        runs=RUNS,
        reference=Reference(
            "framework floor", f"{interpreter.label} -c '{handler.floor}'", round(reference, 1)
        ),
        target=f"ratio <= {TARGET_RATIO}, no boto3" if handler.target else None,
        target_met=met if handler.target else None,
        limits="CPU speed of one core (imports are single-threaded) and whether bytecode is cached",
        notes=notes,
        details={
            "runs_ms": [round(t.wall_ms, 1) for t in ours],
            "floor_runs_ms": [round(t.wall_ms, 1) for t in floor],
            "cpu_runs_ms": [round(t.cpu_ms, 1) for t in ours],
            "floor_cpu_runs_ms": [round(t.cpu_ms, 1) for t in floor],
            "cpu_ratio": round(cpu / cpu_floor, 3),
            "loaded": loaded,
            "not_loaded": [m for m in HEAVY if m not in loaded],
            **needed,
        },
    )


def _needed(handler: Handler, stepped: list[list[Timing]]) -> dict[str, Any]:
    """Medians of the paused floor, of each needed dependency's increment and of the handler's own step
    (wall and CPU, ms)."""

    def wall(i: int) -> float:
        return round(median([run[i].wall_ms for run in stepped]), 1)

    def cpu(i: int) -> float:
        return round(median([run[i].cpu_ms for run in stepped]), 1)

    names = [name for name, _ in handler.needs]
    return {
        "floor_paused_ms": wall(0),
        "floor_paused_cpu_ms": cpu(0),
        "needed_ms": {name: wall(i + 1) for i, name in enumerate(names)},
        "needed_cpu_ms": {name: cpu(i + 1) for i, name in enumerate(names)},
        "needed_total_ms": round(median([sum(t.wall_ms for t in run[:-1]) for run in stepped]), 1),
        "needed_total_cpu_ms": round(median([sum(t.cpu_ms for t in run[:-1]) for run in stepped]), 1),
        "own_ms": wall(len(names) + 1),
        "own_cpu_ms": cpu(len(names) + 1),
    }


def _needed_notes(needed: dict[str, Any], value: float, cpu: float) -> tuple[str, ...]:
    floor_paused, floor_paused_cpu = needed["floor_paused_ms"], needed["floor_paused_cpu_ms"]
    total, total_cpu = needed["needed_total_ms"], needed["needed_total_cpu_ms"]
    own, own_cpu = needed["own_ms"], needed["own_cpu_ms"]
    each = ", ".join(f"{name} {ms:.0f}" for name, ms in needed["needed_cpu_ms"].items())
    return (
        f"the floor with the collector paused as the handler's init runs: {floor_paused:.0f} ms"
        f" ({floor_paused_cpu:.0f} ms CPU); the figure against it: {value / floor_paused:.2f}"
        f" ({cpu / floor_paused_cpu:.2f} CPU)",
        f"needed beyond the floor, each on its own (ms CPU, collector paused): {each}",
        f"the floor plus everything needed: {total:.0f} ms ({total_cpu:.0f} ms CPU, ratio"
        f" {total_cpu / floor_paused_cpu:.2f} of the paused floor)",
        f"our own code and init, timed in the same process right after everything needed:"
        f" {own:.0f} ms ({own_cpu:.0f} ms CPU, {own_cpu / total_cpu:.0%} on top of the floor plus everything"
        " needed)",
    )


def _notes(
    handler: Handler, interpreter: Interpreter, loaded: list[str], leaked: list[str]
) -> tuple[str, ...]:
    notes = [
        f"boto3 on the cold path: {'YES' if 'boto3' in loaded else 'no'}",
        "botocore on the cold path: "
        + (
            "yes (aws_lambda_powertools/__init__ imports it to register its user agent)"
            if "botocore" in loaded
            else "no"
        ),
        "heavy modules loaded after init: "
        + (", ".join(m for m in loaded if m in HEAVY) or "none of those checked"),
        "not loaded after init: " + (", ".join(m for m in HEAVY if m not in loaded) or "-"),
    ]
    if handler.lazy:
        notes.append(
            "the chain stack loads on the first chain request (`missout_api.onchain`): "
            + (f"YET LOADED AT INIT: {', '.join(leaked)}" if leaked else "none of it loaded at init")
        )
    if not handler.target:
        notes.append(
            "no target: what a SnapStart snapshot holds, and what an environment without SnapStart pays once,"
            " on its first chain request (report, fairness); the database reads never load it"
        )
    dev_only = [m for m in DEV_ONLY if m in loaded]
    if dev_only and LAYER not in interpreter.path:
        notes.append(
            f"dev venv: httpx loaded {', '.join(dev_only)} (httpx._main imports them when installed); the"
            " Lambda layer has none of them, so this figure is higher here than on Lambda (the python3.12"
            " figure uses the SAM-built layer)"
        )
    return tuple(notes)


def cold_start() -> list[Figure]:
    found, missing = interpreters()
    figures = [measure_handler(h, i) for i in found for h in HANDLERS]
    figures += [
        not_measurable(f"cold_start.{h.name}.python3.12", "cold start", f"{h.name} handler (python3.12)", why)
        for why in missing
        for h in HANDLERS
    ]
    return figures
