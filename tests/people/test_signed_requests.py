"""Signed requests through the real handler and the database behind pgBouncer: the nonce route, and every
refusal of a signed change (replayed nonce, expired message, wrong domain, wrong action, another wallet's
signature, malformed message or signature), each leaving nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from solders.keypair import Keypair
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from missout.auth import Action, SigninTerms, format_message
from missout.auth.messages import parse_message
from missout.db.tables import auth_nonces, referral_relations
from tests.api.chain_api import invoke
from tests.people.signing import nonce_message, sign, signed
from tests.support.database import TestDatabase

TERMS = SigninTerms("missout.test", "https://missout.test", "mainnet", 300)


def _register(referred: Keypair, referrer: Keypair, body: dict[str, object]) -> object:
    return invoke(
        "POST",
        "/api/referrals",
        body={**body, "wallet": str(referred.pubkey()), "referrer": str(referrer.pubkey())},
    )


def _relations(engine: Engine) -> int:
    with engine.begin() as conn:
        return len(conn.execute(select(referral_relations)).all())


def test_nonce_message_names_domain_wallet_action_nonce_and_times(people_db: TestDatabase) -> None:
    wallet = Keypair()
    answer = invoke("GET", f"/api/wallets/{wallet.pubkey()}/nonce", query={"action": "referral_register"})
    assert answer.status == 200
    body = answer.body
    parsed = parse_message(body["message"])
    assert parsed.domain == "missout.test"
    assert parsed.uri == "https://missout.test"
    assert parsed.wallet == str(wallet.pubkey())
    assert parsed.action == "referral_register"
    assert parsed.nonce == body["nonce"]
    assert parsed.expires_at - parsed.issued_at == timedelta(minutes=5)
    assert body["message"].startswith("missout.test wants you to sign in with your Solana account:\n")
    assert "RateLimit" in {k.title() for k in answer.headers} or "ratelimit" in answer.headers


def test_nonce_for_an_unknown_action_is_422(people_db: TestDatabase) -> None:
    answer = invoke("GET", f"/api/wallets/{Keypair().pubkey()}/nonce", query={"action": "steal"})
    assert answer.status == 422
    assert answer.problem()["errors"][0]["field"] == "action"


def test_a_signed_register_succeeds_once_and_its_replay_is_401(
    people_db: TestDatabase, direct_engine: Engine
) -> None:
    referred, referrer = Keypair(), Keypair()
    body = signed(referred, "referral_register")
    first = _register(referred, referrer, body)
    assert first.status == 201, first.body  # type: ignore[attr-defined]
    again = _register(referred, referrer, body)
    assert again.status == 401  # type: ignore[attr-defined]
    assert again.problem()["reason"] == "nonce_used_or_expired"  # type: ignore[attr-defined]
    assert _relations(direct_engine) == 1


def test_an_expired_message_is_401(people_db: TestDatabase, direct_engine: Engine) -> None:
    referred, referrer = Keypair(), Keypair()
    message = nonce_message(referred, "referral_register")
    nonce = parse_message(message).nonce
    issued = datetime.now(UTC) - timedelta(minutes=10)
    expired = issued + timedelta(minutes=5)
    with direct_engine.begin() as conn:
        conn.execute(
            update(auth_nonces)
            .where(auth_nonces.c.nonce == nonce)
            .values(created_at=issued, expires_at=expired)
        )
    old = format_message(TERMS, str(referred.pubkey()), Action.REFERRAL_REGISTER, nonce, issued, expired)
    answer = _register(referred, referrer, {"message": old, "signature": sign(referred, old)})
    assert answer.status == 401  # type: ignore[attr-defined]
    assert answer.problem()["reason"] == "expired"  # type: ignore[attr-defined]
    assert _relations(direct_engine) == 0


def test_a_message_for_another_domain_is_401(people_db: TestDatabase, direct_engine: Engine) -> None:
    referred, referrer = Keypair(), Keypair()
    parsed = parse_message(nonce_message(referred, "referral_register"))
    other = SigninTerms("evil.example", "https://evil.example", "mainnet", 300)
    text = format_message(
        other, parsed.wallet, Action.REFERRAL_REGISTER, parsed.nonce, parsed.issued_at, parsed.expires_at
    )
    answer = _register(referred, referrer, {"message": text, "signature": sign(referred, text)})
    assert answer.status == 401  # type: ignore[attr-defined]
    assert answer.problem()["reason"] == "wrong_domain"  # type: ignore[attr-defined]
    assert _relations(direct_engine) == 0


def test_a_nonce_for_another_action_is_401(people_db: TestDatabase, direct_engine: Engine) -> None:
    referred, referrer = Keypair(), Keypair()
    answer = _register(referred, referrer, signed(referred, "profile_update"))
    assert answer.status == 401  # type: ignore[attr-defined]
    assert answer.problem()["reason"] == "wrong_action"  # type: ignore[attr-defined]
    assert _relations(direct_engine) == 0


def test_another_wallets_signature_is_401(people_db: TestDatabase, direct_engine: Engine) -> None:
    referred, referrer, thief = Keypair(), Keypair(), Keypair()
    message = nonce_message(referred, "referral_register")
    answer = _register(referred, referrer, {"message": message, "signature": sign(thief, message)})
    assert answer.status == 401  # type: ignore[attr-defined]
    assert answer.problem()["reason"] == "bad_signature"  # type: ignore[attr-defined]
    # The message names `referred`; signed by the thief for the thief's own wallet it is the wrong wallet.
    thiefs = _register(thief, referrer, {"message": message, "signature": sign(thief, message)})
    assert thiefs.problem()["reason"] == "wrong_wallet"  # type: ignore[attr-defined]
    assert _relations(direct_engine) == 0


def test_a_malformed_message_or_signature_is_422_naming_the_field(people_db: TestDatabase) -> None:
    referred, referrer = Keypair(), Keypair()
    message = nonce_message(referred, "referral_register")
    garbled = _register(referred, referrer, {"message": "sign me", "signature": sign(referred, "sign me")})
    assert garbled.status == 422  # type: ignore[attr-defined]
    assert garbled.problem()["errors"][0]["field"] == "message"  # type: ignore[attr-defined]
    short = _register(referred, referrer, {"message": message, "signature": "z" * 88})
    assert short.status == 422  # type: ignore[attr-defined]
    assert short.problem()["errors"][0]["field"] == "signature"  # type: ignore[attr-defined]
    # The nonce was not spent by the refused requests: the right signature still works.
    good = _register(referred, referrer, {"message": message, "signature": sign(referred, message)})
    assert good.status == 201  # type: ignore[attr-defined]
