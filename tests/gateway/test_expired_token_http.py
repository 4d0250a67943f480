"""Expired session credentials over HTTP: S3's REST API answers 400 ExpiredToken (as S3
documents it), IAM and STS answer ExpiredToken with 403 (as AWS's Query APIs do)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import objstore
from objstore.testing import Server

ALLOW_ALL = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
)


class Expired:
    """A served store and session credentials that expired 100 s ago."""

    def __init__(self, url: str, creds: Any) -> None:
        self.url = url
        self.creds = creds

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            aws_access_key_id=self.creds.access_key_id,
            aws_secret_access_key=self.creds.secret_access_key,
            aws_session_token=self.creds.session_token,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )


@pytest.fixture
def expired() -> Iterator[Expired]:
    now = [time.time_ns() - 1000 * 10**9]
    store = objstore.open(None, clock=lambda: now[0])
    try:
        store.root.create_bucket("bkt")
        store.root.put_object("bkt", "k", b"data")
        iam = store.root.iam
        iam.create_user("alice")
        iam.put_user_policy("alice", "all", ALLOW_ALL)
        key = iam.create_access_key("alice")
        alice = store.client(key.access_key_id, key.secret_access_key)
        # Issued 1000 s ago for 900 s; the store's clock is then the real one again.
        creds = alice.sts.get_session_token(duration_seconds=900)
        now[0] = time.time_ns()
        with Server(store) as url:
            yield Expired(url, creds)
    finally:
        store.close()


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    response = exc.value.response
    return int(response["ResponseMetadata"]["HTTPStatusCode"]), str(response["Error"]["Code"])


def test_s3_answers_expired_token_with_400(expired: Expired) -> None:
    s3 = expired.client("s3")
    for call, kwargs in (
        (s3.get_object, {"Bucket": "bkt", "Key": "k"}),
        (s3.put_object, {"Bucket": "bkt", "Key": "k2", "Body": b"x"}),
        (s3.list_objects_v2, {"Bucket": "bkt"}),
        (s3.list_buckets, {}),
    ):
        with pytest.raises(ClientError) as err:
            call(**kwargs)
        assert _error(err) == (400, "ExpiredToken"), call
    # HEAD: the same status, without a body.
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="bkt", Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_iam_and_sts_answer_expired_token_with_403(expired: Expired) -> None:
    with pytest.raises(ClientError) as err:
        expired.client("sts").get_caller_identity()
    assert _error(err) == (403, "ExpiredToken")
    with pytest.raises(ClientError) as err:
        expired.client("iam").list_users()
    assert _error(err) == (403, "ExpiredToken")


def test_s3_status_of_codes_shared_with_query() -> None:
    """Only the codes S3 answers differently are remapped; the class keeps IAM's status."""
    from objstore.errors import AccessDenied, ExpiredToken, NoSuchKey
    from objstore.gateway.errors import s3_status

    assert ExpiredToken.http_status == 403
    assert s3_status(ExpiredToken("expired")) == 400
    assert s3_status(AccessDenied("no")) == 403
    assert s3_status(NoSuchKey("gone")) == 404
