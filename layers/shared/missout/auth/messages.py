"""The message a wallet signs, in the CAIP-122 / Sign-In-With-Solana text layout, so wallets display it as a
sign-in request:

    missout.app wants you to sign in with your Solana account:
    <wallet, base58>

    MissOut: register my referrer.

    URI: https://missout.app
    Version: 1
    Chain ID: mainnet
    Nonce: <32 hex digits>
    Issued At: 2026-12-01T23:30:00.000Z
    Expiration Time: 2026-12-01T23:35:00.000Z
    Request ID: referral_register

The action travels twice: as a sentence for the person (the statement) and as a token for the server (the
Request ID), and the two must agree. Parsing is strict: one exact layout, or `MalformedMessage` (a 422).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Action(StrEnum):
    PROFILE_UPDATE = "profile_update"
    AVATAR_UPLOAD = "avatar_upload"
    REFERRAL_REGISTER = "referral_register"
    REFERRAL_CLAIM = "referral_claim"


STATEMENTS: dict[Action, str] = {
    Action.PROFILE_UPDATE: "MissOut: update my profile.",
    Action.AVATAR_UPLOAD: "MissOut: upload a new avatar.",
    Action.REFERRAL_REGISTER: "MissOut: register my referrer.",
    Action.REFERRAL_CLAIM: "MissOut: claim my referral rewards.",
}

MAX_MESSAGE_CHARS = 2_000


class MalformedMessage(ValueError):
    """Not a message of our layout (a 422 naming `message`)."""


@dataclass(frozen=True, slots=True)
class SigninTerms:
    """What every message must name to be accepted here (from settings)."""

    domain: str
    uri: str
    chain_id: str
    nonce_ttl_s: int


@dataclass(frozen=True, slots=True)
class SignedMessage:
    domain: str
    wallet: str
    statement: str
    uri: str
    version: str
    chain_id: str
    nonce: str
    issued_at: datetime
    expires_at: datetime
    action: str
    text: str  # exactly the signed text


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, as wallets' SIWS libraries write it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_message(
    terms: SigninTerms, wallet: str, action: Action, nonce: str, issued_at: datetime, expires_at: datetime
) -> str:
    return (
        f"{terms.domain} wants you to sign in with your Solana account:\n"
        f"{wallet}\n"
        f"\n"
        f"{STATEMENTS[action]}\n"
        f"\n"
        f"URI: {terms.uri}\n"
        f"Version: 1\n"
        f"Chain ID: {terms.chain_id}\n"
        f"Nonce: {nonce}\n"
        f"Issued At: {iso(issued_at)}\n"
        f"Expiration Time: {iso(expires_at)}\n"
        f"Request ID: {action.value}"
    )


_TIME = (
    r"([0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z)"
)
# The whole layout as one regular expression, also published as the `message` field's pattern (so the API
# document says exactly which texts are well formed). Plain groups and ASCII classes only, so that Python,
# pydantic's Rust engine and JSON Schema's ECMAScript read it the same way.
MESSAGE_PATTERN = (
    r"^([A-Za-z0-9.:\-]{1,253}) wants you to sign in with your Solana account:\n"
    r"([1-9A-HJ-NP-Za-km-z]{32,44})\n"
    r"\n"
    r"([ -~]{1,200})\n"
    r"\n"
    r"URI: ([!-~]{1,200})\n"
    r"Version: (1)\n"
    r"Chain ID: ([a-z0-9\-]{1,32})\n"
    r"Nonce: ([0-9a-f]{32})\n"
    rf"Issued At: {_TIME}\n"
    rf"Expiration Time: {_TIME}\n"
    r"Request ID: ([a-z_]{1,40})$"
)
_LAYOUT = re.compile(MESSAGE_PATTERN)


class ImpossibleTime(MalformedMessage):
    """Laid out right, but a time that does not exist (e.g. 31 February): judged as implausible times."""


def _time(value: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ImpossibleTime(f"{field} is not a date that exists") from None


def parse_message(text: str) -> SignedMessage:
    if len(text) > MAX_MESSAGE_CHARS:
        raise MalformedMessage(f"longer than {MAX_MESSAGE_CHARS} characters")
    match = _LAYOUT.fullmatch(text)
    if match is None:
        raise MalformedMessage("not a MissOut sign-in message (see GET /api/wallets/{wallet}/nonce)")
    domain, wallet, statement, uri, version, chain_id, nonce, issued, expires, action = match.groups()
    return SignedMessage(
        domain=domain,
        wallet=wallet,
        statement=statement,
        uri=uri,
        version=version,
        chain_id=chain_id,
        nonce=nonce,
        issued_at=_time(issued, "Issued At"),
        expires_at=_time(expires, "Expiration Time"),
        action=action,
        text=text,
    )
