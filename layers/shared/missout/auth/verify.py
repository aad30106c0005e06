"""Everything about a signed request that can be judged without the database: its shape (422), then the
domain, URI, chain, wallet, action and times it names, then the ed25519 signature (401). The nonce is judged
last, by `consume_nonce`, inside the transaction of the change."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from missout.auth.messages import (
    Action,
    ImpossibleTime,
    MalformedMessage,
    SignedMessage,
    SigninTerms,
    parse_message,
)

if TYPE_CHECKING:
    from solders.signature import Signature

# Wallet and server clocks differ a little; a message "issued" this far in the future is still accepted.
CLOCK_SKEW = timedelta(seconds=30)


class MalformedSignature(ValueError):
    """Not a base58 ed25519 signature (a 422 naming `signature`)."""


class Unauthorized(Exception):
    """Well formed, but not a valid authorisation for this request (a 401). `reason` is for the client."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _signature(text: str) -> Signature:
    # solders loads with the first signed request, not at the API's cold start: the reads never need it.
    from solders.signature import Signature

    try:
        return Signature.from_string(text)
    except ValueError:
        raise MalformedSignature("not a base58 ed25519 signature (64 bytes)") from None


def check_signed(
    message: str, signature: str, wallet: str, action: Action, terms: SigninTerms, now: datetime
) -> SignedMessage:
    """Raises `MalformedMessage` / `MalformedSignature` (422) or `Unauthorized` (401)."""
    try:
        signed = parse_message(message)
    except ImpossibleTime as exc:
        raise Unauthorized("bad_times", str(exc)) from None
    sig = _signature(signature)
    if signed.domain != terms.domain or signed.uri != terms.uri:
        raise Unauthorized("wrong_domain", f"the message is for {signed.domain}, not {terms.domain}")
    if signed.chain_id != terms.chain_id:
        raise Unauthorized("wrong_chain", f"the message is for chain {signed.chain_id}, not {terms.chain_id}")
    if signed.wallet != wallet:
        raise Unauthorized("wrong_wallet", f"the message names {signed.wallet}, not {wallet}")
    if signed.action != action.value:
        raise Unauthorized("wrong_action", f"the message authorises {signed.action}, not {action.value}")
    if signed.expires_at <= now:
        raise Unauthorized("expired", "the message has expired; ask for a new nonce")
    if signed.issued_at > now + CLOCK_SKEW or signed.expires_at <= signed.issued_at:
        raise Unauthorized("bad_times", "the message's Issued At / Expiration Time are not plausible")
    from solders.pubkey import Pubkey  # loaded by `_signature` already

    try:
        key = Pubkey.from_string(wallet)
    except ValueError:
        raise MalformedMessage("the wallet is not a base58 public key") from None
    if not sig.verify(key, signed.text.encode("utf-8")):
        raise Unauthorized("bad_signature", f"the signature is not {wallet}'s signature of this message")
    return signed
