"""One more try when the database was momentarily unavailable, for units of work that are safe to repeat.

A report's transactions are: the preflight (reads, and a rate-limit count that a failed transaction rolled
back), and the recording (all-or-nothing, with the replay guard deciding what a second run writes). Repeating
either after a `DatabaseUnavailable` cannot write anything twice. One retry after a short jittered pause
absorbs a pooler's momentary queue overflow (pgBouncer's `query_wait_timeout` under a burst); a database that
is really down still answers 503 after it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from missout.db.transaction import DatabaseUnavailable

T = TypeVar("T")
PAUSE_S = 0.25


def once_more_if_unavailable(work: Callable[[], T]) -> T:
    try:
        return work()
    except DatabaseUnavailable:
        time.sleep(random.uniform(0.5, 1.5) * PAUSE_S)
        return work()
