"""Durable sending of crank transactions: intent rows before the first send, resend until settled,
re-sign only after expiry, resume after a crash (docs/solana.md §3)."""

from missout.chain.send.intents import CrankIntent, IntentOwnedElsewhere
from missout.chain.send.outcome import ErrorClass, IntentStatus, SendOutcome, SendResult, classify_error
from missout.chain.send.policy import SendPolicy, policy_from_settings
from missout.chain.send.prepare import PreparedTransaction, SimulationFailed, prepare_transaction
from missout.chain.send.sender import DurableSender
from missout.chain.send.settle import Settlement, send_until_settled

__all__ = [
    "CrankIntent",
    "DurableSender",
    "ErrorClass",
    "IntentOwnedElsewhere",
    "IntentStatus",
    "PreparedTransaction",
    "SendOutcome",
    "SendPolicy",
    "SendResult",
    "Settlement",
    "SimulationFailed",
    "classify_error",
    "policy_from_settings",
    "prepare_transaction",
    "send_until_settled",
]
