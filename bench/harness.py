"""The benchmark table: one function per figure, registered in one list, each returning a `Figure` that
carries its command, its samples' median over several runs, and its reference measured in the same run.

A figure that cannot be measured yet (the code it needs has not landed) is a `Figure` with status
`not measurable` and a reason: it never carries a number.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["measured", "not measurable", "failed"]


@dataclass(frozen=True)
class Reference:
    """What a figure is compared with, measured in the same run of `make bench`."""

    name: str
    command: str
    value: float


@dataclass(frozen=True)
class Figure:
    id: str
    group: str
    name: str
    command: str  # what was timed, in words or as a shell command
    unit: str  # "ms", "tx/s", ...
    status: Status
    value: float | None = None  # the median over `runs` runs (for latency tables: the p95)
    runs: int = 0
    reference: Reference | None = None
    target: str | None = None  # e.g. "ratio <= 1.25"
    target_met: bool | None = None
    limits: str = ""  # what bounds this figure on this machine
    notes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)  # per-run values, percentiles, counts

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.reference is None or not self.reference.value:
            return None
        return self.value / self.reference.value

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        return data


def not_measurable(id_: str, group: str, name: str, reason: str, *, target: str | None = None) -> Figure:
    return Figure(
        id=id_, group=group, name=name, command="-", unit="-", status="not measurable", target=target,
        notes=(reason,),
    )  # fmt: skip


@dataclass(frozen=True)
class FigureSpec:
    id: str
    group: str
    measure: Callable[[], list[Figure]]  # one function per figure (a few return a family, e.g. per size)
    long: bool = False  # too slow for `make bench`'s budget: run by `make bench-long`, into the same file


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, never an interpolation between two."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def run_spec(spec: FigureSpec) -> list[Figure]:
    """A figure that raises is reported as failed with the error, and the table goes on."""
    started = time.perf_counter()
    try:
        figures = spec.measure()
    except Exception as exc:
        return [
            Figure(
                id=spec.id,
                group=spec.group,
                name=spec.id,
                command="-",
                unit="-",
                status="failed",
                notes=(f"{type(exc).__name__}: {str(exc)[:300]}",),
            )
        ]
    elapsed = time.perf_counter() - started
    return [Figure(**{**f.__dict__, "details": {**f.details, "wall_s": round(elapsed, 1)}}) for f in figures]


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table_rows(figures: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The printed table's rows, from the figures as written to latest.json (`Figure.as_json`), so a
    long-tier figure carried over from `make bench-long` is printed too, its value marked with its date."""
    rows = []
    for f in figures:
        verdict = {True: "yes", False: "NO", None: "-"}[f["target_met"]]
        measured = f["status"] == "measured"
        value = f"{_fmt(f['value'])} {f['unit']}".strip() if measured else f["status"]
        measured_at = f["details"].get("measured_at") if measured else None
        if measured_at:
            value += f" (bench-long {measured_at[:16]})"
        rows.append(
            [
                f["id"],
                value,
                _fmt(f["reference"]["value"]) if f["reference"] else "-",
                f"{f['ratio']:.2f}" if f["ratio"] is not None else "-",
                f["target"] or "-",
                verdict,
            ]
        )
    return rows


TABLE_HEADER = ["figure", "median", "reference", "ratio", "target", "met"]


def render_table(rows: Sequence[Sequence[str]], header: Sequence[str] = TABLE_HEADER) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)
