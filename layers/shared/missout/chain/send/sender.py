"""`DurableSender`: one on-chain effect per (pool, action), sent from a serverless monitor.

    sender = DurableSender(rpc, dev_keypair, context.get_remaining_time_in_millis,
                           program_id=program.program_id, policy=policy_from_settings(crank_settings()))
    await sender.resume()                                  # first: intents earlier runs left live
    outcome = await sender.send(pool_id, "unlock_pool", [build_unlock_pool(...)])
    match outcome.kind: ...                                # DONE / ALREADY_DONE / NOT_YET / FAILED

What the sender guarantees (details and reasons in docs/sending.md):

* **One effect per (pool, action).** Whatever the program would allow (`claim_refund` on the forfeit branch
  repeats happily), at most one transaction per (pool, action) ever finalizes without error: every signed
  attempt is an intent row committed before its first send; attempt N is inserted only if attempt N - 1
  provably had no effect (expired unseen, or landed with an error), checked inside the INSERT itself; two
  runs never hold the same live attempt; the same signed bytes are resent until they finalize or their
  blockhash provably expired, and only then is a new attempt signed.
* **Expiry is certain before a re-sign.** "Expired" is decided only from a status answer whose context slot
  is at or past the slot the block height was read at; a lagging node's "unknown" decides nothing.
* **The outcome says what to do next** (`SendOutcome.kind`):
  DONE: our transaction finalized now; ALREADY_DONE: the pool is past this action, or an earlier attempt of
  ours finalized: re-read the pool, do not assume who did it; NOT_YET: nothing is wrong that time will not
  fix (too early for the program, our transaction still in flight, another run busy with it, RPC down, no
  time left): try again on a later tick; FAILED: for good, retrying would only burn fees, a person must look.
  Program errors are judged per action and, for status guards, by the pool's current state (`judge`).
* **Time.** Nothing runs past `remaining_ms() - safety_margin_ms`; an intent is leased to the run driving it
  until the run's own deadline plus `lease_margin_s`, so a crashed run's intents are free by the next run.

What the caller must do:

* Use one action name per on-chain effect (the `crank_intents.action` list), and the same name for the
  same effect every time: the name is the idempotency key, not the instructions.
* Send actions of one pool in the program's order (unlock, request randomness, select, payout), each only
  after the previous one came back DONE or ALREADY_DONE and the pool was re-read; never two actions of
  one pool at once.
* Call `resume()` at the start of each run, and pass the run's real remaining time (the Lambda context),
  never a constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction
from sqlalchemy.engine import Engine

from missout.chain.accounts import decode_pool
from missout.chain.errors import ClassifiedError
from missout.chain.program import AccountDecodeError, shipped_codec
from missout.chain.rpc import RpcError, RpcSession
from missout.chain.send.intents import (
    AttemptRefused,
    CrankIntent,
    IntentOwnedElsewhere,
    NewIntent,
    claim_intent,
    claim_stale_intents,
    effect_seen_at,
    find_live_intent,
    mark_sent,
    plan_attempt,
    record_intent,
    release_intent,
    settle_intent,
)
from missout.chain.send.judge import Judgement, describe, judge, judge_by_state, ours, pool_of
from missout.chain.send.outcome import ErrorClass, IntentStatus, SendOutcome, SendResult
from missout.chain.send.policy import RemainingMs, SendPolicy, slice_of
from missout.chain.send.prepare import SimulationFailed, TransactionTooLarge, prepare_transaction
from missout.chain.send.settle import Settlement, send_until_settled
from missout.db import DatabaseUnavailable
from missout.observability import logger

_RESULT_OF_CLASS = {
    ErrorClass.ALREADY_DONE: SendResult.ALREADY_DONE,
    ErrorClass.NOT_YET: SendResult.NOT_YET,
    ErrorClass.RETRYABLE: SendResult.UNAVAILABLE,
    ErrorClass.FATAL: SendResult.FAILED,
}
# Why a (pool, action) history refuses a new attempt, as the caller should read it.
_RESULT_OF_BLOCKER = {
    IntentStatus.FINALIZED: SendResult.ALREADY_DONE,
    IntentStatus.ALREADY_DONE: SendResult.ALREADY_DONE,
}


class DurableSender:
    def __init__(
        self,
        rpc: RpcSession,
        payer: Keypair,
        remaining_ms: RemainingMs,
        *,
        program_id: Pubkey | None = None,
        engine: Engine | None = None,
        policy: SendPolicy | None = None,
    ) -> None:
        """`payer` is the DEV wallet (fee payer and signer of every crank), handed over by the monitor.
        `remaining_ms` is the run's clock: the Lambda context's `get_remaining_time_in_millis`.
        `program_id` is the deployment's pool program (default: the IDL's address)."""
        self._rpc = rpc
        self._payer = payer
        self._remaining_ms = remaining_ms
        self._program_id = program_id or shipped_codec().default_program_id
        self._engine = engine
        self._policy = policy or SendPolicy()

    async def send(
        self,
        pool_id: int,
        action: str,
        instructions: Sequence[Instruction],
        *,
        extra_signers: Sequence[Keypair] = (),
        budget_ms: int | None = None,
    ) -> SendOutcome:
        """Make `action` take effect on chain at most once. `instructions` exclude the compute-budget ones.
        `budget_ms` caps this call's share of the run's remaining time (default: all of it)."""
        clock = self._clock(budget_ms)
        live = find_live_intent(self._engine, pool_id, action)
        if live is not None:
            claimed = claim_intent(self._engine, live.id, self._policy.lease_s(self._remaining_ms()))
            if claimed is None:
                return SendOutcome(SendResult.BUSY, pool_id, action, live.attempt, live.signature)
            outcome = await self.drive(claimed, clock)
            if outcome.result is not SendResult.EXPIRED:
                return outcome
        while True:
            outcome = await self._attempt(pool_id, action, instructions, clock, extra_signers)
            if outcome.result is not SendResult.EXPIRED:
                return outcome

    def effect_seen_at(self, pool_id: int, action: str) -> datetime | None:
        """When (pool, action) was seen to take effect (its finalized or already-done intent settled): the
        effect landed at or before this time. None if no run has seen it done."""
        return effect_seen_at(self._engine, pool_id, action)

    async def resume(self) -> list[SendOutcome]:
        """Settle intents left live by runs that crashed or ran out of time: at most `resume_batch` of them,
        each given an equal share of the time left, so one that does not land cannot hold up the rest.
        Whatever was claimed and not driven is released again, however this ends. An expired intent is not
        rebuilt here (only the caller knows the action's instructions): its next `send` signs attempt + 1."""
        usable = self._remaining_ms() - self._policy.safety_margin_ms
        limit = min(self._policy.resume_batch, max(0, usable) // self._policy.min_slice_ms)
        if limit == 0:
            return []
        claimed = claim_stale_intents(self._engine, self._policy.lease_s(self._remaining_ms()), limit)
        outcomes: list[SendOutcome] = []
        try:
            for index, intent in enumerate(claimed):
                usable = self._remaining_ms() - self._policy.safety_margin_ms
                if usable < self._policy.min_slice_ms:
                    break
                share = max(self._policy.min_slice_ms, usable // (len(claimed) - index))
                outcomes.append(await self.drive(intent, self._clock(share)))
        finally:
            # `drive` released or settled each intent it returned for; the rest go back now.
            for intent in claimed[len(outcomes) :]:
                self._release_quietly(intent)
        return outcomes

    async def drive(self, intent: CrankIntent, remaining_ms: RemainingMs | None = None) -> SendOutcome:
        """Send-and-confirm one claimed intent and record how it settled. If this ends in an exception
        (a database failure, the run cancelled), the intent is released for the next run."""
        try:
            settlement = await send_until_settled(
                self._rpc,
                intent,
                remaining_ms or self._remaining_ms,
                self._policy,
                on_broadcast=lambda: mark_sent(self._engine, intent.id, 1),
            )
        except BaseException:
            self._release_quietly(intent)
            raise
        if settlement.status is None:
            release_intent(self._engine, intent.id)
            return self._outcome(SendResult.IN_FLIGHT, intent)
        status, result = await self._verdict(intent, settlement)
        error = describe(settlement.error) if settlement.error is not None else None
        settle_intent(self._engine, intent.id, status, settlement.landed_slot, error)
        logger().info(
            "crank settled",
            extra={
                "pool": intent.pool_id,
                "action": intent.action,
                "attempt": intent.attempt,
                "status": status.value,
                "result": result.value,
                "signature": intent.signature,
                "error": error,
            },
        )
        return self._outcome(result, intent, settlement.landed_slot, error)

    async def _verdict(self, intent: CrankIntent, settlement: Settlement) -> tuple[IntentStatus, SendResult]:
        """The intent's final status and the caller's result. A landed error is judged for the action: the
        intent stays `failed` (a later attempt may be signed) unless the pool is past the action."""
        assert settlement.status is not None
        if settlement.status is IntentStatus.FINALIZED:
            return IntentStatus.FINALIZED, SendResult.FINALIZED
        if settlement.status is IntentStatus.EXPIRED:
            return IntentStatus.EXPIRED, SendResult.EXPIRED
        if settlement.error is None:
            return settlement.status, SendResult.FAILED
        landed = VersionedTransaction.from_bytes(intent.raw_transaction)
        verdict = await self._judge(intent.action, settlement.error, landed)
        if verdict is ErrorClass.ALREADY_DONE:
            return IntentStatus.ALREADY_DONE, SendResult.ALREADY_DONE
        return IntentStatus.FAILED, _RESULT_OF_CLASS[verdict]

    async def _judge(
        self, action: str, error: ClassifiedError, transaction: VersionedTransaction
    ) -> ErrorClass:
        verdict = judge(action, ours(error, transaction, self._program_id))
        if verdict is not Judgement.NEEDS_POOL_STATE:
            return verdict
        pool = pool_of(transaction, self._program_id, action)
        if pool is None:
            logger().error("crank without its action's instruction", extra={"action": action})
            return ErrorClass.FATAL
        try:
            account = await self._rpc.get_account_info(pool)
            status = None if account is None else decode_pool(bytes(account.data)).status
        except RpcError:
            return ErrorClass.RETRYABLE
        except AccountDecodeError:
            return ErrorClass.FATAL
        return judge_by_state(action, status)

    async def _attempt(
        self,
        pool_id: int,
        action: str,
        instructions: Sequence[Instruction],
        clock: RemainingMs,
        extra_signers: Sequence[Keypair],
    ) -> SendOutcome:
        if clock() < self._policy.safety_margin_ms:
            return SendOutcome(SendResult.NO_TIME, pool_id, action, error="no time left for a new attempt")
        plan = plan_attempt(self._engine, pool_id, action)
        if plan.blocked_by is not None:
            return self._blocked(pool_id, action, plan.attempt, plan.blocked_by)
        try:
            prepared = await prepare_transaction(
                self._rpc,
                instructions,
                self._payer,
                self._policy,
                extra_signers=extra_signers,
                attempt=plan.attempt,
            )
        except SimulationFailed as failed:
            verdict = _RESULT_OF_CLASS[await self._judge(action, failed.error, failed.transaction)]
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
            return SendOutcome(verdict, pool_id, action, plan.attempt, error=describe(failed.error))
        except TransactionTooLarge as too_large:
            # Nothing was recorded or sent; the same instructions would be refused on every run.
            logger().error("crank transaction too large", extra={"pool": pool_id, "action": action})
            return SendOutcome(SendResult.FAILED, pool_id, action, plan.attempt, error=str(too_large))
        except RpcError as exc:
            return SendOutcome(SendResult.UNAVAILABLE, pool_id, action, plan.attempt, error=str(exc))
        new = NewIntent(pool_id, action, prepared.signature, prepared.raw, prepared.last_valid_block_height)
        try:
            intent = record_intent(
                self._engine, new, plan.attempt, self._policy.lease_s(self._remaining_ms())
            )
        except AttemptRefused as refused:
            return self._blocked(pool_id, action, plan.attempt, refused.status)
        except IntentOwnedElsewhere as busy:
            return SendOutcome(SendResult.BUSY, pool_id, action, plan.attempt, error=str(busy))
        return await self.drive(intent, clock)

    def _clock(self, budget_ms: int | None) -> RemainingMs:
        if budget_ms is None:
            return self._remaining_ms
        return slice_of(self._remaining_ms, budget_ms, self._policy.safety_margin_ms)

    def _release_quietly(self, intent: CrankIntent) -> None:
        try:
            release_intent(self._engine, intent.id)
        except DatabaseUnavailable as exc:
            # Its lease runs out on its own (at most the run's end plus the margin).
            logger().warning("could not release an intent", extra={"intent": intent.id, "error": str(exc)})

    @staticmethod
    def _blocked(pool_id: int, action: str, attempt: int, blocker: IntentStatus | None) -> SendOutcome:
        result = _RESULT_OF_BLOCKER.get(blocker, SendResult.BUSY) if blocker is not None else SendResult.BUSY
        return SendOutcome(result, pool_id, action, attempt, error=f"attempt {attempt} refused: {blocker}")

    @staticmethod
    def _outcome(
        result: SendResult, intent: CrankIntent, landed_slot: int | None = None, error: str | None = None
    ) -> SendOutcome:
        return SendOutcome(
            result, intent.pool_id, intent.action, intent.attempt, intent.signature, landed_slot, error
        )
