"""An S3-compatible server on 127.0.0.1 for `make dev` and the tests: moto's server mode, the stand-in for
the avatar bucket (S3 itself cannot run here). It speaks the S3 REST API, presigned POST policies included,
so the API's boto3 calls are the same as in AWS; only the endpoint URL differs."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

BUCKET = "missout-avatars-local"


@dataclass
class LocalS3:
    server: Any
    url: str
    bucket: str

    def stop(self) -> None:
        self.server.stop()


def fake_credentials() -> None:
    """boto3 signs every request; the stand-in accepts any key, so give it dummy ones (never real ones)."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def start_local_s3(bucket: str = BUCKET, port: int = 0) -> LocalS3:
    """Start the server (port 0: any free one), create the bucket, return where it listens."""
    import boto3

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto's notice about optional server extras
        from moto.server import ThreadedMotoServer

    fake_credentials()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    url = f"http://{host}:{bound}"
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket=bucket)
    return LocalS3(server, url, bucket)
