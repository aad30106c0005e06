"""Signed requests: a wallet proves a change to its own data by signing a Sign-In-With-Solana style message
(CAIP-122 text layout) that names the domain, the wallet, the action, a single-use nonce and its lifetime.

    issued = issue_nonce(conn, wallet, Action.PROFILE_UPDATE, signin)   # GET .../nonce
    ...the wallet signs issued.message...
    signed = check_signed(message, signature, wallet, Action.PROFILE_UPDATE, signin, now)   # 422 / 401
    consume_nonce(conn, signed)   # in the transaction that makes the change (401 if used or expired)
"""

from missout.auth.messages import Action, MalformedMessage, SignedMessage, SigninTerms, format_message
from missout.auth.nonces import IssuedNonce, consume_nonce, issue_nonce
from missout.auth.verify import MalformedSignature, Unauthorized, check_signed

__all__ = [
    "Action",
    "IssuedNonce",
    "MalformedMessage",
    "MalformedSignature",
    "SignedMessage",
    "SigninTerms",
    "Unauthorized",
    "check_signed",
    "consume_nonce",
    "format_message",
    "issue_nonce",
]
