"""Avatars in S3: a presigned POST for one upload (PNG, JPEG or WebP, at most 1 MiB, enforced by the
policy), and the check that makes the profile point at the object: its size and its first bytes (the
magic numbers), read back by the API. The profile never points at an object it has not checked.

boto3 is imported inside the functions: it costs ~100 ms of cold start and only these routes need it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from missout.db.tables import avatar_uploads, profiles
from missout.refusals import Refused
from missout.settings import api_settings

UPLOAD_TTL = timedelta(minutes=10)
READ_URL_TTL_S = 3_600
CONTENT_TYPES = ("image/png", "image/jpeg", "image/webp")
UPLOAD_PREFIX = "uploads/"  # expired by the bucket's lifecycle rule after a day: abandoned uploads go away
AVATAR_PREFIX = "avatars/"  # checked images, kept


class AvatarRefused(Refused):
    """`reason`: not_uploaded, too_large, not_an_image, unknown_upload, bucket_unset."""


@dataclass(frozen=True, slots=True)
class PresignedUpload:
    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


def image_type(head: bytes) -> str | None:
    """The image type its magic bytes say, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _client() -> Any:
    import boto3  # lazy: see the module docstring

    s = api_settings()
    return boto3.client("s3", endpoint_url=s.avatar_s3_endpoint_url)


def _bucket() -> str:
    bucket = api_settings().avatar_bucket
    if not bucket:
        raise AvatarRefused("bucket_unset", "avatar uploads are not configured (API_AVATAR_BUCKET)")
    return bucket


def start_upload(conn: Connection, wallet: str) -> PresignedUpload:
    bucket = _bucket()
    max_bytes = api_settings().avatar_max_bytes
    upload_id = secrets.token_hex(16)
    key = f"{UPLOAD_PREFIX}{wallet}/{upload_id}"
    expires_at = conn.execute(
        insert(avatar_uploads)
        .values(upload_id=upload_id, wallet=wallet, object_key=key, expires_at=func.now() + UPLOAD_TTL)
        .returning(avatar_uploads.c.expires_at)
    ).scalar_one()
    post = _client().generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Conditions=[
            ["content-length-range", 1, max_bytes],
            ["starts-with", "$Content-Type", "image/"],
        ],
        ExpiresIn=int(UPLOAD_TTL.total_seconds()),
    )
    return PresignedUpload(upload_id, post["url"], dict(post["fields"]), expires_at, max_bytes)


def confirm_upload(conn: Connection, wallet: str, upload_id: str) -> str:
    """Check the uploaded object and point the profile at it; returns the object key."""
    row = conn.execute(
        select(avatar_uploads.c.object_key)
        .where(
            avatar_uploads.c.upload_id == upload_id,
            avatar_uploads.c.wallet == wallet,
            avatar_uploads.c.confirmed_at.is_(None),
        )
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise AvatarRefused("unknown_upload", f"no open upload {upload_id} for {wallet}")
    key = str(row.object_key)
    s3 = _client()
    bucket = _bucket()
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        raise AvatarRefused("not_uploaded", "nothing was uploaded for this upload id") from None
    size = int(head["ContentLength"])
    if size > api_settings().avatar_max_bytes:
        s3.delete_object(Bucket=bucket, Key=key)
        raise AvatarRefused(
            "too_large", f"the image is {size} bytes; at most {api_settings().avatar_max_bytes}"
        )
    first = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-15")["Body"].read()
    if image_type(first) is None:
        s3.delete_object(Bucket=bucket, Key=key)
        raise AvatarRefused("not_an_image", "the object is not a PNG, JPEG or WebP image")
    # Checked: keep it out of reach of the abandoned-uploads rule.
    kept = f"{AVATAR_PREFIX}{wallet}/{upload_id}"
    s3.copy_object(Bucket=bucket, Key=kept, CopySource={"Bucket": bucket, "Key": key})
    s3.delete_object(Bucket=bucket, Key=key)
    conn.execute(
        update(avatar_uploads).where(avatar_uploads.c.upload_id == upload_id).values(confirmed_at=func.now())
    )
    conn.execute(
        pg_insert(profiles)
        .values(wallet=wallet, avatar_url=kept)
        .on_conflict_do_update(index_elements=["wallet"], set_={"avatar_url": kept, "updated_at": func.now()})
    )
    return kept


def avatar_read_url(key: str) -> str:
    """A presigned GET of a checked avatar (the bucket is private)."""
    url: object = _client().generate_presigned_url(
        "get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=READ_URL_TTL_S
    )
    return str(url)
