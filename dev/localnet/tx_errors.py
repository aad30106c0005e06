"""Transaction errors in the JSON shape RPC nodes return (`meta.err`, `-32002` data), and their display text.

Errors are kept as that JSON value throughout the runtime (e.g. `"BlockhashNotFound"` or
`{"InstructionError": [1, {"Custom": 6004}]}`): it is what clients parse, and LiteSVM's own failures convert
to it losslessly through `to_json()`.
"""

from __future__ import annotations

import json
from typing import Any

from solders.pubkey import Pubkey
from solders.transaction_metadata import FailedTransactionMetadata

ErrJson = Any  # a str (fieldless variant) or a one-key dict, exactly as serde/agave serialise it

# Display strings agave prints for the errors a client is likely to meet; others fall back to the variant.
_TRANSACTION_ERROR_TEXT = {
    "AccountInUse": "Account in use",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "SignatureFailure": "Transaction did not pass signature verification",
    "InvalidAccountIndex": "Transaction contains an invalid account reference",
    "AddressLookupTableNotFound": "Transaction loads an address table account that doesn't exist",
    "InvalidAddressLookupTableIndex": "Transaction address table lookup uses an invalid index",
    "InvalidAddressLookupTableOwner": "Transaction loads an address table account with an invalid owner",
    "InvalidAddressLookupTableData": "Transaction loads an address table account with invalid data",
}
_INSTRUCTION_ERROR_TEXT = {
    "MissingRequiredSignature": "missing required signature for instruction",
    "InvalidAccountData": "invalid account data for instruction",
    "InvalidArgument": "invalid program argument",
    "InvalidInstructionData": "invalid instruction data",
    "InsufficientFunds": "insufficient funds for instruction",
    "AccountAlreadyInitialized": "instruction requires an uninitialized account",
    "UninitializedAccount": "instruction requires an initialized account",
    "UnbalancedInstruction": "sum of account balances before and after instruction do not match",
    "ReadonlyLamportChange": "instruction changed the balance of a read-only account",
    "ReadonlyDataModified": "instruction modified data of a read-only account",
    "ExternalAccountLamportSpend": "instruction spent from the balance of an account it does not own",
    "MissingAccount": "An account required by the instruction is missing",
    "IncorrectProgramId": "incorrect program id for instruction",
    "AccountNotExecutable": "instruction expected an executable account",
    "ComputationalBudgetExceeded": "Computational budget exceeded",
    "ProgramFailedToComplete": "Program failed to complete",
}


class TransactionFailure(Exception):
    """A transaction-level failure carrying its RPC-shaped error."""

    def __init__(self, err: ErrJson) -> None:
        super().__init__(describe_transaction_error(err))
        self.err = err


def instruction_error(index: int, *, custom: int | None = None, builtin: str | None = None) -> ErrJson:
    detail: ErrJson = {"Custom": custom} if custom is not None else builtin
    return {"InstructionError": [index, detail]}


def describe_instruction_error(detail: ErrJson) -> str:
    if isinstance(detail, dict) and "Custom" in detail:
        return f"custom program error: {detail['Custom']:#x}"
    if isinstance(detail, str):
        return _INSTRUCTION_ERROR_TEXT.get(detail, detail)
    return json.dumps(detail)


def describe_transaction_error(err: ErrJson) -> str:
    if isinstance(err, str):
        return _TRANSACTION_ERROR_TEXT.get(err, err)
    if isinstance(err, dict) and "InstructionError" in err:
        index, detail = err["InstructionError"]
        return f"Error processing Instruction {index}: {describe_instruction_error(detail)}"
    if isinstance(err, dict) and "InsufficientFundsForRent" in err:
        index = err["InsufficientFundsForRent"]["account_index"]
        return f"Transaction results in an account ({index}) with insufficient funds for rent"
    return json.dumps(err)


def program_failed_log(program_id: Pubkey, detail: ErrJson) -> str:
    return f"Program {program_id} failed: {describe_instruction_error(detail)}"


def litesvm_error(result: FailedTransactionMetadata) -> ErrJson:
    return json.loads(result.to_json())["err"]


def shift_instruction_index(err: ErrJson, offset: int, key_map: list[int]) -> ErrJson:
    """Rewrite an error from a sub-transaction (a run of the outer transaction's instructions, with its own
    key order) into the outer transaction's numbering."""
    if isinstance(err, dict) and "InstructionError" in err:
        index, detail = err["InstructionError"]
        return {"InstructionError": [index + offset, detail]}
    if isinstance(err, dict) and "InsufficientFundsForRent" in err:
        inner_index = err["InsufficientFundsForRent"]["account_index"]
        return {"InsufficientFundsForRent": {"account_index": key_map[inner_index]}}
    return err
