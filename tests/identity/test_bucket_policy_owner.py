"""Review 7c H3: Get/Put/DeleteBucketPolicy are for identities of the bucket owner's account.

S3: a caller needs the permission (else 403 AccessDenied) AND must belong to the account
owning the bucket (else 405 MethodNotAllowed), even when a bucket policy allows it: a
common ``"Principal": "*", "Action": "s3:*"`` policy must not let anyone read, rewrite or
delete the policy itself. Declared as data (``Operation.owner_account_only``) and applied
by the engine after the authorizer allowed the call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import objstore
from objstore.actions import OPERATIONS
from objstore.authz import Identity
from objstore.errors import AccessDenied, MethodNotAllowed, NoSuchBucket, NoSuchBucketPolicy
from tests.identity.helpers import allow, user_client

OTHER = "111122223333"
OPEN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::shared", "arn:aws:s3:::shared/*"],
        }
    ],
}


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    s = objstore.open(None)
    s.root.create_bucket("shared")
    s.root.put_bucket_policy("shared", json.dumps(OPEN))
    yield s
    s.close()


def _calls(client: objstore.Client) -> dict[str, Any]:
    deny_all = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::shared/*",
                }
            ],
        }
    )
    return {
        "GetBucketPolicy": lambda: client.get_bucket_policy("shared"),
        "PutBucketPolicy": lambda: client.put_bucket_policy("shared", deny_all),
        "DeleteBucketPolicy": lambda: client.delete_bucket_policy("shared"),
    }


def test_only_the_bucket_policy_calls_are_owner_account_only() -> None:
    flagged = {name for name, op in OPERATIONS.items() if op.owner_account_only}
    assert flagged == {"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"}


@pytest.mark.parametrize(
    "caller",
    [Identity.anonymous(), Identity.root(OTHER)],
    ids=["anonymous", "other-account-root"],
)
def test_callers_outside_the_owner_account_get_405_even_when_allowed(
    store: objstore.Store, caller: Identity
) -> None:
    client = store.client_for(caller)
    client.list_objects("shared")  # the policy does allow it s3:* on the bucket
    for name, call in _calls(client).items():
        with pytest.raises(MethodNotAllowed) as err:
            call()
        assert (err.value.code, err.value.http_status) == ("MethodNotAllowed", 405), name
    assert json.loads(store.root.get_bucket_policy("shared")) == OPEN
    refused = {
        e.operation: e.decision
        for e in store.root.iam.lookup_events()
        if e.principal == caller.arn and e.outcome == "MethodNotAllowed"
    }  # the writes are audited (reads are not), as refused
    if caller.kind == "anonymous":
        # Refusals of unsigned callers go only to the audit sink, never the store's log.
        assert refused == {}
    else:
        assert refused == {"PutBucketPolicy": "denied", "DeleteBucketPolicy": "denied"}


def test_not_allowed_is_403_before_405(store: objstore.Store) -> None:
    store.root.put_bucket_policy(
        "shared",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        **OPEN["Statement"][0],
                        "Action": "s3:ListBucket",
                        "Resource": "arn:aws:s3:::shared",
                    }
                ],
            }
        ),
    )
    for call in _calls(store.client_for(Identity.anonymous())).values():
        with pytest.raises(AccessDenied):
            call()


def test_identities_of_the_owner_account_with_the_permission_may(store: objstore.Store) -> None:
    # Allowed by the bucket policy's "*" alone (same account: no identity policy needed).
    user = user_client(store, "ops")
    assert json.loads(user.get_bucket_policy("shared")) == OPEN
    admin = user_client(store, "admin", allow(["s3:*BucketPolicy"], "arn:aws:s3:::shared"))
    calls = _calls(admin)
    calls["PutBucketPolicy"]()
    calls["DeleteBucketPolicy"]()
    with pytest.raises(NoSuchBucketPolicy):
        store.root.get_bucket_policy("shared")


def test_a_missing_bucket_is_still_no_such_bucket() -> None:
    store = objstore.open(None)
    try:
        for caller in (store.root, store.client_for(Identity.anonymous())):
            with pytest.raises(NoSuchBucket):
                caller.get_bucket_policy("nowhere")
    finally:
        store.close()
