"""The crank fee cap: configurable per deployment, defaulting to the sender's own policy cap."""

from __future__ import annotations

import pytest

from missout import settings
from missout.chain.send import SendPolicy, policy_from_settings
from missout.settings import CrankSettings, SettingsError, load

VARIABLE = "CRANK_PRIORITY_FEE_CAP_MICROLAMPORTS"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    settings.clear_caches()


def test_default_cap_is_the_send_policy_default() -> None:
    assert settings.crank_settings().priority_fee_cap_microlamports == SendPolicy().max_priority_fee
    assert policy_from_settings(settings.crank_settings()) == SendPolicy()


def test_configured_cap_feeds_the_send_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, "50000")
    policy = policy_from_settings(load(CrankSettings))
    assert policy.max_priority_fee == 50_000
    assert policy.min_priority_fee == SendPolicy().min_priority_fee


@pytest.mark.parametrize("value", ["0", "-5", "lots", "10000001"])
def test_bad_cap_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(VARIABLE, value)
    with pytest.raises(SettingsError, match=VARIABLE):
        load(CrankSettings)
