"""Signed requests on the API side: the body fields every signed route takes, and the translation of the
checks (`missout.auth`) into problems: a malformed message or signature is a 422 naming the field, a
well-formed one that does not authorise this request is a 401 with `reason`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from pydantic import Field
from sqlalchemy.engine import Connection

from missout.auth import (
    Action,
    MalformedMessage,
    MalformedSignature,
    SignedMessage,
    SigninTerms,
    Unauthorized,
    check_signed,
    consume_nonce,
)
from missout.auth.messages import MAX_MESSAGE_CHARS, MESSAGE_PATTERN
from missout.refusals import Refused
from missout.settings import api_settings
from missout.wiring import RateLimits
from missout_api.deps import count_alone, enforce
from missout_api.problems import ProblemException
from missout_api.schemas import BASE58_SIGNATURE, ApiModel


class SignedFields(ApiModel):
    message: str = Field(
        max_length=MAX_MESSAGE_CHARS,
        pattern=MESSAGE_PATTERN,
        description="the exact text from GET /api/wallets/{wallet}/nonce, as the wallet signed it",
    )
    signature: str = Field(
        pattern=BASE58_SIGNATURE,
        json_schema_extra={"format": "solana-signature"},
        description="the wallet's ed25519 signature of the message's UTF-8 bytes (base58 of 64 bytes)",
    )


def signin_terms() -> SigninTerms:
    s = api_settings()
    return SigninTerms(s.signin_domain, s.signin_uri, s.signin_chain_id, s.signin_nonce_ttl_s)


def _unauthorized(reason: str, detail: str) -> ProblemException:
    return ProblemException(
        401,
        "Unauthorized",
        detail,
        type_="/problems/unauthorized",
        headers={"WWW-Authenticate": 'SIWS realm="missout"'},
        reason=reason,
    )


def _malformed(field: str, detail: str) -> ProblemException:
    return ProblemException(
        422,
        "Invalid request",
        f"invalid value for: {field}",
        type_="/problems/invalid-request",
        errors=[{"field": field, "in": "body", "message": detail}],
    )


def check_request(body: SignedFields, wallet: str, action: Action) -> SignedMessage:
    """Everything but the nonce; raises the 422 / 401 problem."""
    try:
        return check_signed(body.message, body.signature, wallet, action, signin_terms(), datetime.now(UTC))
    except MalformedMessage as exc:
        raise _malformed("message", str(exc)) from None
    except MalformedSignature as exc:
        raise _malformed("signature", str(exc)) from None
    except Unauthorized as exc:
        raise _unauthorized(exc.reason, exc.detail) from None


def spend_nonce(conn: Connection, signed: SignedMessage) -> None:
    """In the transaction of the change: a nonce already used, expired or unknown is a 401 (and the change
    rolls back with the transaction)."""
    if not consume_nonce(conn, signed):
        raise _unauthorized("nonce_used_or_expired", "the nonce was already used, has expired, or is unknown")


def refusal(
    refused: Refused, status: int = 409, type_prefix: str = "", **extra: str | None
) -> ProblemException:
    """The problem for a refusal: `reason` named, its type derived from it, `extra` members added."""
    problem = ProblemException(
        status,
        "Conflict" if status == 409 else "Refused",
        refused.detail,
        type_=f"/problems/{type_prefix}{refused.reason.replace('_', '-')}",
        reason=refused.reason,
    )
    problem.extra.update(extra)
    return problem


def admit(request: Request, limits: RateLimits, wallet: str) -> None:
    """Count a changing request against its IP and wallet limits and refuse it (429) *before* the change:
    its own short transaction, so a refused request changes nothing and a failed one still counts."""
    enforce(count_alone(request, limits, wallet))
