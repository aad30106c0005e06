"""From a configured URL to what the driver needs: pooler detection, TLS policy, and a clean driver URL.

Pure (no I/O), so every detection case is a unit test. pg8000 ignores libpq-style query parameters such as
`sslmode` and `pgbouncer`; left in the URL they would be passed to `connect()` and rejected, so they are read
here and stripped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from missout.settings import PoolerSetting, SettingsError, SslMode

SUPAVISOR_TRANSACTION_PORT = 6543  # the transaction-mode pooler port of Supabase and of many pgBouncer setups
_DRIVER = "postgresql+pg8000"
_STRIPPED_PARAMS = ("pgbouncer", "sslmode", "sslrootcert")

TlsPolicy = Literal["off", "verify-full", "verify-ca"]


@dataclass(frozen=True)
class ConnectionPlan:
    url: URL  # driver URL without libpq-only parameters
    behind_pooler: bool
    pooler_reason: str  # why we think there is (or is not) a pooler, for /health and logs
    tls: TlsPolicy
    ca_file: str | None

    @property
    def safe_target(self) -> str:
        """host:port/database without credentials, for logs and health output."""
        return f"{self.url.host}:{self.url.port or 5432}/{self.url.database}"


def plan_connection(
    raw_url: str,
    *,
    pgbouncer: PoolerSetting = "auto",
    sslmode: SslMode | None = None,
    ca_file: str | None = None,
    variable: str = "DATABASE_URL",
) -> ConnectionPlan:
    """Decide pooling and TLS for `raw_url`. Explicit settings win over URL parameters, which win over
    inference from the host and port."""
    url = _parse(raw_url, variable)
    query = dict(url.query)
    url_pgbouncer = _single(query.get("pgbouncer"))
    url_sslmode = _single(query.get("sslmode"))
    url_ca = _single(query.get("sslrootcert"))
    url = url.difference_update_query(_STRIPPED_PARAMS)

    behind, reason = _detect_pooler(url, pgbouncer, url_pgbouncer)
    mode = sslmode or _valid_sslmode(url_sslmode, variable)
    return ConnectionPlan(
        url=url,
        behind_pooler=behind,
        pooler_reason=reason,
        tls=_tls_policy(mode, url.host or ""),
        ca_file=ca_file or url_ca,
    )


def _parse(raw_url: str, variable: str) -> URL:
    try:
        url = make_url(raw_url)
    except ArgumentError:
        raise SettingsError(f"{variable}: not a database URL") from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise SettingsError(f"{variable}: expected a postgresql:// URL, got {url.get_backend_name()}://")
    if not url.host or not url.database:
        raise SettingsError(f"{variable}: host and database name are required")
    # One driver everywhere: pg8000 is pure Python (no libpq in the Lambda layer).
    return url.set(drivername=_DRIVER)


def _single(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[-1] if value else None
    return value


def _detect_pooler(url: URL, setting: PoolerSetting, url_flag: str | None) -> tuple[bool, str]:
    if setting != "auto":
        return setting == "true", f"DATABASE_PGBOUNCER={setting}"
    if url_flag is not None:
        flag = url_flag.strip().lower() in ("true", "1", "yes", "on")
        return flag, f"pgbouncer={url_flag} in the URL"
    if url.port == SUPAVISOR_TRANSACTION_PORT:
        return True, f"port {SUPAVISOR_TRANSACTION_PORT}"
    return False, "no pooler hint (port, pgbouncer=true or DATABASE_PGBOUNCER)"


def _valid_sslmode(value: str | None, variable: str) -> SslMode | None:
    allowed: tuple[SslMode, ...] = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
    if value is None:
        return None
    for mode in allowed:
        if value == mode:
            return mode
    raise SettingsError(f"{variable}: sslmode={value!r} is not one of {', '.join(allowed)}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_policy(mode: SslMode | None, host: str) -> TlsPolicy:
    """pg8000 has no opportunistic mode we would want (its default is unverified TLS with plaintext
    fallback), so every mode maps to off or a verifying context. `require` is upgraded to verify-full:
    encryption without authentication does not stop the attacker it is meant to stop."""
    if mode is None:
        return "off" if _is_loopback(host) else "verify-full"
    if mode in ("disable", "allow", "prefer"):
        return "off"
    if mode == "verify-ca":
        return "verify-ca"
    return "verify-full"
