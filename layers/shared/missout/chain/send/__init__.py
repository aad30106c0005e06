"""Durable sending of crank transactions: one effect per (pool, action), intent rows before the first send,
resend until settled, re-sign only after certain expiry, resume after a crash (docs/sending.md; the
guarantees and the caller's duties are in `missout.chain.send.sender`).

The names below are loaded on first use: `missout.db.tables` imports the intent statuses from
`missout.chain.send.outcome`, and `intents` imports `missout.db.tables`, so importing every module here
eagerly would make that a cycle whenever the tables are imported first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from missout.chain.send.intents import CrankIntent, IntentOwnedElsewhere
    from missout.chain.send.outcome import (
        ErrorClass,
        IntentStatus,
        OutcomeKind,
        SendOutcome,
        SendResult,
    )
    from missout.chain.send.policy import RemainingMs, SendPolicy, policy_from_settings
    from missout.chain.send.prepare import (
        PreparedTransaction,
        SimulationFailed,
        TransactionTooLarge,
        prepare_transaction,
    )
    from missout.chain.send.sender import DurableSender
    from missout.chain.send.settle import Settlement, send_until_settled

_HOME = {
    "CrankIntent": "intents",
    "IntentOwnedElsewhere": "intents",
    "ErrorClass": "outcome",
    "IntentStatus": "outcome",
    "OutcomeKind": "outcome",
    "SendOutcome": "outcome",
    "SendResult": "outcome",
    "RemainingMs": "policy",
    "SendPolicy": "policy",
    "policy_from_settings": "policy",
    "PreparedTransaction": "prepare",
    "SimulationFailed": "prepare",
    "TransactionTooLarge": "prepare",
    "prepare_transaction": "prepare",
    "DurableSender": "sender",
    "Settlement": "settle",
    "send_until_settled": "settle",
}

__all__ = [
    "CrankIntent",
    "DurableSender",
    "ErrorClass",
    "IntentOwnedElsewhere",
    "IntentStatus",
    "OutcomeKind",
    "PreparedTransaction",
    "RemainingMs",
    "SendOutcome",
    "SendPolicy",
    "SendResult",
    "Settlement",
    "SimulationFailed",
    "TransactionTooLarge",
    "policy_from_settings",
    "prepare_transaction",
    "send_until_settled",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
