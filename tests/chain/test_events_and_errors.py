"""Event logs (docs/program.md §6) and error classification (§7)."""

from __future__ import annotations

import base64

from solana.rpc.core import RPCException
from solders.pubkey import Pubkey
from solders.rpc.errors import SendTransactionPreflightFailureMessage
from solders.rpc.responses import RpcSimulateTransactionResult
from solders.transaction_status import (
    InstructionErrorCustom,
    InstructionErrorFieldless,
    TransactionErrorFieldless,
    TransactionErrorInstructionError,
)

from missout.chain.accounts import PoolStatus
from missout.chain.borsh import BorshValue
from missout.chain.errors import ErrorSource, ProgramErrorCode, classify_transaction_error
from missout.chain.events import (
    ActionType,
    PoolActivityEvent,
    PoolStateEvent,
    WinnerSelectedEvent,
    decode_event,
    events_from_logs,
)
from missout.chain.program import shipped_codec

from .conftest import key

PROGRAM_ID = Pubkey.from_string("4wgBJUHydWXXJKXYsmdGoGw1ufC3dxz8q2mukFYaAhSm")
DOC_EXAMPLE = "SKlNQ6zZA3MAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAcAAAAAAAAAAAIAWmICAAAAAAA="
EVENT_SIZES = {
    "PoolStateEvent": 59, "PoolActivityEvent": 64, "UIHint": 41, "RefundBurned": 49, "RentClaimed": 112,
    "WinnerSelectedEvent": 128, "RefundClaimedEvent": 89, "ForfeitedToTreasury": 48,
}  # fmt: skip


def test_documented_example_log_decodes() -> None:
    raw = base64.b64decode(DOC_EXAMPLE)
    assert len(raw) == 59
    assert decode_event(raw) == PoolStateEvent(
        pool=Pubkey.default(),
        pool_id=7,
        status=PoolStatus.OPEN,
        participant_count=2,
        total_amount=40_000_000,
        status_reason=0,
    )


def test_event_sizes_match_the_doc() -> None:
    codec = shipped_codec()
    samples: dict[str, dict[str, BorshValue]] = {
        "PoolStateEvent": {"pool_id": key(1), "numerical_pool_id": 1, "status": 0, "participant_count": 0,
                           "total_amount": 0, "status_reason": 0},
        "PoolActivityEvent": {"pool_id": key(1), "numerical_pool_id": 1, "action": 4, "amount": 9,
                              "participant_rank": 0, "dev_fee_percent": 500, "burn_fee_percent": 350,
                              "treasury_fee_percent": 150},
        "UIHint": {"pool_id": key(1), "hint": 1},
        "RefundBurned": {"user": key(2), "amount": 1, "reason": 5},
        "RentClaimed": {"pool_id": key(1), "caller": key(2), "sent_to": key(3), "timestamp": 5},
        "WinnerSelectedEvent": {"pool_id": key(1), "numerical_pool_id": 1, "winner": key(2),
                                "winner_amount": 1, "dev_amount": 2, "burn_amount": 3, "treasury_amount": 4,
                                "randomness": 2**127},
        "RefundClaimedEvent": {"pool_id": key(1), "user": key(2), "amount": 1, "burn_amount": 0, "reason": 5},
        "ForfeitedToTreasury": {"pool_id": key(1), "amount": 1},
    }  # fmt: skip
    for name, fields in samples.items():
        raw = codec.encode_event(name, fields)
        assert len(raw) == EVENT_SIZES[name], name
        assert decode_event(raw) is not None, name
    activity = decode_event(codec.encode_event("PoolActivityEvent", samples["PoolActivityEvent"]))
    assert isinstance(activity, PoolActivityEvent)
    assert activity.action is ActionType.ENDED  # byte 4 is Ended (ordinal, not the Rust value 5)
    winner = decode_event(codec.encode_event("WinnerSelectedEvent", samples["WinnerSelectedEvent"]))
    assert isinstance(winner, WinnerSelectedEvent)
    assert winner.randomness == 2**127


def test_only_lines_from_our_program_frame_count() -> None:
    token = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
    other = str(key(50))
    logs = [
        f"Program {other} invoke [1]",
        f"Program data: {DOC_EXAMPLE}",  # a look-alike from another program
        f"Program {PROGRAM_ID} invoke [2]",
        "Program log: Instruction: JoinPool",
        f"Program {token} invoke [3]",
        f"Program data: {DOC_EXAMPLE}",  # printed inside the token CPI
        f"Program {token} success",
        f"Program data: {DOC_EXAMPLE}",
        "Program data: !!!not-base64",
        "Program data: AAAAAAAAAAA=",
        f"Program {PROGRAM_ID} consumed 5000 of 200000 compute units",
        f"Program {PROGRAM_ID} success",
        f"Program {other} success",
    ]
    events = events_from_logs(logs, PROGRAM_ID)
    assert len(events) == 1
    assert isinstance(events[0], PoolStateEvent)


def test_custom_program_error_is_named() -> None:
    classified = classify_transaction_error(TransactionErrorInstructionError(1, InstructionErrorCustom(6021)))
    assert classified.source is ErrorSource.PROGRAM
    assert (classified.code, classified.name, classified.instruction_index) == (6021, "InvalidPoolStatus", 1)
    assert classified.program_error is ProgramErrorCode.InvalidPoolStatus


def test_anchor_token_and_runtime_errors_are_named() -> None:
    anchor = classify_transaction_error({"InstructionError": [0, {"Custom": 2006}]})
    assert (anchor.source, anchor.name) == (ErrorSource.ANCHOR, "ConstraintSeeds")
    token = classify_transaction_error({"InstructionError": [2, {"Custom": 1}]})
    assert (token.source, token.name, token.code) == (ErrorSource.OTHER_CUSTOM, "Custom(1)", 1)
    runtime = classify_transaction_error(
        TransactionErrorInstructionError(0, InstructionErrorFieldless.InvalidAccountData)
    )
    assert (runtime.source, runtime.name) == (ErrorSource.INSTRUCTION, "InvalidAccountData")
    expired = classify_transaction_error(TransactionErrorFieldless.BlockhashNotFound)
    assert (expired.source, expired.name) == (ErrorSource.TRANSACTION, "BlockhashNotFound")
    assert classify_transaction_error("AlreadyProcessed").name == "AlreadyProcessed"
    assert classify_transaction_error(object()).source is ErrorSource.UNKNOWN


def test_preflight_failure_from_rpc_is_classified() -> None:
    result = RpcSimulateTransactionResult(
        err=TransactionErrorInstructionError(0, InstructionErrorCustom(6031)),
        logs=["Program log: AnchorError"],
        accounts=None,
        units_consumed=1,
        return_data=None,
    )
    error = RPCException(SendTransactionPreflightFailureMessage("Transaction simulation failed", result))
    classified = classify_transaction_error(error)
    assert (classified.code, classified.name) == (6031, "PoolStillLocked")
