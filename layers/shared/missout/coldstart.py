"""The garbage collector during a Lambda handler's init: paused while its modules load, then told that what
init built lives for the whole execution environment.

Loading FastAPI, SQLAlchemy, pydantic, solana-py and our modules allocates a few hundred thousand objects
that live as long as the process. Each allocation burst triggers collections, and the full ones walk every
tracked object to free nothing (measured in bench/figures/cold_start.py: 15-20 % of a handler's import on
Python 3.12). `end_init` freezes what init built (`gc.freeze`: moved to the permanent generation), so the
first collections after init, on the first request or tick, do not walk it either; objects made later are
collected as usual. The cost: cyclic garbage made during init is never freed (a few kilobytes).
"""

from __future__ import annotations

import gc


def begin_init() -> bool:
    """Pause the collector; returns whether it was running (a host that turned it off keeps it off)."""
    running = gc.isenabled()
    gc.disable()
    return running


def end_init(collector_was_running: bool) -> None:
    gc.freeze()
    if collector_was_running:
        gc.enable()
