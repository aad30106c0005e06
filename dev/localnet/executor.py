"""Running the instructions of a transaction that calls at least one modelled program.

The transaction is cut into segments in order: each maximal run of native instructions (System, SPL Token,
Token-2022, ATA, Memo, ComputeBudget...) goes to LiteSVM as a sub-transaction, so the real programs run them;
each modelled instruction runs in Python through an `InvokeContext`. Segments apply their changes to LiteSVM
as they go, so later ones see earlier ones' effects; the caller snapshots every key of the message first and
restores it on failure (keys outside the message cannot be written by anyone, CPIs included).

Sub-transactions are paid by the runtime's own fee account and carry placeholder signatures: the caller has
already verified the real signatures, the blockhash and the fee payer, and charged the real fee once. LiteSVM
runs with signature checks, blockhash checks and history off for that reason (see `runtime.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from solders.account import Account
from solders.hash import Hash
from solders.instruction import AccountMeta, CompiledInstruction, Instruction
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata, TransactionMetadata

from localnet.history import CompiledInner
from localnet.invoke import ModelInvokeContext, to_account
from localnet.message_accounts import MessageAccounts
from localnet.model_api import AccountRef, Clock, ModelledProgram, ProgramError
from localnet.tx_errors import (
    ErrJson,
    instruction_error,
    litesvm_error,
    program_failed_log,
    shift_instruction_index,
)

log = logging.getLogger(__name__)

# What one modelled instruction reports as consumed: an Anchor instruction with a few token CPIs uses tens of
# thousands of units. Clients size SetComputeUnitLimit from simulation, so a plausible figure matters more
# than an exact one.
MODELLED_INSTRUCTION_UNITS = 40_000
_RUNTIME_FEE_ACCOUNT_FLOOR = 10**15
_RUNTIME_FEE_ACCOUNT_TOP_UP = 10**17


@dataclass
class ExecutionResult:
    err: ErrJson | None = None
    logs: list[str] = field(default_factory=list)
    inner_instructions: dict[int, list[CompiledInner]] = field(default_factory=dict)
    compute_units: int = 0


@dataclass(frozen=True)
class ChainServices:
    """What a modelled instruction may ask of the chain besides accounts."""

    clock: Callable[[], Clock]
    slot_hash: Callable[[int], bytes | None]
    minimum_balance: Callable[[int], int]


class SegmentedExecutor:
    def __init__(
        self,
        svm: LiteSVM,
        programs: dict[Pubkey, ModelledProgram],
        services: ChainServices,
        fee_account: Pubkey,
    ) -> None:
        self._svm = svm
        self._programs = programs
        self._services = services
        self._fee_account = fee_account
        self._sub_transactions = 0
        self._unit_limit = 0

    def run(
        self, message: MessageAccounts, instructions: list[CompiledInstruction], unit_limit: int
    ) -> ExecutionResult:
        result = ExecutionResult()
        self._unit_limit = unit_limit
        start = 0
        while start < len(instructions) and result.err is None:
            if self._modelled_program(message, instructions[start]) is not None:
                self._run_modelled(message, start, instructions[start], result)
                start += 1
                continue
            end = start
            while end < len(instructions) and self._modelled_program(message, instructions[end]) is None:
                end += 1
            self._run_native(message, start, instructions[start:end], result)
            start = end
        return result

    def _modelled_program(
        self, message: MessageAccounts, instruction: CompiledInstruction
    ) -> ModelledProgram | None:
        return self._programs.get(message.keys[instruction.program_id_index])

    def _run_native(
        self,
        message: MessageAccounts,
        offset: int,
        instructions: list[CompiledInstruction],
        result: ExecutionResult,
    ) -> None:
        sub_message = Message.new_with_blockhash(
            [self._decompile(message, ix) for ix in instructions], self._fee_account, Hash.default()
        )
        self._sub_transactions += 1
        # Unique placeholder signatures: LiteSVM keeps no history here, but its metadata is keyed by them.
        placeholder = Signature(self._sub_transactions.to_bytes(64, "little"))
        signatures = [placeholder] + [Signature.default()] * (sub_message.header.num_required_signatures - 1)
        self._ensure_fee_account_funded()
        outcome = self._svm.send_transaction(VersionedTransaction.populate(sub_message, signatures))
        # The runtime fee account is the only sub-transaction key outside the message; no instruction uses it.
        outer_index = {key: i for i, key in enumerate(message.keys)}
        key_map = [outer_index.get(key, -1) for key in sub_message.account_keys]
        meta = outcome.meta() if isinstance(outcome, FailedTransactionMetadata) else outcome
        result.logs.extend(meta.logs())
        result.compute_units += meta.compute_units_consumed()
        collect_inner_instructions(meta, offset, key_map, result)
        if isinstance(outcome, FailedTransactionMetadata):
            result.err = shift_instruction_index(litesvm_error(outcome), offset, key_map)

    @staticmethod
    def _decompile(message: MessageAccounts, instruction: CompiledInstruction) -> Instruction:
        metas = [
            AccountMeta(message.keys[i], is_signer=message.is_signer[i], is_writable=message.is_writable[i])
            for i in bytes(instruction.accounts)
        ]
        return Instruction(message.keys[instruction.program_id_index], bytes(instruction.data), metas)

    def _ensure_fee_account_funded(self) -> None:
        balance = self._svm.get_balance(self._fee_account) or 0
        if balance < _RUNTIME_FEE_ACCOUNT_FLOOR:
            self._svm.set_account(
                self._fee_account, Account(_RUNTIME_FEE_ACCOUNT_TOP_UP, b"", Pubkey.default())
            )

    def _run_modelled(
        self, message: MessageAccounts, index: int, instruction: CompiledInstruction, result: ExecutionResult
    ) -> None:
        program_id = message.keys[instruction.program_id_index]
        program = self._programs[program_id]
        refs = [
            AccountRef(message.keys[i], is_signer=message.is_signer[i], is_writable=message.is_writable[i])
            for i in bytes(instruction.accounts)
        ]
        ctx = ModelInvokeContext(
            program_id=program_id,
            accounts=refs,
            data=bytes(instruction.data),
            clock=self._services.clock(),
            message=message,
            load=self._svm.get_account,
            slot_hash=self._services.slot_hash,
            minimum_balance=self._services.minimum_balance,
            logs=result.logs,
        )
        result.logs.append(f"Program {program_id} invoke [1]")
        remaining = max(self._unit_limit - result.compute_units, MODELLED_INSTRUCTION_UNITS)
        units = f"Program {program_id} consumed {MODELLED_INSTRUCTION_UNITS} of {remaining} compute units"
        try:
            program.process(ctx)
            changes = ctx.finish()
        except ProgramError as failure:
            detail: ErrJson = {"Custom": failure.custom} if failure.custom is not None else failure.builtin
            self._fail(result, index, program_id, detail, failure.log, units)
            return
        except Exception as bug:  # a crashing model is a failed instruction, not a dead server
            log.exception("modelled program %s crashed", program.name)
            self._fail(result, index, program_id, "ProgramFailedToComplete", f"panicked: {bug!r}", units)
            return
        finally:
            result.compute_units += MODELLED_INSTRUCTION_UNITS
            if ctx.inner_instructions:
                result.inner_instructions[index] = ctx.inner_instructions
        for key, state in changes.items():
            self._svm.set_account(key, to_account(state))
        result.logs += [units, f"Program {program_id} success"]

    @staticmethod
    def _fail(
        result: ExecutionResult, index: int, program_id: Pubkey, detail: ErrJson, message: str, units: str
    ) -> None:
        if message:
            result.logs.append(message if message.startswith("Program ") else f"Program log: {message}")
        result.logs += [units, program_failed_log(program_id, detail)]
        custom = detail["Custom"] if isinstance(detail, dict) else None
        result.err = instruction_error(index, custom=custom, builtin=None if custom is not None else detail)


def collect_inner_instructions(
    meta: TransactionMetadata, offset: int, key_map: list[int], result: ExecutionResult
) -> None:
    """LiteSVM's CPIs of a (sub-)transaction, renumbered into the outer transaction's numbering."""
    for position, inners in enumerate(meta.inner_instructions()):
        compiled = [
            CompiledInner(
                program_id_index=key_map[inner.instruction().program_id_index],
                accounts=[key_map[i] for i in bytes(inner.instruction().accounts)],
                data=bytes(inner.instruction().data),
                stack_height=inner.stack_height() or 2,
            )
            for inner in inners
        ]
        if compiled:
            result.inner_instructions[offset + position] = compiled
