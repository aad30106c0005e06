"""pgBouncer detection and TLS policy, every case: explicit setting > URL parameter > port > none."""

from __future__ import annotations

import ssl

import pytest
from sqlalchemy.pool import NullPool, QueuePool

from missout.db.connection_plan import plan_connection
from missout.db.engine import _ssl_context, build_engine, connect_args_for
from missout.settings import DatabaseSettings, SettingsError

REMOTE = "postgresql://u:p@db.example.com"


@pytest.mark.parametrize(
    ("url", "setting", "behind", "reason_part"),
    [
        (f"{REMOTE}:6543/app", "auto", True, "port 6543"),
        (f"{REMOTE}:5432/app?pgbouncer=true", "auto", True, "pgbouncer=true"),
        (f"{REMOTE}:6543/app?pgbouncer=false", "auto", False, "pgbouncer=false"),
        (f"{REMOTE}:5432/app", "auto", False, "no pooler hint"),
        (f"{REMOTE}:5432/app", "true", True, "DATABASE_PGBOUNCER=true"),
        (f"{REMOTE}:6543/app?pgbouncer=true", "false", False, "DATABASE_PGBOUNCER=false"),
    ],
)
def test_pooler_detection(url: str, setting: str, behind: bool, reason_part: str) -> None:
    plan = plan_connection(url, pgbouncer=setting)  # type: ignore[arg-type]
    assert plan.behind_pooler is behind
    assert reason_part in plan.pooler_reason


def test_libpq_parameters_are_stripped_before_connecting() -> None:
    plan = plan_connection(f"{REMOTE}:6543/app?pgbouncer=true&sslmode=verify-ca&sslrootcert=/ca.pem&x=1")
    assert dict(plan.url.query) == {"x": "1"}
    assert plan.url.drivername == "postgresql+pg8000"
    assert (plan.tls, plan.ca_file) == ("verify-ca", "/ca.pem")


@pytest.mark.parametrize(
    ("url", "sslmode", "tls"),
    [
        ("postgresql://u:p@127.0.0.1:5432/app", None, "off"),
        ("postgresql://u:p@localhost:5432/app", None, "off"),
        ("postgresql://u:p@[::1]:5432/app", None, "off"),
        (f"{REMOTE}:5432/app", None, "verify-full"),
        (f"{REMOTE}:5432/app?sslmode=require", None, "verify-full"),
        (f"{REMOTE}:5432/app?sslmode=disable", None, "off"),
        (f"{REMOTE}:5432/app?sslmode=disable", "verify-full", "verify-full"),
        ("postgresql://u:p@127.0.0.1:5432/app", "require", "verify-full"),
    ],
)
def test_tls_policy(url: str, sslmode: str | None, tls: str) -> None:
    assert plan_connection(url, sslmode=sslmode).tls == tls  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u:p@h/db", "expected a postgresql"),
        ("postgresql://u:p@h:5432/", "host and database"),
        (f"{REMOTE}:5432/app?sslmode=sometimes", "sslmode='sometimes'"),
    ],
)
def test_malformed_urls_name_the_variable(url: str, message: str) -> None:
    with pytest.raises(SettingsError, match=f"DATABASE_URL: .*{message}"):
        plan_connection(url)


def test_pooled_engine_keeps_no_pool_and_direct_engine_keeps_a_small_one() -> None:
    settings = DatabaseSettings(url="postgresql://u:p@127.0.0.1:6543/app")
    pooled = build_engine(plan_connection("postgresql://u:p@127.0.0.1:6543/app"), settings)
    direct = build_engine(plan_connection("postgresql://u:p@127.0.0.1:5432/app"), settings)
    assert isinstance(pooled.pool, NullPool)
    assert isinstance(direct.pool, QueuePool)
    assert direct.pool.size() == 2


def test_tls_uses_one_verifying_context() -> None:
    settings = DatabaseSettings(url=f"{REMOTE}:5432/app")
    plan = plan_connection(f"{REMOTE}:5432/app")
    first = connect_args_for(plan, settings)["ssl_context"]
    second = connect_args_for(plan, settings)["ssl_context"]
    assert first is second  # built once, not per connection
    assert isinstance(first, ssl.SSLContext)
    assert first.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname
    assert _ssl_context("verify-ca", None).check_hostname is False


def test_loopback_connects_without_tls() -> None:
    plan = plan_connection("postgresql://u:p@127.0.0.1:5432/app")
    args = connect_args_for(plan, DatabaseSettings(url="postgresql://u:p@127.0.0.1:5432/app"))
    assert args["ssl_context"] is False
    assert args["timeout"] == 5.0
