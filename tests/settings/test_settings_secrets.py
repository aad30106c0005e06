"""The pooled URL read from Secrets Manager through Powertools Parameters (moto stands in for AWS)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from missout.settings import DatabaseSettings, SettingsError

URL = "postgresql+pg8000://app:pw@pooler.internal:6543/missout"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # any real AWS call would fail loudly
    with mock_aws():
        parameters.clear_caches()  # type: ignore[no-untyped-call]
        yield boto3.client("secretsmanager", region_name="eu-central-1")
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def _arn(client: object, name: str, value: str) -> str:
    created = client.create_secret(Name=name, SecretString=value)  # type: ignore[attr-defined]
    return str(created["ARN"])


def test_plain_secret_is_the_url(secrets: object) -> None:
    arn = _arn(secrets, "missout/dev/database-url", URL)
    assert DatabaseSettings(url_secret_arn=arn).resolved_url() == URL


def test_json_secret_url_key(secrets: object) -> None:
    arn = _arn(secrets, "missout/dev/database-json", json.dumps({"url": URL, "note": "rotated"}))
    assert DatabaseSettings(url_secret_arn=arn).resolved_url() == URL


def test_json_secret_without_url_names_the_variable(secrets: object) -> None:
    arn = _arn(secrets, "missout/dev/database-bad", json.dumps({"host": "x"}))
    with pytest.raises(SettingsError, match="DATABASE_URL_SECRET_ARN"):
        DatabaseSettings(url_secret_arn=arn).resolved_url()


def test_explicit_url_wins_and_never_calls_aws() -> None:
    assert (
        DatabaseSettings(url=URL, url_secret_arn="arn:aws:secretsmanager:x:1:secret:y").resolved_url() == URL
    )
