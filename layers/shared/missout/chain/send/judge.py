"""What a refused or failed crank means, per action (docs/solana.md §3.6, docs/program.md §3).

The same program error means different things for different actions, and for one action in different pool
states: `InvalidPoolStatus` from `request_randomness` on a pool that is still Locked means "not yet", on a
pool already RandomnessCommitted it means "already done". So a status-guard error is decided by the pool's
current state, read after the error, against the action's rule below:

* `due`: the states in which the program lets the action run;
* `earlier`: the states the pool passes through before it can be due: a guard failing there means "not yet";
* any other state, or no pool account at all (closed): the pool is past the action, "already done".

A guard failing while the pool is in a `due` state is a race with another writer (or a pool the program
cannot move any more, docs/program.md §9.2); either way the answer is "not yet": it is never reported as
done, and a person sees it through the monitor's not-yet ageing rather than through a false alarm here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from missout.chain.accounts import PoolStatus
from missout.chain.errors import ClassifiedError, ErrorSource, ProgramErrorCode
from missout.chain.program import InstructionDecodeError, shipped_codec
from missout.chain.send.outcome import ErrorClass

_S = PoolStatus
_BEFORE_LOCK = frozenset({_S.OPEN})
_BEFORE_UNLOCK = _BEFORE_LOCK | {_S.LOCKED}
_BEFORE_DRAW = _BEFORE_UNLOCK | {_S.UNLOCKED, _S.RANDOMNESS_COMMITTED, _S.RANDOMNESS_REVEALED}


@dataclass(frozen=True, slots=True)
class ActionRule:
    instruction: str  # our program's instruction that carries the action's effect
    due: frozenset[PoolStatus]
    earlier: frozenset[PoolStatus]
    # This action's own "too early" errors: conditions that time or earlier actions will change.
    not_yet: frozenset[ProgramErrorCode] = frozenset()


_E = ProgramErrorCode
# Crank action names (the `crank_intents.action` values) whose effect is one instruction of our program.
# Actions carried by other programs' instructions (randomness_init, randomness_close; create_fee_accounts is
# reserved and never sent) have no rule: their errors are judged by class alone.
RULES: dict[str, ActionRule] = {
    "unlock_pool": ActionRule(
        "unlock_pool", frozenset({_S.LOCKED}), _BEFORE_LOCK, frozenset({_E.PoolStillLocked})
    ),
    "request_randomness": ActionRule(
        "request_randomness", frozenset({_S.UNLOCKED}), _BEFORE_UNLOCK, frozenset({_E.PoolStillLocked})
    ),
    # select_winner accepts Unlocked too (emergency reveal after the timeout); before the commit it answers
    # RandomnessNotCommitted, before the reveal RandomnessNotResolved.
    "select_winner": ActionRule(
        "select_winner",
        frozenset({_S.UNLOCKED, _S.RANDOMNESS_COMMITTED, _S.RANDOMNESS_REVEALED}),
        _BEFORE_UNLOCK,
        frozenset({_E.RandomnessNotCommitted, _E.RandomnessNotResolved, _E.RandomnessNotRevealed}),
    ),
    "payout_winner": ActionRule("payout_winner", frozenset({_S.WINNER_SELECTED}), _BEFORE_DRAW),
    "sweep_expired_pool": ActionRule(
        "sweep_expired_pool", frozenset({_S.OPEN}), frozenset(), frozenset({_E.PoolNotExpired})
    ),
    "admin_close_pool": ActionRule("admin_close_pool", frozenset({_S.OPEN}), frozenset()),
    # Both forfeit paths need a Cancelled pool 30 days after its close; an Open pool may still be cancelled.
    "claim_refund_forfeit": ActionRule(
        "claim_refund", frozenset({_S.CANCELLED}), _BEFORE_LOCK, frozenset({_E.TooEarlyForEmergency})
    ),
    "finalize_forfeited_pool": ActionRule(
        "finalize_forfeited_pool",
        frozenset({_S.CANCELLED}),
        _BEFORE_LOCK,
        frozenset({_E.TooEarlyForEmergency}),
    ),
    # claim_rent needs every participant gone (refunds or payout first): PoolNotEmpty is "not yet".
    "claim_rent": ActionRule(
        "claim_rent",
        frozenset({_S.ENDED, _S.CANCELLED, _S.WINNER_SELECTED}),
        _BEFORE_DRAW,
        frozenset({_E.TooEarlyForEmergency, _E.PoolNotEmpty}),
    ),
}

# The program's status guards: which state they mean depends on the action and the pool (module docstring).
_STATUS_GUARDS = frozenset({_E.InvalidPoolStatus, _E.RandomnessAlreadySet, _E.AlreadyEnded})
# "Too early" for any action: a paused pool may be unpaused, a processing flag is cleared by its holder.
_NOT_YET_ANY = frozenset({_E.Paused, _E.PoolProcessing})
# Transaction-level errors that say nothing about the action itself.
_RETRYABLE_TRANSACTION = frozenset(
    {"BlockhashNotFound", "AlreadyProcessed", "AccountInUse", "WouldExceedMaxBlockCostLimit"}
)


class Judgement(Enum):
    """`judge`'s answer when the error alone does not decide: read the pool, then `judge_by_state`."""

    NEEDS_POOL_STATE = "needs_pool_state"


def judge(action: str, error: ClassifiedError) -> ErrorClass | Judgement:
    """Classify `error` (already narrowed to our program by `ours`) for `action`."""
    code = error.program_error
    if code is None:
        if error.source is ErrorSource.TRANSACTION and error.name in _RETRYABLE_TRANSACTION:
            return ErrorClass.RETRYABLE
        # Anchor constraint failures, other programs' errors, insufficient funds, unknown shapes: a person
        # must look; retrying would only burn fees.
        return ErrorClass.FATAL
    rule = RULES.get(action)
    if code in _NOT_YET_ANY or (rule is not None and code in rule.not_yet):
        return ErrorClass.NOT_YET
    if code in _STATUS_GUARDS:
        # Without a rule the pool's states say nothing about this action: trust the guard.
        return ErrorClass.ALREADY_DONE if rule is None else Judgement.NEEDS_POOL_STATE
    return ErrorClass.FATAL


def judge_by_state(action: str, status: PoolStatus | None) -> ErrorClass:
    """A status guard refused `action` and the pool is now in `status` (None: the account is gone)."""
    rule = RULES[action]
    if status is None:
        return ErrorClass.ALREADY_DONE  # closed: nothing is left to do on this pool
    if status in rule.earlier or status in rule.due:
        return ErrorClass.NOT_YET
    return ErrorClass.ALREADY_DONE


def ours(error: ClassifiedError, transaction: VersionedTransaction, program_id: Pubkey) -> ClassifiedError:
    """`error` as raised by our program only: a 6000+ code from another program's instruction (Switchboard's,
    in a bundle) is that program's, not ours, so it is relabelled as another program's custom error."""
    if error.source is not ErrorSource.PROGRAM or error.instruction_index is None:
        return error
    if _program_of(transaction, error.instruction_index) == program_id:
        return error
    return ClassifiedError(
        ErrorSource.OTHER_CUSTOM, f"Custom({error.code})", error.code, error.instruction_index
    )


def pool_of(transaction: VersionedTransaction, program_id: Pubkey, action: str) -> Pubkey | None:
    """The `pool` account of the action's instruction in `transaction` (decoded by the IDL), if present."""
    rule = RULES.get(action)
    if rule is None:
        return None
    message = transaction.message
    keys = list(message.account_keys)
    for compiled in message.instructions:
        if keys[compiled.program_id_index] != program_id:
            continue
        try:
            decoded = shipped_codec().decode_instruction(
                program_id, program_id, [keys[i] for i in compiled.accounts], bytes(compiled.data)
            )
        except InstructionDecodeError:
            continue
        if decoded.name == rule.instruction:
            return decoded.accounts.get("pool")
    return None


def _program_of(transaction: VersionedTransaction, index: int) -> Pubkey | None:
    message = transaction.message
    if not 0 <= index < len(message.instructions):
        return None
    return message.account_keys[message.instructions[index].program_id_index]


def describe(error: ClassifiedError) -> str:
    where = f" in instruction {error.instruction_index}" if error.instruction_index is not None else ""
    code = f" ({error.code})" if error.code is not None else ""
    return f"{error.source.value} {error.name}{code}{where}"
