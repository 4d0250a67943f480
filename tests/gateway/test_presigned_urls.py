"""The library's presigned URLs (Client.generate_presigned_url), used over HTTP against
the gateway: as the key's holder may, no more, until they expire."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import objstore
from objstore.errors import (
    InvalidArgument,
    InvalidBucketName,
    InvalidClientTokenId,
    InvalidRequest,
)
from objstore.testing import Server


def _send(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_presigned_urls_do_what_they_name_as_their_key_may(tmp_path: Path) -> None:
    with objstore.open(tmp_path / "s") as store:
        root = store.root
        root.create_bucket("pre")
        root.put_bucket_versioning("pre", "Enabled")
        first = root.put_object("pre", "dir/a b+c", b"one")
        root.put_object("pre", "dir/a b+c", b"two")
        root.iam.create_user("reader")
        root.iam.put_user_policy(
            "reader",
            "read",
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::pre/*"}]}',
        )
        key = root.iam.create_access_key(user_name="reader")
        reader = store.client(key.access_key_id, key.secret_access_key)
        with Server(store) as url:
            get = reader.generate_presigned_url("GET", "pre", "dir/a b+c", endpoint_url=url)
            assert parse_qs(urlsplit(get).query)["X-Amz-Expires"] == ["3600"]
            assert _send(get) == (200, b"two")
            assert first.version_id is not None
            old = reader.generate_presigned_url(
                "GET", "pre", "dir/a b+c", version_id=first.version_id, endpoint_url=url
            )
            assert _send(old) == (200, b"one")
            # Made freely, refused when used: the reader may not write.
            put = reader.generate_presigned_url("PUT", "pre", "new", endpoint_url=url)
            status, body = _send(put, "PUT", b"x")
            assert status == 403 and b"AccessDenied" in body
            # Another key, tampered: refused.
            assert _send(get.replace("dir/a", "dir/A"))[0] == 403
            # Expired.
            short = reader.generate_presigned_url(
                "GET", "pre", "dir/a b+c", expires_in=1, endpoint_url=url
            )
            time.sleep(2.1)
            status, body = _send(short)
            assert status == 403 and b"Request has expired" in body
        # The key deleted: no more URLs from this client.
        root.iam.delete_access_key("reader", key.access_key_id)
        with pytest.raises(InvalidClientTokenId):
            reader.generate_presigned_url("GET", "pre", "dir/a b+c")


def test_presigning_refuses_what_it_cannot_sign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with objstore.open(tmp_path / "s") as store:
        with pytest.raises(InvalidRequest, match="access key"):
            store.root.generate_presigned_url("GET", "bkt", "k")
        key = store.root.iam.create_access_key()
        c = store.client(key.access_key_id, key.secret_access_key)
        bad_calls: list[tuple[dict[str, Any], type[Exception]]] = [
            ({"method": "POST"}, InvalidArgument),
            ({"expires_in": 0}, InvalidArgument),
            ({"expires_in": 604_801}, InvalidArgument),
            ({"endpoint_url": "ftp://host"}, InvalidArgument),
            ({"bucket": "Bad_Bucket"}, InvalidBucketName),
            ({"key": ""}, InvalidArgument),
            # Review rev11b F2: raw TypeError / AttributeError, or URLs always refused.
            ({"method": ["GET"]}, InvalidArgument),
            ({"expires_in": "3600"}, InvalidArgument),
            ({"expires_in": None}, InvalidArgument),
            ({"expires_in": 1.5}, InvalidArgument),
            ({"region": None}, InvalidArgument),
            ({"region": ""}, InvalidArgument),
            ({"region": "us-east-1/x"}, InvalidArgument),
            ({"version_id": ""}, InvalidArgument),
            ({"version_id": 123}, InvalidArgument),
            ({"version_id": "v 1"}, InvalidArgument),
            ({"endpoint_url": "http://h:1/prefix"}, InvalidArgument),  # bucket "prefix"
            ({"endpoint_url": "http://user:pw@h:1"}, InvalidArgument),
            ({"endpoint_url": "http://h:1\r\nX: y"}, InvalidArgument),
            ({"endpoint_url": "http://h:port"}, InvalidArgument),
        ]
        for bad, error in bad_calls:
            args: dict[str, Any] = {"method": "GET", "bucket": "bkt", "key": "k", **bad}
            with pytest.raises(error):
                c.generate_presigned_url(
                    args.pop("method"), args.pop("bucket"), args.pop("key"), **args
                )
        monkeypatch.setenv("AWS_ENDPOINT_URL", "https://s3.example:8443/")
        assert c.generate_presigned_url("GET", "bkt", "k").startswith(
            "https://s3.example:8443/bkt/k?"
        )
        assert c.generate_presigned_url("GET", "bkt", "k", version_id="null").startswith(
            "https://s3.example:8443/bkt/k?versionId=null&"
        )
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        assert c.generate_presigned_url("HEAD", "bkt", "k").startswith(
            "http://127.0.0.1:9000/bkt/k?"
        )


def test_the_asyncio_twin_presigns_too(tmp_path: Path) -> None:
    async def main() -> str:
        async with objstore.aio.open(tmp_path / "s") as astore:
            key = await astore.root.iam.create_access_key()
            c = await astore.client(key.access_key_id, key.secret_access_key)
            return await c.generate_presigned_url("GET", "bkt", "k", endpoint_url="http://h:1")

    assert asyncio.run(main()).startswith("http://h:1/bkt/k?X-Amz-Algorithm=AWS4-HMAC-SHA256")
