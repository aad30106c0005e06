"""What `next_action` answers: one action, when to look again, and what a person should know."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """Everything the monitor may do to a pool. Deliberately absent: pause_pool, unpause_pool, force_expire,
    set_lock_duration and admin_close_pool. Each of them can push a pool into a dead end (docs/program.md
    §9.2: pausing a Cancelled pool wipes its refund reason; force_expire and set_lock_duration break the
    config hash), and none is needed to finish a pool."""

    WAIT = "wait"  # nothing to send now; look again at `check_at`
    UNLOCK = "unlock"
    REQUEST_RANDOMNESS = "request_randomness"  # [randomness_commit, request_randomness]
    REQUEST_MOCK_RANDOMNESS = "request_mock_randomness"  # allow_mock pool and the setting allows it
    REVEAL_AND_SELECT = "reveal_and_select"  # [randomness_reveal, select_winner]
    SELECT_MOCK_WINNER = "select_mock_winner"  # the value was fixed by a mock request
    EMERGENCY_DRAW = "emergency_draw"  # allow_mock pool, reveal never came, > 24 h after unlock
    PAYOUT = "payout"
    RECORD_OUTCOME = "record_outcome"  # database only: the payout landed, write the result
    CLOSE_RANDOMNESS = "close_randomness"  # recover the randomness account's rent after payout
    SWEEP_EXPIRED = "sweep_expired"  # Open pool 14 days after creation: cancel so players can refund
    FINALIZE_FORFEITED = "finalize_forfeited"  # Cancelled pool 30 days after close: vault to treasury
    CLAIM_RENT = "claim_rent"  # the DEV wallet's rent claim (to the treasury)
    NONE = "none"  # nothing will ever be done to this pool again


# Actions that send a transaction; the others only wait or write the record.
CHAIN_ACTIONS = frozenset(Action) - {Action.WAIT, Action.RECORD_OUTCOME, Action.NONE}


class Alert(StrEnum):
    DEADLINE_AT_RISK = "deadline_at_risk"  # randomness committed, select not landed, deadline near
    DEAD_END = "dead_end"  # the pool can never finish; `dead_end` names why
    PAUSED = "paused"  # paused by the DEV wallet: every crank would fail
    FOREIGN = "foreign"  # the pool names another DEV wallet: we cannot crank it


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    # Chain time (unix seconds) at which to look again; None = never (terminal, or only a change made by
    # someone else can matter and the periodic sweep will notice it).
    check_at: int | None
    alert: Alert | None = None
    dead_end: str | None = None  # one of missout.pools.payability's reasons when alert is DEAD_END
    slots_left: int | None = None  # before the randomness deadline, when one is running
    why: str = ""

    @property
    def sends(self) -> bool:
        return self.action in CHAIN_ACTIONS
