"""The send-and-confirm loop for one signed transaction (docs/solana.md §3.1, §3.2).

The same bytes are rebroadcast to every healthy endpoint at once every `resend_interval_s` while
`getSignatureStatuses` is polled, until the transaction is finalized, or its blockhash has provably expired
(finalized block height past `last_valid_block_height`, and a status answer that has seen that height
still without a trace of the signature), or the caller's time budget runs out.
Nothing here re-signs: a new signature before expiry could execute the action twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from solana.rpc.models import TxOpts
from solders.rpc.responses import GetEpochInfoResp, GetSignatureStatusesResp
from solders.signature import Signature
from solders.transaction_status import TransactionConfirmationStatus, TransactionStatus

from missout.chain.errors import ClassifiedError, classify_transaction_error
from missout.chain.rpc import RpcError, RpcSession
from missout.chain.send.intents import CrankIntent
from missout.chain.send.outcome import IntentStatus
from missout.chain.send.policy import SendPolicy
from missout.observability import logger

# We simulated already, and rebroadcasting is this loop's job, not the node's.
_SEND_OPTIONS = TxOpts(skip_preflight=True, max_retries=0, skip_confirmation=True)


@dataclass(frozen=True, slots=True)
class Settlement:
    """How an attempt ended. `status` is FINALIZED, FAILED (landed with `error`: the caller judges what the
    error means for its action), EXPIRED, or None: still unsettled when the time budget ran out."""

    status: IntentStatus | None
    landed_slot: int | None = None
    error: ClassifiedError | None = None


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    status: TransactionStatus | None
    context_slot: int  # the slot of the node's view the answer was read from


async def signature_status(rpc: RpcSession, signature: Signature) -> StatusAnswer:
    """The signature's status, searching history too (a resumed intent may be minutes old)."""
    response = await rpc.read(
        "getSignatureStatuses",
        lambda c: c.get_signature_statuses([signature], search_transaction_history=True),
        GetSignatureStatusesResp,
    )
    return StatusAnswer(response.value[0] if response.value else None, response.context.slot)


def is_finalized(status: TransactionStatus) -> bool:
    """`confirmationStatus` when the node gives it; without it (older nodes, some proxies) the RPC
    specification's rule: `confirmations` is null once the block is rooted, i.e. finalized."""
    if status.confirmation_status is not None:
        return status.confirmation_status == TransactionConfirmationStatus.Finalized
    return status.confirmations is None


def settlement_of(status: TransactionStatus) -> Settlement:
    """A finalized status: without error it is our effect; with one, FAILED carrying the error."""
    if status.err is None:
        return Settlement(IntentStatus.FINALIZED, status.slot)
    return Settlement(IntentStatus.FAILED, status.slot, classify_transaction_error(status.err))


async def send_until_settled(
    rpc: RpcSession,
    intent: CrankIntent,
    remaining_ms: Callable[[], int],
    policy: SendPolicy,
    on_broadcast: Callable[[], None],
) -> Settlement:
    """Drive `intent` to a settlement. RPC failures never end the loop early: an unknown status is not
    "expired" and a failed broadcast is simply repeated at the next interval.

    Expiry is certain only when a status answer that has seen slot S does not know the signature, S being a
    slot at which the finalized block height was already past `last_valid_block_height` (a transaction
    valid until then can only have landed before S). Height and slot come together from one `getEpochInfo`
    answer; that fact never changes, so it is read once and every later status answer is checked against
    it. `getSignatureStatuses` takes no `minContextSlot`, so the check is made on the answer's context
    slot: a node behind S (a load balancer's other node, a failover endpoint) decides nothing."""
    signature = Signature.from_string(intent.signature)
    last_broadcast = float("-inf")
    past_height_at: int | None = None  # S: a slot whose finalized height is past the last valid one
    while True:
        try:
            answer: StatusAnswer | None = await signature_status(rpc, signature)
        except RpcError as exc:
            logger().warning("signature status unavailable", extra={"intent": intent.id, "error": str(exc)})
            answer = None
        status = answer.status if answer is not None else None
        if status is not None and is_finalized(status):
            return settlement_of(status)
        if answer is not None and status is None:
            if past_height_at is None:
                past_height_at = await _slot_past_last_valid_height(rpc, intent)
            elif answer.context_slot >= past_height_at:
                return Settlement(IntentStatus.EXPIRED)
            else:
                logger().info(
                    "status answer behind the slot the height was read at; expiry undecided",
                    extra={
                        "intent": intent.id,
                        "answer_slot": answer.context_slot,
                        "height_slot": past_height_at,
                    },
                )
        if remaining_ms() < policy.safety_margin_ms:
            return Settlement(None)
        # A status that exists but is not yet finalized has landed: only wait for it.
        if status is None and time.monotonic() - last_broadcast >= policy.resend_interval_s:
            last_broadcast = time.monotonic()
            await _broadcast(rpc, intent)
            on_broadcast()
        await asyncio.sleep(policy.poll_interval_s)


async def _broadcast(rpc: RpcSession, intent: CrankIntent) -> None:
    """The same bytes to every healthy endpoint: one signature, so at most one execution
    (docs/solana.md §3.7)."""
    try:
        sent = await rpc.broadcast_raw_transaction(intent.raw_transaction, _SEND_OPTIONS)
    except RpcError as exc:
        # Whether or not it reached a node, the remedy is the same: the same bytes again, next interval.
        logger().warning("broadcast failed", extra={"intent": intent.id, "error": str(exc)})
        return
    if sent.not_accepted:
        logger().info(
            "broadcast partly accepted",
            extra={
                "intent": intent.id,
                "accepted_by": list(sent.accepted_by),
                "not_accepted": sent.not_accepted,
            },
        )


async def _slot_past_last_valid_height(rpc: RpcSession, intent: CrankIntent) -> int | None:
    """The slot of a finalized view whose block height is past the intent's last valid one, or None while
    the blockhash may still land (or the node cannot say)."""
    try:
        view = (await rpc.read("getEpochInfo", lambda c: c.get_epoch_info(), GetEpochInfoResp)).value
    except RpcError:
        return None
    return view.absolute_slot if view.block_height > intent.last_valid_block_height else None
