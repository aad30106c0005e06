"""What a send came to, and how a program or transaction error decides it (docs/solana.md §3.6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from missout.chain.errors import ClassifiedError, ErrorSource, ProgramErrorCode


class IntentStatus(StrEnum):
    """The `crank_intents.status` values (the table's CHECK lists the same strings)."""

    PREPARED = "prepared"
    SENT = "sent"
    FINALIZED = "finalized"
    FAILED = "failed"
    EXPIRED = "expired"
    ALREADY_DONE = "already_done"


class SendResult(Enum):
    FINALIZED = "finalized"  # landed without error
    ALREADY_DONE = "already_done"  # the program says the pool is already past this action
    FAILED = "failed"  # fatal: landed or simulated with an error a retry will not fix
    NOT_YET = "not_yet"  # the program says "too early": nothing recorded, come back later
    IN_FLIGHT = "in_flight"  # time ran out while unsettled: the intent stays live for the next run
    EXPIRED = "expired"  # (resume only) blockhash expired without landing: the action must be rebuilt
    BUSY = "busy"  # another run owns the live intent of this (pool, action)
    UNAVAILABLE = "unavailable"  # RPC failed before anything was recorded or sent


class ErrorClass(Enum):
    ALREADY_DONE = "already_done"
    NOT_YET = "not_yet"
    RETRYABLE = "retryable"
    FATAL = "fatal"


# The program's status guards: failing one means the pool already moved past the action, which for a crank
# is success by someone else (another run, or the creator after the 7-day timeout).
_ALREADY_DONE = frozenset(
    {
        ProgramErrorCode.InvalidPoolStatus,
        ProgramErrorCode.RandomnessAlreadySet,
        ProgramErrorCode.AlreadyEnded,
    }
)
# Conditions that change by themselves with time or with the pool's own state.
_NOT_YET = frozenset(
    {
        ProgramErrorCode.PoolStillLocked,
        ProgramErrorCode.PoolNotExpired,
        ProgramErrorCode.TooEarlyForEmergency,
        ProgramErrorCode.RandomnessNotResolved,
        ProgramErrorCode.Paused,
        ProgramErrorCode.PoolProcessing,
    }
)
# Transaction-level errors that say nothing about the action itself.
_RETRYABLE_TRANSACTION = frozenset(
    {"BlockhashNotFound", "AlreadyProcessed", "AccountInUse", "WouldExceedMaxBlockCostLimit"}
)


def classify_error(error: ClassifiedError) -> ErrorClass:
    code = error.program_error
    if code is not None:
        if code in _ALREADY_DONE:
            return ErrorClass.ALREADY_DONE
        if code in _NOT_YET:
            return ErrorClass.NOT_YET
        return ErrorClass.FATAL
    if error.source is ErrorSource.TRANSACTION and error.name in _RETRYABLE_TRANSACTION:
        return ErrorClass.RETRYABLE
    # Anchor constraint failures, CPI'd programs' errors, insufficient funds, unknown shapes: a person must
    # look; retrying would only burn fees.
    return ErrorClass.FATAL


def describe(error: ClassifiedError) -> str:
    where = f" in instruction {error.instruction_index}" if error.instruction_index is not None else ""
    code = f" ({error.code})" if error.code is not None else ""
    return f"{error.source.value} {error.name}{code}{where}"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    result: SendResult
    pool_id: int
    action: str
    attempt: int | None = None
    signature: str | None = None
    landed_slot: int | None = None
    error: str | None = None
