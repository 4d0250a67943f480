"""Review 7c H3 over HTTP: a bucket policy granting ``s3:*`` to ``"*"`` (from the office
network) does not let unsigned callers read, rewrite or delete the policy: 405
MethodNotAllowed, as S3 answers a caller outside the bucket owner's account."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

import objstore
from objstore.testing import Server

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OfficeOnly",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::shared", "arn:aws:s3:::shared/*"],
            "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
        }
    ],
}
DENY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::shared/*"}
    ],
}


def test_unsigned_callers_get_405_for_the_bucket_policy_calls() -> None:
    store = objstore.open(None)
    try:
        store.root.create_bucket("shared")
        store.root.put_bucket_policy("shared", json.dumps(POLICY))
        with Server(store) as url:
            anon = boto3.client(
                "s3",
                endpoint_url=url,
                region_name="us-east-1",
                config=Config(signature_version=UNSIGNED),
            )
            anon.put_object(Bucket="shared", Key="k", Body=b"v")  # the policy allows it
            for call in (
                lambda: anon.get_bucket_policy(Bucket="shared"),
                lambda: anon.put_bucket_policy(Bucket="shared", Policy=json.dumps(DENY)),
                lambda: anon.delete_bucket_policy(Bucket="shared"),
            ):
                with pytest.raises(ClientError) as err:
                    call()
                response = err.value.response
                assert response["Error"]["Code"] == "MethodNotAllowed"
                assert response["ResponseMetadata"]["HTTPStatusCode"] == 405
        assert json.loads(store.root.get_bucket_policy("shared")) == POLICY
    finally:
        store.close()
