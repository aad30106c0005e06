"""The monitor pays queued referral claims: SPL `TransferChecked` from the treasury hot wallet, exactly once
(docs/original-backend.md W13; docs/people.md "Payout flow").

Per claim, one row carries the whole state (`referral_claims`):
  pending (queued) --sign, record bytes, commit--> sending --finalized--> completed (amount_claimed += amount)
                                                          --landed with an error / refused--> failed
                                                     (the amount goes back to pending, `error` says why)
                                                          --blockhash provably expired--> pending (re-signed)
The signed bytes are committed before the first send, so a crashed or timed-out run leaves a `sending` row
that the next run resends unchanged (one signature: at most one execution) and re-signs (attempt + 1) only
after the blockhash expired with no trace of the signature; the send-and-confirm loop is the crank sender's
(`missout.chain.send.send_until_settled`). Overlapping runs never pay one claim twice: a claim is leased
(`FOR UPDATE SKIP LOCKED` + `lease_until`) before anything is read from the chain for it.

Caps (settings): a claim above the per-claim cap fails (back to pending, to be claimed again under the cap);
a claim that would take the mint's payouts of the last 24 hours past the daily cap waits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from solders.keypair import Keypair
from solders.pubkey import Pubkey
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from missout.chain.addresses import TOKEN_PROGRAM_IDS
from missout.chain.rpc import RpcError, RpcSession
from missout.chain.send import (
    CrankIntent,
    IntentStatus,
    SendPolicy,
    SimulationFailed,
    TransactionTooLarge,
    prepare_transaction,
    send_until_settled,
)
from missout.chain.send.judge import describe
from missout.db.tables import referral_claims, referral_rewards
from missout.db.transaction import transaction
from missout.observability import logger
from missout.referrals.transfer import MINT_DECIMALS_OFFSET, payout_instructions

RemainingMs = Callable[[], int]
_WAIT_AFTER_CAP = timedelta(minutes=5)  # a claim held back by the daily cap is looked at again after this


@dataclass(frozen=True, slots=True)
class PayoutCaps:
    per_claim: int
    per_day: int


@dataclass
class PayoutReport:
    paid: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # daily cap, RPC down, or time ran out: next run


class _Failed(Exception):
    """The claim cannot be paid as it is: it fails and its amount goes back to pending."""


_LEASE = text(
    """
    UPDATE referral_claims SET lease_until = now() + make_interval(secs => :lease_s)
    WHERE id IN (
        SELECT id FROM referral_claims
        WHERE status IN ('pending', 'sending') AND (lease_until IS NULL OR lease_until < now())
        ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
    )
    RETURNING *
    """
)


def lease_claims(engine: Engine | None, lease_s: float, limit: int) -> list[RowMapping]:
    with transaction(engine) as conn:
        rows = conn.execute(_LEASE, {"lease_s": lease_s, "limit": limit}).mappings().all()
    return sorted(rows, key=lambda r: int(r["id"]))


async def pay_queued_claims(
    engine: Engine | None,
    rpc: RpcSession,
    treasury: Keypair,
    caps: PayoutCaps,
    remaining_ms: RemainingMs,
    *,
    policy: SendPolicy | None = None,
    limit: int = 20,
) -> PayoutReport:
    """Drive up to `limit` open claims one step further each; the monitor's tick calls this."""
    policy = policy or SendPolicy()
    report = PayoutReport()
    claims = lease_claims(engine, policy.lease_s(remaining_ms()), limit)
    for index, claim in enumerate(claims):
        if remaining_ms() < policy.safety_margin_ms:
            _release(engine, [int(c["id"]) for c in claims[index:]])
            report.waiting.extend(int(c["id"]) for c in claims[index:])
            break
        await _pay_one(engine, rpc, treasury, caps, claim, remaining_ms, policy, report)
    return report


async def _pay_one(
    engine: Engine | None,
    rpc: RpcSession,
    treasury: Keypair,
    caps: PayoutCaps,
    claim: RowMapping,
    remaining_ms: RemainingMs,
    policy: SendPolicy,
    report: PayoutReport,
) -> None:
    claim_id = int(claim["id"])
    try:
        intent = _intent_of(claim) if claim["status"] == "sending" else None
        # A sending claim is driven as it is; one that expired is re-signed in the same call if time allows.
        for _ in range(3):
            if intent is None:
                intent = await _sign_and_record(engine, rpc, treasury, caps, claim, policy)
                if intent is None:
                    report.waiting.append(claim_id)
                    return
            settlement = await send_until_settled(
                rpc, intent, remaining_ms, policy, on_broadcast=lambda: None
            )
            if settlement.status is IntentStatus.FINALIZED:
                _complete(engine, claim_id, intent.signature)
                report.paid.append(claim_id)
                return
            if settlement.status is None:  # time ran out: the next run resends these same bytes
                _release(engine, [claim_id])
                report.waiting.append(claim_id)
                return
            if settlement.status is IntentStatus.EXPIRED:
                _back_to_queue(engine, claim_id, intent.signature)
                claim = {**claim, "attempt": intent.attempt}  # type: ignore[assignment]
                intent = None
                continue
            why = describe(settlement.error) if settlement.error is not None else "failed on chain"
            raise _Failed(f"the payout transaction {intent.signature} failed: {why}")
        _release(engine, [claim_id])
        report.waiting.append(claim_id)
    except _Failed as failed:
        _fail(engine, claim_id, str(failed))
        report.failed.append(claim_id)
    except RpcError as exc:
        logger().warning(
            "referral payout: chain unavailable", extra={"claim": claim_id, "error": str(exc)[:300]}
        )
        _release(engine, [claim_id])
        report.waiting.append(claim_id)


async def _sign_and_record(
    engine: Engine | None,
    rpc: RpcSession,
    treasury: Keypair,
    caps: PayoutCaps,
    claim: RowMapping,
    policy: SendPolicy,
) -> CrankIntent | None:
    """Sign a new attempt and commit its bytes (status `sending`) before anything is sent. None: wait."""
    claim_id, amount = int(claim["id"]), int(claim["amount"])
    if amount > caps.per_claim:
        raise _Failed(f"the amount {amount} is above the per-claim cap {caps.per_claim}; claim again")
    with transaction(engine) as conn:
        if _paid_last_day(conn, claim["mint"]) + amount > caps.per_day:
            conn.execute(
                update(referral_claims)
                .where(referral_claims.c.id == claim_id)
                .values(lease_until=func.now() + _WAIT_AFTER_CAP)
            )
            logger().info("referral payout waits for the daily cap", extra={"claim": claim_id})
            return None
    mint = Pubkey.from_string(claim["mint"])
    account = await rpc.get_account_info(mint)
    if account is None or account.owner not in TOKEN_PROGRAM_IDS or len(account.data) < 82:
        raise _Failed(f"{mint} is not a mint of the Token or Token-2022 program")
    decimals = account.data[MINT_DECIMALS_OFFSET]
    recipient = Pubkey.from_string(claim["referrer_wallet"])
    instructions = payout_instructions(treasury.pubkey(), recipient, mint, account.owner, amount, decimals)
    attempt = int(claim["attempt"]) + 1
    try:
        prepared = await prepare_transaction(rpc, instructions, treasury, policy, attempt=attempt)
    except SimulationFailed as refused:
        raise _Failed(f"the payout would fail: {describe(refused.error)}") from None
    except TransactionTooLarge as too_large:
        raise _Failed(f"the payout cannot be sent: {too_large}") from None
    with transaction(engine) as conn:
        recorded = conn.execute(
            update(referral_claims)
            .where(referral_claims.c.id == claim_id, referral_claims.c.status == "pending")
            .values(
                status="sending",
                signature=prepared.signature,
                raw_transaction=prepared.raw,
                last_valid_block_height=prepared.last_valid_block_height,
                attempt=attempt,
                error=None,
                updated_at=func.now(),
            )
            .returning(referral_claims.c.id)
        ).one_or_none()
    if recorded is None:
        return None
    return CrankIntent(
        claim_id,
        0,
        "referral_payout",
        attempt,
        IntentStatus.PREPARED,
        prepared.signature,
        prepared.raw,
        prepared.last_valid_block_height,
        0,
    )


def _intent_of(claim: RowMapping) -> CrankIntent:
    return CrankIntent(
        int(claim["id"]),
        0,
        "referral_payout",
        int(claim["attempt"]),
        IntentStatus.SENT,
        str(claim["signature"]),
        bytes(claim["raw_transaction"]),
        int(claim["last_valid_block_height"]),
        0,
    )


def _paid_last_day(conn: Connection, mint: str) -> int:
    """What this mint's payouts took in the last 24 hours, counting the ones still being sent."""
    total = conn.execute(
        select(func.coalesce(func.sum(referral_claims.c.amount), 0)).where(
            referral_claims.c.mint == mint,
            or_(
                referral_claims.c.status == "sending",
                (referral_claims.c.status == "completed")
                & (referral_claims.c.completed_at > func.now() - timedelta(days=1)),
            ),
        )
    ).scalar_one()
    return int(total)


def _complete(engine: Engine | None, claim_id: int, signature: str) -> None:
    with transaction(engine) as conn:
        done = conn.execute(
            update(referral_claims)
            .where(
                referral_claims.c.id == claim_id,
                referral_claims.c.status == "sending",
                referral_claims.c.signature == signature,
            )
            .values(status="completed", completed_at=func.now(), updated_at=func.now(), lease_until=None)
            .returning(referral_claims.c.referrer_wallet, referral_claims.c.mint, referral_claims.c.amount)
        ).one_or_none()
        if done is not None:
            _move_balance(conn, done.referrer_wallet, done.mint, claimed=int(done.amount))
    logger().info("referral claim paid", extra={"claim": claim_id, "signature": signature})


def _fail(engine: Engine | None, claim_id: int, why: str) -> None:
    """Failed for good: the claim says why and its amount is pending again, in one transaction."""
    with transaction(engine) as conn:
        failed = conn.execute(
            update(referral_claims)
            .where(referral_claims.c.id == claim_id, referral_claims.c.status.in_(("pending", "sending")))
            .values(status="failed", error=why[:500], updated_at=func.now(), lease_until=None)
            .returning(referral_claims.c.referrer_wallet, referral_claims.c.mint, referral_claims.c.amount)
        ).one_or_none()
        if failed is not None:
            _move_balance(conn, failed.referrer_wallet, failed.mint, pending=int(failed.amount))
    logger().warning("referral claim failed", extra={"claim": claim_id, "error": why[:300]})


def _move_balance(conn: Connection, wallet: str, mint: str, *, pending: int = 0, claimed: int = 0) -> None:
    conn.execute(
        update(referral_rewards)
        .where(referral_rewards.c.referrer_wallet == wallet, referral_rewards.c.mint == mint)
        .values(
            amount_pending=referral_rewards.c.amount_pending + pending,
            amount_claimed=referral_rewards.c.amount_claimed + claimed,
            updated_at=func.now(),
        )
    )


def _back_to_queue(engine: Engine | None, claim_id: int, signature: str) -> None:
    """The attempt's blockhash expired and the signature never landed: safe to sign a new attempt."""
    with transaction(engine) as conn:
        conn.execute(
            update(referral_claims)
            .where(referral_claims.c.id == claim_id, referral_claims.c.signature == signature)
            .values(status="pending", signature=None, raw_transaction=None, last_valid_block_height=None)
        )


def _release(engine: Engine | None, claim_ids: list[int]) -> None:
    if not claim_ids:
        return
    with transaction(engine) as conn:
        conn.execute(
            update(referral_claims).where(referral_claims.c.id.in_(claim_ids)).values(lease_until=None)
        )
