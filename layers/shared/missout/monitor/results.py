"""What acting on one pool came to (`ActResult`), apart from the actor that produces it: the tick reads
results on every path, while the actor and everything it needs (the instruction builders, Switchboard's
gateway client, oracle choice, reveal and draw bundles) load only when a tick has a pool to act on
(`missout.monitor.run`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Progress(Enum):
    DONE = "done"  # the chain moved (by us or someone else): read the pool again
    LATER = "later"  # not now, through no fault (too early, in flight, another run holds it)
    FAILED = "failed"  # counts towards back-off and `stuck`


@dataclass(frozen=True, slots=True)
class ActResult:
    progress: Progress
    crank: str | None = None  # the crank_intents action name
    attempt: int | None = None
    signature: str | None = None
    error: str | None = None
