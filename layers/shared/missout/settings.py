"""Typed configuration from the environment, one group per concern, loaded once per process.

Each group is its own model so a function loads only what it needs (the API never reads the monitor's
signer; migrations never read the pooled URL). A missing or malformed variable raises `SettingsError` naming
the variable as it is spelled in the environment, so a broken deploy says exactly what to fix.

A group reads `<env_prefix><FIELD>` (any case) for each field, as pydantic-settings' `BaseSettings` did with
our options, but with plain pydantic: every field here is a scalar parsed from its string, so the sources
pydantic-settings loads with it (dotenv, JSON, YAML, TOML, the cloud vaults, a command-line parser) were
10-14 ms of each handler's cold start for nothing (bench/figures/cold_start.py).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
PoolerSetting = Literal["auto", "true", "false"]

_BASE58_ALPHABET = set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


class SettingsError(RuntimeError):
    """Configuration is missing or malformed; the message names every offending environment variable."""


def _base58_pubkey_or_none(value: str | None) -> str | None:
    if value is None:
        return None
    # 32-byte keys are 32..44 base58 characters; the codec checks the exact length when it decodes.
    if not 32 <= len(value) <= 44 or not set(value) <= _BASE58_ALPHABET:
        raise ValueError("not a base58 public key")
    return value


class _Group(BaseModel):
    """What every group shares. `defer_build`: pydantic builds a group's validator when the group is first
    loaded, not when this module is imported, so a function builds only the groups it reads (the API: the
    database and API groups) instead of all seven at init. `validate_default`: defaults pass the validators
    too, as they did under `BaseSettings`."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True, validate_default=True)
    env_prefix: ClassVar[str] = ""

    def __init__(self, **values: Any) -> None:
        # Values given here win over the environment, as with `BaseSettings` (tests pass some).
        super().__init__(**{**_from_environment(type(self)), **values})


def _from_environment(group: type[_Group]) -> dict[str, str]:
    """The raw string of each field the environment sets, looked up as `<env_prefix><field>` in any case."""
    environment = {name.lower(): value for name, value in os.environ.items()}
    prefix = group.env_prefix.lower()
    return {
        field: environment[prefix + field] for field in group.model_fields if prefix + field in environment
    }


class DatabaseSettings(_Group):
    """How the app reaches PostgreSQL: always the pooled URL (pgBouncer in transaction mode in production)."""

    env_prefix = "DATABASE_"

    url: str | None = Field(default=None, description="pooled URL, e.g. postgresql+pg8000://u:p@host:6543/db")
    url_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret holding the pooled URL (plain or JSON {'url': ...})"
    )
    pgbouncer: PoolerSetting = "auto"
    sslmode: SslMode | None = None
    ca_file: str | None = None
    statement_timeout_ms: int = Field(default=5_000, ge=0, le=600_000)
    lock_timeout_ms: int = Field(default=2_000, ge=0, le=600_000)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=60)
    application_name: str = Field(default="missout", pattern=r"^[A-Za-z0-9_.\-]{1,63}$")

    @model_validator(mode="after")
    def _one_source_of_url(self) -> DatabaseSettings:
        if not self.url and not self.url_secret_arn:
            raise ValueError("set DATABASE_URL (or DATABASE_URL_SECRET_ARN in AWS)")
        return self

    def resolved_url(self) -> str:
        """The pooled URL, fetched from Secrets Manager (cached by Powertools) when only the ARN is given."""
        if self.url:
            return self.url
        assert self.url_secret_arn is not None  # guaranteed by the validator
        return _url_from_secret(self.url_secret_arn)


class MigrationSettings(_Group):
    """Migrations need a session-capable connection: the direct URL, never the pooler."""

    direct_database_url: str


class ChainSettings(_Group):
    """Where Solana is and which accounts are ours. Public keys only: the signer is a monitor-only secret."""

    solana_rpc_urls: str = Field(default="", description="comma separated; the first is the primary")
    program_id: str = "4wgBJUHydWXXJKXYsmdGoGw1ufC3dxz8q2mukFYaAhSm"
    dev_wallet_pubkey: str | None = None
    treasury_wallet_pubkey: str | None = None
    switchboard_program_id: str = "Aio4gaXjXzJNVLtzwtNVmSqGKpANtXhybbkhtAC94ji2"
    switchboard_queue: str = "EYiAmGSdsQTuCw413V5BzaruWuCCSDgTPtBGvLkXHbe7"
    # Sent as the `rpc` field of Switchboard reveal requests (docs/switchboard.md "Reveal"): the oracle
    # operator sees it, so it must be a key-less public endpoint, never one of SOLANA_RPC_URLS with a key.
    switchboard_reveal_rpc_url: str | None = Field(
        default=None, description="key-less public RPC URL, e.g. https://api.devnet.solana.com"
    )

    @field_validator(
        "program_id",
        "dev_wallet_pubkey",
        "treasury_wallet_pubkey",
        "switchboard_program_id",
        "switchboard_queue",
    )
    @classmethod
    def _base58_pubkey(cls, value: str | None) -> str | None:
        return _base58_pubkey_or_none(value)

    @field_validator("solana_rpc_urls")
    @classmethod
    def _urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",") if u.strip()):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {url[:40]!r}")
        return value

    @field_validator("switchboard_reveal_rpc_url", mode="before")
    @classmethod
    def _public_rpc_url(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # SAM passes an unset parameter as ""
        if not isinstance(value, str):
            return value
        url = value.strip()
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest:
            raise ValueError("not an http(s) URL")
        # Keys travel in the query (?api-key=) or as user:password@; neither may reach an oracle operator.
        if "?" in rest or "#" in rest or "@" in rest.split("/", 1)[0]:
            raise ValueError("must be a key-less public endpoint (no query string, fragment or credentials)")
        return url

    @property
    def rpc_urls(self) -> list[str]:
        return [u.strip() for u in self.solana_rpc_urls.split(",") if u.strip()]


class MonitorSettings(_Group):
    """The monitor's tick loop."""

    env_prefix = "MONITOR_"

    tick_seconds: float = Field(default=5.0, gt=0, le=60)
    # Stop starting ticks when less than this is left of the invocation: a tick plus its commit must fit.
    safety_margin_ms: int = Field(default=10_000, ge=0, le=120_000)
    due_pools_limit: int = Field(default=100, ge=1, le=1_000)
    # How long a leased pool stays ours; a crashed run's pools are free again after it.
    lease_seconds: float = Field(default=120.0, gt=0, le=900)
    pool_concurrency: int = Field(default=16, ge=1, le=128)  # pools driven at once within a tick
    steps_per_pool: int = Field(default=6, ge=1, le=20)  # actions one pool may take in one tick
    # Predictable randomness (docs/program.md §4.1): only for pools that allow it and only when this is on.
    # Never on by default; meant for local development against pools created with allow_mock.
    mock_randomness: bool = False
    deadline_warning_slots: int = Field(default=1_500, ge=1, le=2_999)  # warn below this many slots left
    max_failures: int = Field(default=6, ge=1, le=100)  # consecutive failed ticks before `stuck`
    backoff_base_seconds: float = Field(default=5.0, gt=0, le=600)
    backoff_cap_seconds: float = Field(default=300.0, gt=0, le=86_400)
    stuck_recheck_seconds: float = Field(default=3_600.0, gt=0, le=86_400)
    close_randomness: bool = True  # close the Switchboard randomness account after the payout
    discover_every_seconds: float = Field(default=60.0, gt=0, le=86_400)  # getProgramAccounts sweep
    probe_gateway_health: bool = True  # ask the oracle gateways which oracles are healthy before a commit


class SignerSettings(_Group):
    """Where the monitor's signing material lives (monitor only: the API never loads this group).

    Each secret comes from exactly one source, Secrets Manager in AWS or a local file under `make dev`; which
    one is set is checked when the secret is loaded (`missout.chain.signer`), so reading this group costs no
    I/O and never touches key material.
    """

    dev_wallet_secret_arn: str | None = Field(
        default=None,
        description="Secrets Manager secret: JSON array of 64 ints, base58, or {'secret_key': ...}",
    )
    dev_wallet_keypair_path: Path | None = Field(
        default=None, description="local keypair file as solana-keygen writes it (JSON array of 64 ints)"
    )
    # The key pools are created for; the loaded keypair must be this one when it is set.
    dev_wallet_pubkey: str | None = None
    randomness_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret: hex or base64 text (or binary) of >= 32 bytes"
    )
    randomness_secret_path: Path | None = Field(default=None, description="local file: hex or base64 text")
    # The treasury hot wallet that pays referral claims (monitor only, its own secret).
    treasury_wallet_secret_arn: str | None = Field(
        default=None, description="Secrets Manager secret: the treasury keypair, same formats as the DEV one"
    )
    treasury_wallet_keypair_path: Path | None = Field(default=None, description="local keypair file")
    treasury_wallet_pubkey: str | None = None
    # Referral payout caps, per mint in base units: one claim, and everything paid in a rolling 24 hours.
    referral_payout_max_per_claim: int = Field(default=10**15, ge=1, le=2**64 - 1)
    referral_payout_max_per_day: int = Field(default=10**16, ge=1, le=2**70)

    @field_validator(
        "dev_wallet_secret_arn",
        "dev_wallet_keypair_path",
        "randomness_secret_arn",
        "randomness_secret_path",
        "treasury_wallet_secret_arn",
        "treasury_wallet_keypair_path",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # SAM passes an empty parameter as "", which must not count as a configured source (and must not
        # become Path("."), the current directory). Before validation, while it is still the raw string.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("dev_wallet_pubkey", "treasury_wallet_pubkey")
    @classmethod
    def _base58_pubkey(cls, value: str | None) -> str | None:
        return _base58_pubkey_or_none(value)


class CrankSettings(_Group):
    """Cost limits of the monitor's crank transactions (docs/solana.md §3.4)."""

    env_prefix = "CRANK_"

    # Same default as `SendPolicy.max_priority_fee`; the upper bound only catches typos (10 lamports per
    # compute unit already costs up to 0.014 SOL per crank at the 1.4 M unit ceiling).
    priority_fee_cap_microlamports: int = Field(default=200_000, ge=1, le=10_000_000)
    # The monitor function's timeout (template.yaml `MonitorFunction.Timeout`) and how far past it an intent
    # stays leased: a run's lease never outlives the run by more than the margin (docs/sending.md).
    function_timeout_s: int = Field(default=60, ge=1, le=900)
    lease_margin_s: float = Field(default=5.0, ge=0, le=60)


class ApiSettings(_Group):
    """The API's own knobs: rate limits (docs/original-backend.md W19) and the pool terms it records.

    Limits are per window, shared by every Lambda instance through the database. The per-IP limit is the same
    on every route: many players share one address behind a carrier NAT, so reporting routes add a per-wallet
    limit instead of a tighter per-IP one.
    """

    env_prefix = "API_"

    rate_limit_window_s: int = Field(default=60, ge=1, le=3_600)
    rate_limit_per_ip: int = Field(default=100, ge=1, le=1_000_000)
    rate_limit_per_wallet: int = Field(default=30, ge=1, le=1_000_000)
    # The pool configuration we crank and record (must match create_pool's arguments; W8, OC1).
    pool_dev_fee_bps: int = Field(default=500, ge=0, le=10_000)
    pool_burn_fee_bps: int = Field(default=350, ge=0, le=10_000)
    pool_treasury_fee_bps: int = Field(default=150, ge=0, le=10_000)
    pool_allow_mock: bool = False
    # How long a reported transaction may have landed before it is reported (bounds leaked signatures).
    report_max_age_s: int = Field(default=600, ge=10, le=86_400)
    # Signed requests (docs/people.md): the domain and URI a signed message must name, and its chain id.
    signin_domain: str = Field(default="localhost", pattern=r"^[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?$")
    signin_uri: str = Field(default="http://localhost", min_length=1, max_length=200)
    signin_chain_id: str = Field(default="mainnet", pattern=r"^[a-z0-9\-]{1,32}$")
    signin_nonce_ttl_s: int = Field(default=300, ge=30, le=3_600)
    # Profiles: the first `free` nickname changes are free, then one per `cooldown` (the original's rule).
    nickname_free_changes: int = Field(default=2, ge=0, le=100)
    nickname_cooldown_s: int = Field(default=48 * 3_600, ge=0, le=30 * 86_400)
    # Referral claims: at most this many base units in one claim (the rest stays pending for a later one).
    referral_claim_cap: int = Field(default=10**15, ge=1, le=2**64 - 1)
    # Avatars: the private bucket uploads go to, and the endpoint (set locally to the S3 stand-in).
    avatar_bucket: str | None = None
    avatar_s3_endpoint_url: str | None = None
    avatar_max_bytes: int = Field(default=1_048_576, ge=1_024, le=10_485_760)

    @model_validator(mode="after")
    def _fees_fit_in_the_pot(self) -> ApiSettings:
        # create_pool refuses fees above 10,000 bps in total (docs/program.md §3.1): a policy above that
        # matches no pool that can exist, so it is a configuration mistake, said at start-up.
        total = self.pool_dev_fee_bps + self.pool_burn_fee_bps + self.pool_treasury_fee_bps
        if total > 10_000:
            raise ValueError(
                "API_POOL_DEV_FEE_BPS + API_POOL_BURN_FEE_BPS + API_POOL_TREASURY_FEE_BPS is "
                f"{total} bps; create_pool accepts at most 10000 in total"
            )
        return self


_S = TypeVar("_S", bound=_Group)


def load(group: type[_S]) -> _S:
    """Read one settings group from the environment or raise `SettingsError` naming each bad variable."""
    try:
        return group()
    except ValidationError as exc:
        prefix = group.env_prefix  # pydantic reports field names: said as the variables' names
        problems = []
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"])
            name = f"{prefix}{field}".upper() if field else f"{group.__name__}"
            reason = "missing" if err["type"] == "missing" else err["msg"]
            problems.append(f"{name}: {reason}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


@cache
def database_settings() -> DatabaseSettings:
    return load(DatabaseSettings)


@cache
def chain_settings() -> ChainSettings:
    return load(ChainSettings)


@cache
def monitor_settings() -> MonitorSettings:
    return load(MonitorSettings)


@cache
def signer_settings() -> SignerSettings:
    return load(SignerSettings)


@cache
def crank_settings() -> CrankSettings:
    return load(CrankSettings)


@cache
def api_settings() -> ApiSettings:
    return load(ApiSettings)


def clear_caches() -> None:
    """Forget loaded settings (tests change the environment between cases)."""
    for loader in (
        database_settings,
        chain_settings,
        monitor_settings,
        signer_settings,
        crank_settings,
        api_settings,
    ):
        loader.cache_clear()


def _url_from_secret(arn: str) -> str:
    # Imported here: boto3 costs ~100 ms of cold start and only AWS deployments take this path.
    from aws_lambda_powertools.utilities import parameters

    raw = parameters.get_secret(arn)
    if not isinstance(raw, str) or not raw.strip():
        raise SettingsError(f"DATABASE_URL_SECRET_ARN: secret {arn} is empty or binary")
    text = raw.strip()
    if text.startswith("{"):
        try:
            url = json.loads(text).get("url")
        except (json.JSONDecodeError, AttributeError):
            url = None
        if not isinstance(url, str) or not url:
            raise SettingsError(f"DATABASE_URL_SECRET_ARN: secret {arn} is JSON without a string 'url' key")
        return url
    return text
