"""The benchmark's S3 target: any S3 endpoint (this gateway, MinIO, moto, AWS) via boto3.

boto3 is imported only here, when ``objstore bench --endpoint`` is used: it is not a
dependency of the store itself (``pip install 'objstore[bench]'`` brings it). One boto3
client is shared by the phase's threads (boto3 clients are thread-safe) with a connection
pool as large as the concurrency. Addressing is path-style, which every S3-compatible
server accepts (virtual hosts need DNS for each bucket).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from objstore.benchtool.target import ReadableBody
from objstore.errors import InvalidArgument

__all__ = ["S3Target", "connect"]

_PIECE = 1 << 20  # GET bodies are read in pieces of this size


def _boto3() -> Any:
    try:
        import boto3  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise InvalidArgument(
            "--endpoint needs boto3: pip install 'objstore[bench]' (or boto3)"
        ) from None
    return boto3


class S3Target:
    """An S3 endpoint through one boto3 client."""

    def __init__(self, client: Any, endpoint: str) -> None:
        self._s3 = client
        self._endpoint = endpoint

    @property
    def location(self) -> str:
        return self._endpoint

    @property
    def directory(self) -> str | None:
        return None

    def create_bucket(self, bucket: str) -> None:
        region = self._s3.meta.region_name
        if region and region != "us-east-1":  # us-east-1 refuses an explicit constraint
            self._s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
        else:
            self._s3.create_bucket(Bucket=bucket)

    def put_object(self, bucket: str, key: str, body: ReadableBody, size: int) -> None:
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentLength=size)

    def get_object(self, bucket: str, key: str) -> AbstractContextManager[Iterable[bytes]]:
        return self._pieces(bucket, key)

    @contextlib.contextmanager
    def _pieces(self, bucket: str, key: str) -> Iterator[Iterable[bytes]]:
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield body.iter_chunks(_PIECE)
        finally:
            body.close()

    def create_multipart_upload(self, bucket: str, key: str) -> str:
        upload_id: str = self._s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        return upload_id

    def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, body: ReadableBody, size: int
    ) -> tuple[int, str]:
        answer = self._s3.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ContentLength=size,
        )
        return number, str(answer["ETag"])

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        self._s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
        )

    def clean_up(self, bucket: str) -> None:
        """Aborts the uploads, deletes every object (and version) and the bucket."""
        s3 = self._s3
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
        # The bucket is the run's own and never versioned: a plain listing sees everything.
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)


def connect(
    endpoint: str,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
    concurrency: int = 8,
) -> S3Target:
    """A target for ``endpoint`` (``http(s)://host:port``). Credentials and region not
    given come from boto3's usual sources (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
    ``AWS_PROFILE``, ``~/.aws``); the region defaults to us-east-1.

    Raises InvalidArgument without boto3, for a malformed URL, for half a key pair or
    when no credentials can be found."""
    boto3 = _boto3()
    from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]

    if not endpoint.startswith(("http://", "https://")):
        raise InvalidArgument(f"endpoint {endpoint!r}: expected http://host[:port] or https://…")
    if (access_key is None) != (secret_key is None):
        raise InvalidArgument("give both --access-key and --secret-key, or neither")
    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
    )
    if session.get_credentials() is None:
        raise InvalidArgument(
            "no credentials: give --access-key and --secret-key, or set AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
        )
    config = Config(
        s3={"addressing_style": "path"},
        max_pool_connections=max(10, concurrency),
        # A failed request should show in the figures, not be hidden by retries.
        retries={"mode": "standard", "max_attempts": 1},
    )
    client = session.client(
        "s3",
        endpoint_url=endpoint,
        region_name=session.region_name or "us-east-1",
        config=config,
    )
    return S3Target(client, endpoint)
