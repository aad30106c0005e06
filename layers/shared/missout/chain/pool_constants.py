"""The `Pool` account's vocabulary (docs/program.md §2.1-§2.3) without its codec: the seat count and the two
one-byte enums.

Kept apart from `missout.chain.accounts` (which decodes accounts through solders and the IDL codec) so the
database schema, the status vocabulary and the API's read routes can name them without loading the chain
stack at cold start. `missout.chain.accounts` re-exports all three.
"""

from __future__ import annotations

from enum import IntEnum

MAX_PARTICIPANTS = 20


class PoolStatus(IntEnum):
    """On-chain `PoolStatus` (one byte, the declared ordinal)."""

    OPEN = 0
    LOCKED = 1
    UNLOCKED = 2
    RANDOMNESS_COMMITTED = 3
    RANDOMNESS_REVEALED = 4  # never persisted by the program
    WINNER_SELECTED = 5
    ENDED = 6
    CANCELLED = 7
    CLOSED = 8


class StatusReason(IntEnum):
    """Values of `Pool.status_reason` (3 is unused by the program)."""

    NONE = 0
    EXPIRED = 1
    PAUSED = 2
    MAX_REACHED = 4
    CANCELLED = 5
    ADMIN_CLOSED = 6
