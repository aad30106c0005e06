"""The monitor's signing material: the DEV wallet keypair and the randomness secret (monitor only).

Each comes from exactly one source: a Secrets Manager secret in AWS (`*_SECRET_ARN`, read through Powertools
Parameters, cached 5 minutes) or a local file under `make dev` (`*_PATH`). Every failure raises
`SettingsError` naming the variable to fix and never quoting the secret: error texts of the parsers are
dropped on purpose, because they can echo the input (a bad base58 character, a JSON fragment).
"""

from __future__ import annotations

import base64
import binascii
import json
import string
from pathlib import Path

from solders.keypair import Keypair

from missout.chain.base58 import b58decode
from missout.chain.switchboard.keys import MIN_SECRET_BYTES
from missout.settings import SettingsError, SignerSettings

KEYPAIR_BYTES = 64  # ed25519 secret seed (32) followed by its public key (32), as solana-keygen writes it

_DEV_ARN = "DEV_WALLET_SECRET_ARN"
_DEV_PATH = "DEV_WALLET_KEYPAIR_PATH"
_DEV_PUBKEY = "DEV_WALLET_PUBKEY"
_RANDOMNESS_ARN = "RANDOMNESS_SECRET_ARN"
_RANDOMNESS_PATH = "RANDOMNESS_SECRET_PATH"
_HEX_DIGITS = frozenset(string.hexdigits)


def load_dev_wallet(settings: SignerSettings) -> Keypair:
    """The DEV wallet keypair (fee payer and signer of every crank).

    Refuses a key whose public key differs from DEV_WALLET_PUBKEY: pools are created naming that key as
    their dev wallet, and the monitor could sign none of their cranks."""
    variable, content = _read_one_source(
        _DEV_ARN, settings.dev_wallet_secret_arn, _DEV_PATH, settings.dev_wallet_keypair_path
    )
    keypair = _keypair_from(content, variable)
    expected = settings.dev_wallet_pubkey
    if expected is not None and str(keypair.pubkey()) != expected:
        raise SettingsError(
            f"{variable}: the key belongs to {keypair.pubkey()}, but {_DEV_PUBKEY} is {expected}; pools name "
            f"{_DEV_PUBKEY} as their dev wallet, so this key could not crank them (fix either variable)"
        )
    return keypair


def load_treasury_wallet(settings: SignerSettings) -> Keypair:
    """The treasury hot wallet that pays referral claims (its own secret, readable by the monitor only).
    Refuses a key other than TREASURY_WALLET_PUBKEY when that is set: pools pay their treasury fee there."""
    variable, content = _read_one_source(
        "TREASURY_WALLET_SECRET_ARN",
        settings.treasury_wallet_secret_arn,
        "TREASURY_WALLET_KEYPAIR_PATH",
        settings.treasury_wallet_keypair_path,
    )
    keypair = _keypair_from(content, variable)
    expected = settings.treasury_wallet_pubkey
    if expected is not None and str(keypair.pubkey()) != expected:
        raise SettingsError(
            f"{variable}: the key belongs to {keypair.pubkey()}, but TREASURY_WALLET_PUBKEY is {expected}"
        )
    return keypair


def load_randomness_secret(settings: SignerSettings) -> bytes:
    """The server secret per-pool randomness keypairs are derived from (`derive_randomness_keypair`)."""
    variable, content = _read_one_source(
        _RANDOMNESS_ARN, settings.randomness_secret_arn, _RANDOMNESS_PATH, settings.randomness_secret_path
    )
    secret = content if isinstance(content, bytes) else _secret_bytes_from_text(content, variable)
    if len(secret) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"{variable}: the secret is {len(secret)} bytes, at least {MIN_SECRET_BYTES} needed"
        )
    return secret


# -- sources --------------------------------------------------------------------------------------------


def _read_one_source(
    arn_variable: str, arn: str | None, path_variable: str, path: Path | None
) -> tuple[str, str | bytes]:
    """(the variable that was used, the secret's content). Text for a file; text or bytes for a secret."""
    if (arn is None) == (path is None):
        state = "both are set" if arn is not None else "neither is set"
        raise SettingsError(
            f"set exactly one of {arn_variable} (Secrets Manager, in AWS) or {path_variable} "
            f"(local file): {state}"
        )
    if arn is not None:
        return arn_variable, _read_secret(arn_variable, arn)
    assert path is not None  # the check above leaves exactly one
    return path_variable, _read_file(path_variable, path)


def _read_secret(variable: str, arn: str) -> str | bytes:
    # Imported here: boto3 costs ~100 ms of cold start and only AWS deployments take this path.
    from aws_lambda_powertools.utilities import parameters

    # Typed as str, but a secret stored as SecretBinary comes back as bytes.
    value: object = parameters.get_secret(arn)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, bytes) and value:
        return value
    raise SettingsError(f"{variable}: secret {arn} is empty")


def _read_file(variable: str, path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(
            f"{variable}: cannot read {path} ({exc.strerror or type(exc).__name__})"
        ) from None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SettingsError(f"{variable}: {path} is not a text file") from None
    if not text:
        raise SettingsError(f"{variable}: {path} is empty")
    return text


# -- formats --------------------------------------------------------------------------------------------


def _keypair_from(content: str | bytes, variable: str) -> Keypair:
    """Accepts what `solana-keygen` writes (a JSON array of 64 ints), a base58 string of the 64 bytes (what
    wallets export), or either inside JSON {"secret_key": ...} (a Secrets Manager key/value secret)."""
    if isinstance(content, bytes):
        raise SettingsError(f"{variable}: a binary secret is not a keypair; store it as text")
    value: object = content
    if content[:1] in ("[", "{"):
        try:
            value = json.loads(content)
        except json.JSONDecodeError:
            raise SettingsError(f"{variable}: not valid JSON") from None
    if isinstance(value, dict):
        if "secret_key" not in value:
            raise SettingsError(f"{variable}: JSON object without a 'secret_key' key")
        value = value["secret_key"]
    return _keypair_from_value(value, variable)


def _keypair_from_value(value: object, variable: str) -> Keypair:
    if isinstance(value, list):
        if not all(
            isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 255 for item in value
        ):
            raise SettingsError(f"{variable}: the key array must hold integers 0..255")
        raw = bytes(value)
    elif isinstance(value, str):
        try:
            raw = b58decode(value.strip())
        except ValueError:
            raise SettingsError(f"{variable}: the key is neither a JSON array nor base58") from None
    else:
        raise SettingsError(
            f"{variable}: the key must be a JSON array of {KEYPAIR_BYTES} ints or base58 text"
        )
    if len(raw) != KEYPAIR_BYTES:
        raise SettingsError(f"{variable}: the key is {len(raw)} bytes, a keypair is {KEYPAIR_BYTES}")
    try:
        # solders checks that the second half is the public key of the first.
        return Keypair.from_bytes(raw)
    except ValueError:
        raise SettingsError(
            f"{variable}: the public half of the key does not match its secret half"
        ) from None


def _secret_bytes_from_text(text: str, variable: str) -> bytes:
    """Hex (what `openssl rand -hex 32` prints) when the text is only hex digits, otherwise base64. A random
    base64 secret made only of hex digits is too unlikely to matter."""
    if set(text) <= _HEX_DIGITS and len(text) % 2 == 0:
        return bytes.fromhex(text)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise SettingsError(f"{variable}: the secret is neither hex nor base64 text") from None
