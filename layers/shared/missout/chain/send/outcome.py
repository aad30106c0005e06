"""What a send came to: the intent row's status, the detailed result, and the one thing the caller must act
on (`OutcomeKind`). Importable without the rest of the package: `missout.db.tables` takes the crank intent
statuses from here, so this module imports nothing of `missout`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum


class IntentStatus(StrEnum):
    """The `crank_intents.status` values: the one definition (the table's CHECK is built from it).

    prepared: row written, bytes possibly never sent; sent: broadcast at least once, outcome unknown;
    finalized: landed without error; failed: landed with (or was refused for) an error, nothing changed on
    chain, so a later attempt may be signed; expired: blockhash expired with no trace on chain, safe to
    re-sign; already_done: landed with an error that says the pool is already past this action."""

    PREPARED = "prepared"
    SENT = "sent"
    FINALIZED = "finalized"
    FAILED = "failed"
    EXPIRED = "expired"
    ALREADY_DONE = "already_done"


# Live = may still land: at most one per (pool, action), and no new attempt while one exists.
LIVE_INTENT_STATUSES = (IntentStatus.PREPARED, IntentStatus.SENT)
# Attempt N + 1 may be signed only after attempt N ended in one of these: provably without effect.
RETRYABLE_INTENT_STATUSES = (IntentStatus.EXPIRED, IntentStatus.FAILED)


class OutcomeKind(Enum):
    """What the caller does next. Every `SendResult` maps to exactly one."""

    DONE = "done"  # our transaction for this (pool, action) finalized in this call: record the effect
    ALREADY_DONE = "already_done"  # the pool is past this action (or ours landed earlier): re-read the pool
    NOT_YET = "not_yet"  # nothing wrong that time will not fix: try again on a later tick
    FAILED = "failed"  # for good: retrying only burns fees, a person must look


class SendResult(Enum):
    FINALIZED = "finalized"  # landed without error
    # The program says the pool is already past this action, or an earlier attempt of ours finalized.
    ALREADY_DONE = "already_done"
    FAILED = "failed"  # fatal: landed or simulated with an error a retry will not fix
    NOT_YET = "not_yet"  # the program says "too early" (or the pool has not reached the action's state)
    IN_FLIGHT = "in_flight"  # time ran out while unsettled: the intent stays live for the next run
    EXPIRED = "expired"  # (resume only) blockhash expired without landing: the next send signs attempt + 1
    BUSY = "busy"  # another run owns the live intent of this (pool, action)
    UNAVAILABLE = "unavailable"  # RPC failed before anything was recorded or sent
    NO_TIME = "no_time"  # too little of the run's budget left to start

    @property
    def kind(self) -> OutcomeKind:
        return _KIND[self]


_KIND = {
    SendResult.FINALIZED: OutcomeKind.DONE,
    SendResult.ALREADY_DONE: OutcomeKind.ALREADY_DONE,
    SendResult.FAILED: OutcomeKind.FAILED,
    SendResult.NOT_YET: OutcomeKind.NOT_YET,
    SendResult.IN_FLIGHT: OutcomeKind.NOT_YET,
    SendResult.EXPIRED: OutcomeKind.NOT_YET,
    SendResult.BUSY: OutcomeKind.NOT_YET,
    SendResult.UNAVAILABLE: OutcomeKind.NOT_YET,
    SendResult.NO_TIME: OutcomeKind.NOT_YET,
}


class ErrorClass(Enum):
    """What a program or transaction error means for one action (see `judge`)."""

    ALREADY_DONE = "already_done"
    NOT_YET = "not_yet"
    RETRYABLE = "retryable"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    result: SendResult
    pool_id: int
    action: str
    attempt: int | None = None
    signature: str | None = None
    landed_slot: int | None = None
    error: str | None = None

    @property
    def kind(self) -> OutcomeKind:
        return self.result.kind
