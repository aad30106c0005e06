"""The Switchboard settings: the public RPC URL sent to oracle gateways must be key-less."""

from __future__ import annotations

import pytest

from missout.settings import ChainSettings, SettingsError, load


@pytest.fixture(autouse=True)
def no_reveal_rpc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_REVEAL_RPC_URL", raising=False)


def test_reveal_rpc_url_is_unset_by_default_and_blank_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load(ChainSettings).switchboard_reveal_rpc_url is None
    monkeypatch.setenv("SWITCHBOARD_REVEAL_RPC_URL", "  ")
    assert load(ChainSettings).switchboard_reveal_rpc_url is None


def test_a_public_reveal_rpc_url_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_REVEAL_RPC_URL", " https://api.devnet.solana.com ")
    assert load(ChainSettings).switchboard_reveal_rpc_url == "https://api.devnet.solana.com"


@pytest.mark.parametrize(
    "url",
    [
        "https://mainnet.helius-rpc.com/?api-key=secret",
        "https://user:secret@rpc.example.com",
        "https://rpc.example.com/#token",
        "wss://api.devnet.solana.com",
        "api.devnet.solana.com",
    ],
)
def test_a_reveal_rpc_url_that_could_carry_a_key_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("SWITCHBOARD_REVEAL_RPC_URL", url)
    with pytest.raises(SettingsError, match="SWITCHBOARD_REVEAL_RPC_URL"):
        load(ChainSettings)
