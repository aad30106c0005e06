"""Single-use nonces in PostgreSQL (`auth_nonces`). Issued per (wallet, action) with a short lifetime and
consumed by one `UPDATE ... WHERE used_at IS NULL AND expires_at > now() RETURNING` in the caller's
transaction, the one that makes the change: of two concurrent uses exactly one gets the row, and a change
that rolls back gives its nonce back."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, update
from sqlalchemy.engine import Connection

from missout.auth.messages import Action, SignedMessage, SigninTerms, format_message
from missout.db.tables import auth_nonces


@dataclass(frozen=True, slots=True)
class IssuedNonce:
    nonce: str
    issued_at: datetime
    expires_at: datetime
    message: str


def issue_nonce(conn: Connection, wallet: str, action: Action, terms: SigninTerms) -> IssuedNonce:
    """A fresh nonce and the exact message for the wallet to sign. Times are the database's clock, the same
    clock that judges expiry."""
    nonce = secrets.token_hex(16)
    row = conn.execute(
        insert(auth_nonces)
        .values(
            nonce=nonce,
            wallet=wallet,
            purpose=action.value,
            created_at=func.date_trunc("milliseconds", func.now()),
            expires_at=func.date_trunc("milliseconds", func.now()) + timedelta(seconds=terms.nonce_ttl_s),
        )
        .returning(auth_nonces.c.created_at, auth_nonces.c.expires_at)
    ).one()
    message = format_message(terms, wallet, action, nonce, row.created_at, row.expires_at)
    return IssuedNonce(nonce, row.created_at, row.expires_at, message)


def consume_nonce(conn: Connection, signed: SignedMessage) -> bool:
    """Mark the message's nonce used. False when it is unknown, another wallet's or action's, already used,
    or expired (the caller answers 401)."""
    used = conn.execute(
        update(auth_nonces)
        .where(
            auth_nonces.c.nonce == signed.nonce,
            auth_nonces.c.wallet == signed.wallet,
            auth_nonces.c.purpose == signed.action,
            auth_nonces.c.used_at.is_(None),
            auth_nonces.c.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(auth_nonces.c.nonce)
    ).one_or_none()
    return used is not None
