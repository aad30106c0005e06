"""Configuration: every variable is named when missing or malformed, and defaults are the documented ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from missout import settings
from missout.settings import (
    ApiSettings,
    ChainSettings,
    DatabaseSettings,
    MonitorSettings,
    SettingsError,
    load,
)

DB_URL = "postgresql+pg8000://u:p@db.example.com:5432/app"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "DATABASE_URL_SECRET_ARN",
        "DATABASE_PGBOUNCER",
        "DATABASE_SSLMODE",
        "DATABASE_STATEMENT_TIMEOUT_MS",
        "DIRECT_DATABASE_URL",
        "PROGRAM_ID",
        "SOLANA_RPC_URLS",
        "MONITOR_TICK_SECONDS",
        "MONITOR_MOCK_RANDOMNESS",
        "RANDOMNESS_SECRET_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    settings.clear_caches()


def test_missing_database_url_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        load(DatabaseSettings)


def test_malformed_timeout_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DB_URL)
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "five seconds")
    with pytest.raises(SettingsError, match="DATABASE_STATEMENT_TIMEOUT_MS"):
        load(DatabaseSettings)


def test_unknown_pooler_setting_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DB_URL)
    monkeypatch.setenv("DATABASE_PGBOUNCER", "maybe")
    with pytest.raises(SettingsError, match="DATABASE_PGBOUNCER"):
        load(DatabaseSettings)


def test_database_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DB_URL)
    db = settings.database_settings()
    assert (db.pgbouncer, db.statement_timeout_ms, db.lock_timeout_ms, db.connect_timeout_s) == (
        "auto",
        5000,
        2000,
        5.0,
    )
    assert db.resolved_url() == DB_URL


def test_missing_direct_url_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="DIRECT_DATABASE_URL: missing"):
        load(settings.MigrationSettings)


def test_malformed_program_id_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROGRAM_ID", "not-a-key!")
    with pytest.raises(SettingsError, match="PROGRAM_ID"):
        load(ChainSettings)


def test_rpc_urls_are_split_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLANA_RPC_URLS", " http://127.0.0.1:8899 , https://rpc.example.com ")
    assert load(ChainSettings).rpc_urls == ["http://127.0.0.1:8899", "https://rpc.example.com"]
    monkeypatch.setenv("SOLANA_RPC_URLS", "ftp://nope")
    with pytest.raises(SettingsError, match="SOLANA_RPC_URLS"):
        load(ChainSettings)


def test_monitor_tick_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_TICK_SECONDS", "0")
    with pytest.raises(SettingsError, match="MONITOR_TICK_SECONDS"):
        load(MonitorSettings)


def test_pool_fees_above_the_whole_pot_name_the_three_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_POOL_DEV_FEE_BPS", "6000")
    monkeypatch.setenv("API_POOL_BURN_FEE_BPS", "3000")
    monkeypatch.setenv("API_POOL_TREASURY_FEE_BPS", "1001")
    with pytest.raises(SettingsError, match=r"API_POOL_DEV_FEE_BPS \+ .* is 10001 bps"):
        load(ApiSettings)
    monkeypatch.setenv("API_POOL_TREASURY_FEE_BPS", "1000")  # exactly the whole pot is accepted
    assert load(ApiSettings).pool_treasury_fee_bps == 1000


# What `BaseSettings` did for us and the groups now do themselves (missout.settings._Group).


def test_a_variable_is_found_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("database_url", DB_URL)
    monkeypatch.setenv("Database_Statement_Timeout_Ms", "750")
    db = load(DatabaseSettings)
    assert (db.url, db.statement_timeout_ms) == (DB_URL, 750)


def test_values_given_to_a_group_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DB_URL)
    monkeypatch.setenv("DATABASE_PGBOUNCER", "false")
    db = DatabaseSettings(pgbouncer="true")
    assert (db.url, db.pgbouncer) == (DB_URL, "true")  # the rest still from the environment


def test_strings_are_parsed_to_each_fields_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_TICK_SECONDS", "2.5")
    monkeypatch.setenv("MONITOR_MOCK_RANDOMNESS", "yes")
    monkeypatch.setenv("RANDOMNESS_SECRET_PATH", "/run/secret")
    monitor = load(MonitorSettings)
    assert (monitor.tick_seconds, monitor.mock_randomness) == (2.5, True)
    assert load(settings.SignerSettings).randomness_secret_path == Path("/run/secret")


def test_variables_of_another_group_or_unknown_ones_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DB_URL)
    monkeypatch.setenv("URL", "postgresql+pg8000://not-this-one")  # the field without its group's prefix
    monkeypatch.setenv("DATABASE_NO_SUCH_OPTION", "1")
    assert load(DatabaseSettings).url == DB_URL


def test_defaults_pass_the_validators_too() -> None:
    # `validate_default`: a default is checked like a value from the environment (BaseSettings did so).
    fields = ChainSettings.model_fields
    assert ChainSettings.model_config.get("validate_default") is True
    assert load(ChainSettings).program_id == fields["program_id"].default
