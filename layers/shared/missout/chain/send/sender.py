"""`DurableSender`: exactly-once-in-effect crank sending for a serverless monitor.

    sender = DurableSender(rpc, dev_keypair)
    outcome = await sender.send(pool_id, "unlock_pool", [build_unlock_pool(...)], remaining_ms)

Per (pool, action): a live intent left by another run is resumed once its lease ran out (or left alone while
that run still holds it); otherwise a new attempt is simulated, sized, signed, recorded (committed) and only
then sent. An attempt whose blockhash provably expired is followed by attempt + 1, re-signed with a fresh
blockhash, in the same call if time allows. `resume` picks up every intent a crashed run left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from solders.instruction import Instruction
from solders.keypair import Keypair
from sqlalchemy.engine import Engine

from missout.chain.rpc import RpcError, RpcSession
from missout.chain.send.intents import (
    CrankIntent,
    IntentOwnedElsewhere,
    NewIntent,
    claim_intent,
    claim_stale_intents,
    find_live_intent,
    mark_sent,
    next_attempt,
    record_intent,
    release_intent,
    settle_intent,
)
from missout.chain.send.outcome import (
    ErrorClass,
    IntentStatus,
    SendOutcome,
    SendResult,
    classify_error,
    describe,
)
from missout.chain.send.policy import SendPolicy
from missout.chain.send.prepare import SimulationFailed, prepare_transaction
from missout.chain.send.settle import send_until_settled
from missout.observability import logger

RemainingMs = Callable[[], int]

_RESULT_OF_STATUS = {
    IntentStatus.FINALIZED: SendResult.FINALIZED,
    IntentStatus.ALREADY_DONE: SendResult.ALREADY_DONE,
    IntentStatus.FAILED: SendResult.FAILED,
    IntentStatus.EXPIRED: SendResult.EXPIRED,
}
_RESULT_OF_SIMULATION = {
    ErrorClass.ALREADY_DONE: SendResult.ALREADY_DONE,
    ErrorClass.NOT_YET: SendResult.NOT_YET,
    ErrorClass.RETRYABLE: SendResult.UNAVAILABLE,
    ErrorClass.FATAL: SendResult.FAILED,
}


class DurableSender:
    def __init__(
        self,
        rpc: RpcSession,
        payer: Keypair,
        *,
        engine: Engine | None = None,
        policy: SendPolicy | None = None,
    ) -> None:
        """`payer` is the DEV wallet (fee payer and signer of every crank), handed over by the monitor."""
        self._rpc = rpc
        self._payer = payer
        self._engine = engine
        self._policy = policy or SendPolicy()

    async def send(
        self,
        pool_id: int,
        action: str,
        instructions: Sequence[Instruction],
        remaining_ms: RemainingMs,
        *,
        extra_signers: Sequence[Keypair] = (),
    ) -> SendOutcome:
        """Make `action` happen on chain at most once. `instructions` exclude the compute-budget ones."""
        live = find_live_intent(self._engine, pool_id, action)
        if live is not None:
            claimed = claim_intent(self._engine, live.id, self._policy.lease_s)
            if claimed is None:
                return SendOutcome(SendResult.BUSY, pool_id, action, live.attempt, live.signature)
            outcome = await self.drive(claimed, remaining_ms)
            if outcome.result is not SendResult.EXPIRED:
                return outcome
        while True:
            outcome = await self._attempt(pool_id, action, instructions, remaining_ms, extra_signers)
            if outcome.result is not SendResult.EXPIRED:
                return outcome

    async def resume(self, remaining_ms: RemainingMs, limit: int = 50) -> list[SendOutcome]:
        """Settle intents left live by runs that crashed or ran out of time: check each signature first,
        then keep resending the same bytes or mark the intent expired. An expired intent is not rebuilt
        here (only the caller knows the action's instructions): its next `send` signs attempt + 1."""
        outcomes: list[SendOutcome] = []
        pending = claim_stale_intents(self._engine, self._policy.lease_s, limit)
        for index, intent in enumerate(pending):
            if remaining_ms() < self._policy.safety_margin_ms:
                for left in pending[index:]:
                    release_intent(self._engine, left.id)
                break
            outcomes.append(await self.drive(intent, remaining_ms))
        return outcomes

    async def drive(self, intent: CrankIntent, remaining_ms: RemainingMs) -> SendOutcome:
        """Send-and-confirm one claimed intent and record how it settled."""
        settlement = await send_until_settled(
            self._rpc,
            intent,
            remaining_ms,
            self._policy,
            on_broadcast=lambda: mark_sent(self._engine, intent.id, 1),
        )
        if settlement.status is None:
            release_intent(self._engine, intent.id)
            return self._outcome(SendResult.IN_FLIGHT, intent)
        error = describe(settlement.error) if settlement.error is not None else None
        settle_intent(self._engine, intent.id, settlement.status, settlement.landed_slot, error)
        logger().info(
            "crank settled",
            extra={
                "pool": intent.pool_id,
                "action": intent.action,
                "attempt": intent.attempt,
                "status": settlement.status.value,
                "signature": intent.signature,
                "error": error,
            },
        )
        return self._outcome(_RESULT_OF_STATUS[settlement.status], intent, settlement.landed_slot, error)

    async def _attempt(
        self,
        pool_id: int,
        action: str,
        instructions: Sequence[Instruction],
        remaining_ms: RemainingMs,
        extra_signers: Sequence[Keypair],
    ) -> SendOutcome:
        if remaining_ms() < self._policy.safety_margin_ms:
            return SendOutcome(SendResult.NOT_YET, pool_id, action, error="no time left for a new attempt")
        attempt = next_attempt(self._engine, pool_id, action)
        try:
            prepared = await prepare_transaction(
                self._rpc,
                instructions,
                self._payer,
                self._policy,
                extra_signers=extra_signers,
                attempt=attempt,
            )
        except SimulationFailed as failed:
            verdict = _RESULT_OF_SIMULATION[classify_error(failed.error)]
            logger().info(
                "crank simulation refused",
                extra={
                    "pool": pool_id,
                    "action": action,
                    "result": verdict.value,
                    "error": describe(failed.error),
                    "logs": failed.logs[-10:],
                },
            )
            return SendOutcome(verdict, pool_id, action, attempt, error=describe(failed.error))
        except RpcError as exc:
            return SendOutcome(SendResult.UNAVAILABLE, pool_id, action, attempt, error=str(exc))
        new = NewIntent(pool_id, action, prepared.signature, prepared.raw, prepared.last_valid_block_height)
        try:
            intent = record_intent(self._engine, new, attempt, self._policy.lease_s)
        except IntentOwnedElsewhere as busy:
            return SendOutcome(SendResult.BUSY, pool_id, action, attempt, error=str(busy))
        return await self.drive(intent, remaining_ms)

    @staticmethod
    def _outcome(
        result: SendResult, intent: CrankIntent, landed_slot: int | None = None, error: str | None = None
    ) -> SendOutcome:
        return SendOutcome(
            result, intent.pool_id, intent.action, intent.attempt, intent.signature, landed_slot, error
        )
