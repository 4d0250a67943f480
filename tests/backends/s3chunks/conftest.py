"""An S3 endpoint for the chunk backend's tests: Ceph RGW when there is one, else moto.

Order: ``OBJSTORE_TEST_S3_ENDPOINT`` (+ ``OBJSTORE_TEST_S3_ACCESS_KEY`` /
``OBJSTORE_TEST_S3_SECRET_KEY``), then the ``rgw_service`` fixture of the
services harness (``make services``; /work/SERVICES.md), then — except with
``CI=true``, where a missing RGW fails the tests — a moto server in this process.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class S3Target:
    """Where the tests' buckets live."""

    endpoint: str
    access_key: str
    secret_key: str
    kind: str  # "rgw" or "moto"
    region: str = "us-east-1"

    def admin(self) -> Any:
        """A plain boto3 client (to make buckets and to damage objects behind the store)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                region_name=self.region,
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )


def _from_services(request: pytest.FixtureRequest) -> S3Target | None:
    """The services harness's shared radosgw; None where the harness has none (it skips
    when Ceph is not installed, and fails by itself with ``CI=true``)."""
    try:
        info = request.getfixturevalue("rgw_service")
    except pytest.FixtureLookupError:
        return None
    except pytest.skip.Exception:
        if os.environ.get("CI") == "true":
            raise
        return None
    return S3Target(
        endpoint=info.endpoint,
        access_key=info.access_key,
        secret_key=info.secret_key,
        kind="rgw",
        region=info.region,
    )


@pytest.fixture(scope="session")
def s3_target(request: pytest.FixtureRequest) -> Iterator[S3Target]:
    """The S3 endpoint of this test session."""
    endpoint = os.environ.get("OBJSTORE_TEST_S3_ENDPOINT")
    if endpoint:
        yield S3Target(
            endpoint=endpoint,
            access_key=os.environ["OBJSTORE_TEST_S3_ACCESS_KEY"],
            secret_key=os.environ["OBJSTORE_TEST_S3_SECRET_KEY"],
            kind="rgw",
        )
        return
    target = _from_services(request)
    if target is not None:
        yield target
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but no Ceph RGW: run `make services` before the tests")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Target(f"http://{host}:{port}", "testing", "testing", kind="moto")
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_target: S3Target, monkeypatch: pytest.MonkeyPatch) -> S3Target:
    """The target's credentials in the AWS environment variables (where the store reads them)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_target.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_target.secret_key)
    return s3_target


def empty_bucket(admin: Any, bucket: str) -> None:
    """Delete every object of ``bucket``, then the bucket."""
    for page in admin.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents") or ()]
        if keys:
            admin.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    admin.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_bucket(s3_env: S3Target) -> Iterator[str]:
    """A fresh, empty bucket (removed afterwards)."""
    admin = s3_env.admin()
    name = f"chunks-{uuid.uuid4().hex[:16]}"
    admin.create_bucket(Bucket=name)
    yield name
    # The server may be down after a fault test; the bucket is scratch either way.
    with contextlib.suppress(Exception):
        empty_bucket(admin, name)


@pytest.fixture
def s3_url(s3_env: S3Target, s3_bucket: str) -> str:
    """The chunk store URL of a fresh bucket (prefix ``chunks``, short retries)."""
    return (
        f"s3://{s3_bucket}/chunks?endpoint={s3_env.endpoint}&region={s3_env.region}&retry_time=10"
    )
