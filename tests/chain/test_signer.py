"""The DEV wallet and the randomness secret, loaded from a local file or from Secrets Manager (moto stands in
for AWS): every accepted format, every refusal naming its variable, and never a byte of key material in an
error message."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from solders.keypair import Keypair

from missout import settings
from missout.chain.base58 import b58encode
from missout.chain.signer import load_dev_wallet, load_randomness_secret
from missout.settings import SettingsError, SignerSettings, load

DEV = Keypair.from_seed(bytes(range(32)))
OTHER = Keypair.from_seed(bytes(range(1, 33)))
SECRET = bytes(range(100, 140))  # 40 bytes


def keygen_json(keypair: Keypair) -> str:
    """What `solana-keygen` (and `make dev`) writes."""
    return json.dumps(list(bytes(keypair)))


def leaked(message: str, keypair: Keypair = DEV) -> bool:
    """Does `message` quote the keypair's secret half in any of the formats it may be stored in?"""
    secret = bytes(keypair)[:32]
    fragments = [
        b58encode(bytes(keypair)),
        str(keypair),
        json.dumps(list(secret))[1:40],
        secret.hex()[:16],
        ", ".join(str(b) for b in secret[:6]),
    ]
    return any(fragment in message for fragment in fragments)


def test_leak_detector_sees_each_stored_format() -> None:
    # Guards the guard: the assertions below are only as strong as this detector.
    for stored in (keygen_json(DEV), b58encode(bytes(DEV)), bytes(DEV).hex()):
        assert leaked(stored)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


# -- settings group ------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DEV_WALLET_SECRET_ARN",
        "DEV_WALLET_KEYPAIR_PATH",
        "DEV_WALLET_PUBKEY",
        "RANDOMNESS_SECRET_ARN",
        "RANDOMNESS_SECRET_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    settings.clear_caches()


@pytest.mark.usefixtures("clean_env")
def test_signer_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, "dev.json", keygen_json(DEV))
    monkeypatch.setenv("DEV_WALLET_KEYPAIR_PATH", str(path))
    monkeypatch.setenv("DEV_WALLET_PUBKEY", str(DEV.pubkey()))
    monkeypatch.setenv("DEV_WALLET_SECRET_ARN", "")  # SAM's empty parameter counts as unset
    monkeypatch.setenv("RANDOMNESS_SECRET_PATH", " ")  # ... and is not Path("."), the current directory
    loaded = settings.signer_settings()
    assert (loaded.dev_wallet_keypair_path, loaded.dev_wallet_secret_arn) == (path, None)
    assert loaded.randomness_secret_path is None
    assert load_dev_wallet(loaded) == DEV


@pytest.mark.usefixtures("clean_env")
def test_malformed_pubkey_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEV_WALLET_PUBKEY", "not-a-key")
    with pytest.raises(SettingsError, match="DEV_WALLET_PUBKEY"):
        load(SignerSettings)


# -- DEV wallet from a file ----------------------------------------------------------------------------


def test_keygen_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "dev.json", keygen_json(DEV) + "\n")
    assert load_dev_wallet(SignerSettings(dev_wallet_keypair_path=path)) == DEV


def test_matching_pubkey_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "dev.json", keygen_json(DEV))
    loaded = load_dev_wallet(
        SignerSettings(dev_wallet_keypair_path=path, dev_wallet_pubkey=str(DEV.pubkey()))
    )
    assert loaded.pubkey() == DEV.pubkey()


def test_pubkey_mismatch_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "dev.json", keygen_json(DEV))
    config = SignerSettings(dev_wallet_keypair_path=path, dev_wallet_pubkey=str(OTHER.pubkey()))
    with pytest.raises(SettingsError) as raised:
        load_dev_wallet(config)
    message = str(raised.value)
    assert "DEV_WALLET_KEYPAIR_PATH" in message
    assert "DEV_WALLET_PUBKEY" in message
    assert str(DEV.pubkey()) in message
    assert str(OTHER.pubkey()) in message
    assert not leaked(message)


def test_neither_source_names_both_variables() -> None:
    with pytest.raises(SettingsError, match="neither") as raised:
        load_dev_wallet(SignerSettings())
    assert "DEV_WALLET_SECRET_ARN" in str(raised.value)
    assert "DEV_WALLET_KEYPAIR_PATH" in str(raised.value)


def test_both_sources_name_both_variables(tmp_path: Path) -> None:
    path = write(tmp_path, "dev.json", keygen_json(DEV))
    config = SignerSettings(dev_wallet_keypair_path=path, dev_wallet_secret_arn="arn:aws:secretsmanager:x")
    with pytest.raises(SettingsError, match="both") as raised:
        load_dev_wallet(config)
    assert "DEV_WALLET_SECRET_ARN" in str(raised.value)
    assert "DEV_WALLET_KEYPAIR_PATH" in str(raised.value)


def test_missing_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="DEV_WALLET_KEYPAIR_PATH: cannot read"):
        load_dev_wallet(SignerSettings(dev_wallet_keypair_path=tmp_path / "absent.json"))


def _tampered_halves() -> str:
    # Secret half of DEV, public half of OTHER: would sign as one key while claiming another.
    return json.dumps(list(bytes(DEV)[:32] + bytes(OTHER.pubkey())))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (json.dumps(list(bytes(DEV))[:63]), "63 bytes"),
        (json.dumps([*list(bytes(DEV))[:63], 256]), "integers 0..255"),
        (keygen_json(DEV)[:-5], "not valid JSON"),
        (_tampered_halves(), "does not match"),
        (b58encode(bytes(DEV))[:-3] + "0OI", "neither a JSON array nor base58"),
        (json.dumps({"secret": list(bytes(DEV))}), "'secret_key'"),
        (json.dumps({"secret_key": 12}), "JSON array"),
        (b"\xff\xfe" + bytes(DEV), "not a text file"),
        ("", "is empty"),
    ],
    ids=[
        "short",
        "out-of-range",
        "truncated-json",
        "mismatched-halves",
        "bad-base58",
        "no-key",
        "number",
        "binary",
        "empty",
    ],
)
def test_malformed_key_names_the_variable_and_hides_the_key(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    path = write(tmp_path, "dev.json", content)
    with pytest.raises(SettingsError) as raised:
        load_dev_wallet(SignerSettings(dev_wallet_keypair_path=path))
    message = str(raised.value)
    assert message.startswith("DEV_WALLET_KEYPAIR_PATH: ")
    assert reason in message
    assert not leaked(message)
    # Nothing chained either: a traceback shows the causes too.
    assert raised.value.__cause__ is None


# -- randomness secret from a file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [SECRET.hex(), SECRET.hex().upper() + "\n", base64.b64encode(SECRET).decode()],
    ids=["hex", "hex-upper", "base64"],
)
def test_randomness_secret_file_formats(tmp_path: Path, encoded: str) -> None:
    path = write(tmp_path, "randomness.secret", encoded)
    assert load_randomness_secret(SignerSettings(randomness_secret_path=path)) == SECRET


def test_short_randomness_secret_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "randomness.secret", SECRET[:31].hex())
    with pytest.raises(SettingsError, match=r"RANDOMNESS_SECRET_PATH: the secret is 31 bytes, at least 32"):
        load_randomness_secret(SignerSettings(randomness_secret_path=path))


def test_undecodable_randomness_secret_hides_it(tmp_path: Path) -> None:
    text = "correct horse battery staple, not an encoding"
    path = write(tmp_path, "randomness.secret", text)
    with pytest.raises(SettingsError, match="neither hex nor base64") as raised:
        load_randomness_secret(SignerSettings(randomness_secret_path=path))
    assert "horse" not in str(raised.value)


def test_randomness_secret_needs_exactly_one_source() -> None:
    with pytest.raises(SettingsError, match=r"RANDOMNESS_SECRET_ARN.*RANDOMNESS_SECRET_PATH.*neither"):
        load_randomness_secret(SignerSettings())


# -- Secrets Manager -----------------------------------------------------------------------------------


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # any real AWS call would fail loudly
    with mock_aws():
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        yield boto3.client("secretsmanager", region_name="eu-central-1")
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def _arn(client: Any, name: str, value: str | bytes) -> str:
    if isinstance(value, bytes):
        created = client.create_secret(Name=name, SecretBinary=value)
    else:
        created = client.create_secret(Name=name, SecretString=value)
    return str(created["ARN"])


@pytest.mark.parametrize(
    "stored",
    [
        keygen_json(DEV),
        b58encode(bytes(DEV)),
        json.dumps({"secret_key": list(bytes(DEV))}),
        json.dumps({"secret_key": b58encode(bytes(DEV)), "note": "crank signer"}),
    ],
    ids=["keygen-array", "base58", "json-array", "json-base58"],
)
def test_dev_wallet_secret_formats(secrets: Any, stored: str) -> None:
    arn = _arn(secrets, "missout/dev/dev-wallet", stored)
    config = SignerSettings(dev_wallet_secret_arn=arn, dev_wallet_pubkey=str(DEV.pubkey()))
    assert load_dev_wallet(config) == DEV


def test_malformed_secret_names_the_arn_variable(secrets: Any) -> None:
    arn = _arn(secrets, "missout/dev/dev-wallet-bad", b58encode(bytes(DEV))[:40])
    with pytest.raises(SettingsError) as raised:
        load_dev_wallet(SignerSettings(dev_wallet_secret_arn=arn))
    assert str(raised.value).startswith("DEV_WALLET_SECRET_ARN: ")
    assert not leaked(str(raised.value))
    assert b58encode(bytes(DEV))[:20] not in str(raised.value)


def test_secret_pubkey_mismatch_is_refused(secrets: Any) -> None:
    arn = _arn(secrets, "missout/dev/dev-wallet-other", keygen_json(OTHER))
    config = SignerSettings(dev_wallet_secret_arn=arn, dev_wallet_pubkey=str(DEV.pubkey()))
    with pytest.raises(SettingsError, match="DEV_WALLET_SECRET_ARN: the key belongs to") as raised:
        load_dev_wallet(config)
    assert not leaked(str(raised.value), OTHER)


def test_binary_secret_is_not_a_keypair(secrets: Any) -> None:
    arn = _arn(secrets, "missout/dev/dev-wallet-binary", bytes(DEV))
    with pytest.raises(SettingsError, match="DEV_WALLET_SECRET_ARN: a binary secret") as raised:
        load_dev_wallet(SignerSettings(dev_wallet_secret_arn=arn))
    assert not leaked(str(raised.value))


@pytest.mark.parametrize(
    "stored", [SECRET.hex(), base64.b64encode(SECRET).decode(), SECRET], ids=["hex", "base64", "binary"]
)
def test_randomness_secret_formats(secrets: Any, stored: str | bytes) -> None:
    arn = _arn(secrets, "missout/dev/randomness", stored)
    assert load_randomness_secret(SignerSettings(randomness_secret_arn=arn)) == SECRET


def test_short_binary_randomness_secret_is_refused(secrets: Any) -> None:
    arn = _arn(secrets, "missout/dev/randomness-short", SECRET[:16])
    with pytest.raises(SettingsError, match="RANDOMNESS_SECRET_ARN: the secret is 16 bytes"):
        load_randomness_secret(SignerSettings(randomness_secret_arn=arn))
