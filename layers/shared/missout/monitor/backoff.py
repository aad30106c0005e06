"""How long a pool rests after failures, and when it counts as stuck (solana.md §6: Tuktuk's exponential
back-off with jitter and a retry ceiling, then park and alert)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    base_s: float = 5.0
    cap_s: float = 300.0
    max_failures: int = 6  # consecutive failed ticks before the pool is marked stuck
    stuck_recheck_s: float = 3_600.0  # a stuck pool is still tried once in a while (the cause may be fixed)

    def delay_s(self, failures: int, rng: random.Random) -> float:
        """Rest after the `failures`-th consecutive failure: doubling from `base_s`, capped, with "equal
        jitter" (half fixed, half random) so overlapping runs and many failing pools spread out but a
        pool never retries at once."""
        if failures >= self.max_failures:
            ceiling = self.stuck_recheck_s
        else:
            ceiling = min(self.cap_s, self.base_s * 2 ** max(0, failures - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def is_stuck(self, failures: int) -> bool:
        return failures >= self.max_failures
