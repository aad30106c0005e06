"""Avatars through the real handler and a local S3-compatible server on 127.0.0.1 (moto's server mode):
the signed presigned POST, an upload by plain HTTP as a browser would, the check of size and magic bytes
before the profile points at the object, and the refusals (not an image, too large, nothing uploaded)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import boto3
import httpx
import pytest
from solders.keypair import Keypair

from local_s3 import LocalS3, start_local_s3
from missout import settings
from tests.api.chain_api import Answer, invoke
from tests.people.signing import signed
from tests.support.database import TestDatabase

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
WEBP = b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 100


@pytest.fixture
def s3(people_db: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalS3]:
    local = start_local_s3("avatars-test")
    monkeypatch.setenv("API_AVATAR_BUCKET", local.bucket)
    monkeypatch.setenv("API_AVATAR_S3_ENDPOINT_URL", local.url)
    settings.clear_caches()
    try:
        yield local
    finally:
        local.stop()


def start(wallet: Keypair) -> Answer:
    return invoke(
        "POST", f"/api/profiles/{wallet.pubkey()}/avatar-upload", body=signed(wallet, "avatar_upload")
    )


def upload(answer: Answer, content: bytes, content_type: str) -> int:
    fields = {**answer.body["fields"], "Content-Type": content_type}
    reply = httpx.post(answer.body["url"], data=fields, files={"file": ("avatar", content, content_type)})
    return reply.status_code


def confirm(wallet: Keypair, upload_id: str) -> Answer:
    return invoke("POST", f"/api/profiles/{wallet.pubkey()}/avatar", body={"upload_id": upload_id})


@pytest.mark.parametrize(
    "content", [PNG, WEBP, b"\xff\xd8\xff\xe0" + b"\0" * 50], ids=["png", "webp", "jpeg"]
)
def test_an_uploaded_image_becomes_the_avatar_after_the_check(s3: LocalS3, content: bytes) -> None:
    wallet = Keypair()
    answer = start(wallet)
    assert answer.status == 200, answer.body
    assert answer.body["max_bytes"] == 1_048_576
    assert upload(answer, content, "image/png") in (200, 201, 204)
    assert invoke("GET", f"/api/profiles/{wallet.pubkey()}").body["has_uploaded_avatar"] is False
    done = confirm(wallet, answer.body["upload_id"])
    assert done.status == 200, done.body
    assert done.body["has_uploaded_avatar"] is True
    image = httpx.get(done.body["avatar_url"])  # a presigned GET of the private object
    assert image.status_code == 200
    assert image.content == content
    kept = boto3.client("s3", endpoint_url=s3.url).list_objects_v2(
        Bucket=s3.bucket, Prefix=f"avatars/{wallet.pubkey()}/"
    )
    assert kept["KeyCount"] == 1  # moved out of uploads/, where the lifecycle rule expires what is left


def test_a_non_image_is_refused_and_deleted(s3: LocalS3) -> None:
    wallet = Keypair()
    answer = start(wallet)
    assert upload(answer, b"<svg onload=alert(1)>", "image/svg+xml") in (200, 201, 204)
    refused = confirm(wallet, answer.body["upload_id"])
    assert refused.status == 422
    assert refused.problem()["reason"] == "not_an_image"
    listed = boto3.client("s3", endpoint_url=s3.url).list_objects_v2(
        Bucket=s3.bucket, Prefix=f"uploads/{wallet.pubkey()}/"
    )
    assert listed.get("KeyCount", 0) == 0
    assert invoke("GET", f"/api/profiles/{wallet.pubkey()}").body["has_uploaded_avatar"] is False


def test_an_oversized_upload_is_refused_by_the_check(s3: LocalS3) -> None:
    wallet = Keypair()
    answer = start(wallet)
    # Real S3 refuses this POST by the policy's content-length-range; moto does not enforce policies, which
    # makes it the right place to show the API's own check refusing what got into the bucket anyway.
    assert upload(answer, PNG + b"\0" * 1_048_576, "image/png") in (200, 201, 204)
    refused = confirm(wallet, answer.body["upload_id"])
    assert refused.status == 422
    assert refused.problem()["reason"] == "too_large"
    assert invoke("GET", f"/api/profiles/{wallet.pubkey()}").body["has_uploaded_avatar"] is False


def test_the_presigned_policy_limits_size_type_and_key(s3: LocalS3) -> None:
    wallet = Keypair()
    answer = start(wallet)
    policy = json.loads(base64.b64decode(answer.body["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 1_048_576] in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    assert {"key": answer.body["fields"]["key"]} in conditions
    assert answer.body["fields"]["key"] == f"uploads/{wallet.pubkey()}/{answer.body['upload_id']}"


def test_confirming_before_uploading_or_with_an_unknown_id_is_refused(s3: LocalS3) -> None:
    wallet = Keypair()
    answer = start(wallet)
    nothing = confirm(wallet, answer.body["upload_id"])
    assert nothing.status == 422
    assert nothing.problem()["reason"] == "not_uploaded"
    unknown = confirm(Keypair(), answer.body["upload_id"])  # another wallet cannot use this upload id
    assert unknown.status == 404
    assert unknown.problem()["reason"] == "unknown_upload"


def test_an_upload_request_signed_by_another_wallet_is_401(s3: LocalS3) -> None:
    owner, thief = Keypair(), Keypair()
    answer = invoke(
        "POST", f"/api/profiles/{owner.pubkey()}/avatar-upload", body=signed(thief, "avatar_upload")
    )
    assert answer.status == 401
