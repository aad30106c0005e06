"""The files `make dev` writes are exactly what the monitor's signer loaders read."""

from __future__ import annotations

from pathlib import Path

from local_wallets import existing_pubkey, load_or_create, randomness_secret_path
from missout.chain.signer import load_dev_wallet, load_randomness_secret
from missout.settings import SignerSettings


def test_dev_wallet_file_loads_as_the_signer(tmp_path: Path) -> None:
    created = load_or_create("dev", tmp_path)
    assert load_or_create("dev", tmp_path) == created  # made once, then reused
    assert existing_pubkey("dev", tmp_path) == created.pubkey()
    path = tmp_path / "dev.json"
    assert path.stat().st_mode & 0o777 == 0o600
    settings = SignerSettings(dev_wallet_keypair_path=path, dev_wallet_pubkey=str(created.pubkey()))
    assert load_dev_wallet(settings).pubkey() == created.pubkey()


def test_randomness_secret_file_is_stable_and_long_enough(tmp_path: Path) -> None:
    path = randomness_secret_path(tmp_path)
    assert randomness_secret_path(tmp_path) == path
    first = load_randomness_secret(SignerSettings(randomness_secret_path=path))
    assert len(first) >= 32
    assert load_randomness_secret(SignerSettings(randomness_secret_path=path)) == first


def test_no_wallet_means_no_pubkey(tmp_path: Path) -> None:
    assert existing_pubkey("treasury", tmp_path) is None
