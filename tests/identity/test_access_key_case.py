"""Access key ids are case-sensitive (as AWS's): an id typed in another case is an unknown key.

Regression (break-it review of issue 7, F5): records are keyed by the lower-cased id, so a
lower-cased id found the record and then failed to open the secret sealed under the real
spelling: DataCorruption (HTTP 500) for a caller that had not even authenticated.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

import objstore
from objstore.errors import InvalidClientTokenId, NoSuchEntity
from objstore.testing import Server


@pytest.fixture
def store() -> objstore.Store:
    s = objstore.open(None)
    s.root.iam.create_user("u")
    s.root.create_bucket("bkt")
    return s


def _respellings(key_id: str) -> list[str]:
    return [key_id.lower(), key_id[:4] + key_id[4:].lower(), key_id.swapcase()]


def test_another_case_is_an_unknown_key_for_the_library(store: objstore.Store) -> None:
    key = store.root.iam.create_access_key("u")
    for other in _respellings(key.access_key_id):
        with pytest.raises(InvalidClientTokenId):
            store.client(other, key.secret_access_key)
        with pytest.raises(InvalidClientTokenId):
            store.identity.signing_credentials(other, None)
    # The exact spelling still works (the records stay keyed as before).
    assert store.client(key.access_key_id, key.secret_access_key).identity.name == "u"


@pytest.fixture(scope="module")
def keyed() -> tuple[objstore.Store, str, str]:
    s = objstore.open(None)
    s.root.iam.create_user("u")
    key = s.root.iam.create_access_key("u")
    return s, key.access_key_id, key.secret_access_key


@settings(max_examples=50, deadline=None)
@given(flips=st.lists(st.booleans(), min_size=20, max_size=20))
def test_every_respelling_but_the_exact_one_is_unknown(
    keyed: tuple[objstore.Store, str, str], flips: list[bool]
) -> None:
    s, key_id, secret = keyed
    spelled = "".join(c.swapcase() if f else c for c, f in zip(key_id, flips, strict=True))
    if spelled == key_id:  # digits do not change case
        assert s.client(spelled, secret).identity.name == "u"
    else:
        with pytest.raises(InvalidClientTokenId):
            s.client(spelled, secret)


def test_another_case_names_no_key_in_iam_calls(store: objstore.Store) -> None:
    iam = store.root.iam
    key = iam.create_access_key("u")
    other = key.access_key_id.lower()
    with pytest.raises(NoSuchEntity):
        iam.get_access_key_last_used(other)
    with pytest.raises(NoSuchEntity):
        iam.update_access_key("u", other, "Inactive")
    with pytest.raises(NoSuchEntity):
        iam.delete_access_key("u", other)
    assert [k.status for k in iam.list_access_keys("u")] == ["Active"]


def test_another_case_is_invalid_access_key_id_over_http(store: objstore.Store) -> None:
    key = store.root.iam.create_access_key("u")
    with Server(store) as url:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            aws_access_key_id=key.access_key_id.lower(),
            aws_secret_access_key=key.secret_access_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
        with pytest.raises(ClientError) as caught:
            s3.list_objects_v2(Bucket="bkt")
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
