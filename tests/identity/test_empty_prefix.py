"""``s3:prefix`` is "" for a listing of the bucket's root, as AWS's documented home-folder
policy expects (``"s3:prefix": ["", "home/"]``).

Regression (review rev11a L1): empty condition values were left out of the request
context, so that policy refused the root listing it was written to allow.
"""

from __future__ import annotations

import pytest

import objstore
from objstore.errors import AccessDenied
from tests.identity.helpers import allow, deny, user_client


def test_the_documented_home_folder_policy_lists_the_root() -> None:
    with objstore.open(None) as store:
        store.root.create_bucket("bkt")
        for key in ("home/alice/a", "home/bob/b", "top"):
            store.root.put_object("bkt", key, b"")
        alice = user_client(
            store,
            "alice",
            allow(
                "s3:ListBucket",
                "arn:aws:s3:::bkt",
                Condition={"StringEquals": {"s3:prefix": ["", "home/"], "s3:delimiter": "/"}},
            ),
        )
        root = alice.list_objects("bkt", delimiter="/")
        assert [p for p in root.common_prefixes] == ["home/"]
        assert [o.key for o in root.contents] == ["top"]
        assert alice.list_objects("bkt", prefix="home/", delimiter="/").common_prefixes
        with pytest.raises(AccessDenied):
            alice.list_objects("bkt", prefix="home/bob/", delimiter="/")
        with pytest.raises(AccessDenied):
            alice.list_objects("bkt")  # no delimiter
        # A Deny written on the empty prefix applies too.
        bob = user_client(
            store,
            "bob",
            allow("s3:ListBucket", "arn:aws:s3:::bkt"),
            deny(
                "s3:ListBucket", "arn:aws:s3:::bkt", Condition={"StringEquals": {"s3:prefix": ""}}
            ),
        )
        with pytest.raises(AccessDenied):
            bob.list_objects("bkt")
        assert [o.key for o in bob.list_objects("bkt", prefix="t").contents] == ["top"]
