"""missout.db.scram through real pgBouncer: the client's SCRAM key is derived once for many logins, and so is
the SASLprep of its username and password; the login still proves the password each time (a wrong one is
refused, a changed salt derives a new key)."""

from __future__ import annotations

import hashlib

import pytest
import scramp.core
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from missout.db import app_engine, scram, transaction
from missout.db.connection_plan import plan_connection
from missout.db.engine import build_engine
from missout.settings import DatabaseSettings
from tests.support.database import TestDatabase


def test_scramp_derives_the_key_and_prepares_the_names_through_ours() -> None:
    assert scramp.core.hi is scram.salted_password
    assert scramp.core.saslprep is scram.prepared


def test_many_logins_derive_the_key_once(app_database: TestDatabase) -> None:
    engine = app_engine()
    with transaction(engine) as conn:  # the first login may derive it (or an earlier test did)
        conn.execute(text("SELECT 1"))
    before = scram.derivations()
    prepared_before = scram.prepared.cache_info()
    for _ in range(5):  # NullPool behind the pooler: five new connections, five SCRAM logins
        with transaction(engine) as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert scram.derivations() == before
    prepared_after = scram.prepared.cache_info()
    assert prepared_after.misses == prepared_before.misses  # the username and password: prepared once
    assert prepared_after.hits == prepared_before.hits + 10


def test_a_wrong_password_is_still_refused(app_database: TestDatabase) -> None:
    """The right password's key is kept; a login with another password derives its own, and is refused."""
    with transaction(app_engine()) as conn:
        conn.execute(text("SELECT 1"))
    good = make_url(app_database.pooled_url)
    assert good.password
    wrong_url = good.set(password=good.password + "x").render_as_string(hide_password=False)
    wrong = build_engine(plan_connection(wrong_url), DatabaseSettings(url=wrong_url))
    refused = r"(?i)password authentication failed|SASL authentication failed"
    try:
        with pytest.raises(DBAPIError, match=refused), wrong.connect():
            pass
    finally:
        wrong.dispose()


def test_the_key_follows_its_inputs() -> None:
    sha256 = hashlib.sha256
    first = scram.salted_password(sha256, b"secret", b"salt-one", 4096)
    assert first == hashlib.pbkdf2_hmac("sha256", b"secret", b"salt-one", 4096)
    before = scram.derivations()
    assert scram.salted_password(sha256, b"secret", b"salt-one", 4096) == first
    assert scram.derivations() == before
    other_salt = scram.salted_password(sha256, b"secret", b"salt-two", 4096)
    other_count = scram.salted_password(sha256, b"secret", b"salt-one", 4097)
    assert scram.derivations() == before + 2
    assert len({first, other_salt, other_count}) == 3
    assert other_salt == hashlib.pbkdf2_hmac("sha256", b"secret", b"salt-two", 4096)


def test_saslprep_is_scramps_and_its_refusals_are_not_kept() -> None:
    assert scram.prepared("I\u00adX") == "IX"  # RFC 4013's example: the soft hyphen maps to nothing
    assert scram.prepared("user\u00a0name") == "user name"  # a non-ASCII space maps to a space
    for _ in range(2):
        with pytest.raises(scramp.core.ScramException):
            scram.prepared("\u0007")  # a control character is refused, each time
