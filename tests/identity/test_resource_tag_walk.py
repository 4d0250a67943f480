"""Review 7c: every IAM/STS call whose resource is a user or role sees that entity's tags.

GetAccessKeyLastUsed (resource: the key's user) and SimulatePrincipalPolicy (the user or role
simulated) were declared through other resource kinds and got no ``aws:ResourceTag/*`` /
``iam:ResourceTag/*``, so ``Deny iam:* if iam:ResourceTag/protected=true`` did not hold for
them. The walk below resolves every permission of the table against a protected user and
role and requires the tag keys wherever the resource turns out to be one of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import objstore
from objstore.actions import OPERATIONS
from objstore.authz import Identity
from objstore.engine import RESOURCE_TAG_PREFIXES
from objstore.errors import AccessDenied
from tests.identity.helpers import allow, deny, policy, user_client

PROTECTED = {"protected": "true"}
TRUST = policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    s = objstore.open(None)
    yield s
    s.close()


def test_every_permission_on_a_user_or_role_reads_its_tags(store: objstore.Store) -> None:
    iam = store.root.iam
    ceo = iam.create_user("ceo", tags=PROTECTED)
    key = iam.create_access_key("ceo")
    boss = iam.create_role("boss", TRUST, tags=PROTECTED)
    targets = {ceo.arn, boss.arn}
    # Any parameter may be given any of these: whatever a permission makes of it, if its
    # resource is the protected user or role, the request must carry the entity's tags.
    pool = ["ceo", "boss", key.access_key_id, ceo.arn, boss.arn]
    caller = Identity(ceo.arn, store.account_id, "user", "ceo", ceo.user_id)
    engine = store.engine
    hits: set[str] = set()
    for op in OPERATIONS.values():
        if op.target != "identity" or op.per_item:
            continue
        for perm in op.permissions:
            for value in pool:
                params = {"bucket": "b"}
                if perm.name_param:
                    params[perm.name_param] = value
                if perm.renames:
                    params[perm.renames] = "ceo"
                req = engine._request(caller, op, perm, params)
                if req.resource not in targets:
                    continue
                hits.add(op.name)
                loaded = {prefix: load() for prefix, load in req.deferred}
                for prefix in RESOURCE_TAG_PREFIXES:
                    assert loaded.get(prefix) == {f"{prefix}protected": "true"}, (op.name, value)
    # The walk reached the calls of the review and the entity calls around them.
    assert {"GetAccessKeyLastUsed", "SimulatePrincipalPolicy", "AssumeRole", "GetUser"} <= hits
    assert {"GetRole", "ListAccessKeys", "TagUser", "UpdateUser", "ChangePassword"} <= hits


def test_a_deny_on_the_resource_tag_holds_for_key_last_used_and_the_simulator(
    store: objstore.Store,
) -> None:
    iam = store.root.iam
    ceo = iam.create_user("ceo", tags=PROTECTED)
    ceo_key = iam.create_access_key("ceo")
    boss = iam.create_role("boss", TRUST, tags=PROTECTED)
    plain = iam.create_user("plain")
    plain_key = iam.create_access_key("plain")
    helpdesk = user_client(
        store,
        "helpdesk",
        allow("iam:*"),
        deny("iam:*", Condition={"StringEquals": {"iam:ResourceTag/protected": "true"}}),
    )
    with pytest.raises(AccessDenied):
        helpdesk.iam.get_access_key_last_used(ceo_key.access_key_id)
    for arn in (ceo.arn, boss.arn):
        with pytest.raises(AccessDenied):
            helpdesk.iam.simulate_principal_policy(arn, ["s3:GetObject"])
    # The same calls on an untagged user are allowed.
    assert helpdesk.iam.get_access_key_last_used(plain_key.access_key_id) is not None
    assert helpdesk.iam.simulate_principal_policy(plain.arn, ["s3:GetObject"])
