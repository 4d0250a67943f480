"""``iam:PermissionsBoundary`` on calls that change a user's or role's policies is the
boundary it has now, as AWS supplies it, so AWS's documented delegation policy
(CreateOrChangeOnlyWithBoundary) lets an administrator manage the users it created.

Regression (review rev11a L2): the key was supplied only to Create{User,Role} and
Put{User,Role}PermissionsBoundary (the new boundary), so that policy could create bounded
users and never give them a policy, and a Deny conditioned on the key never applied to
the other calls.
"""

from __future__ import annotations

import json

import pytest

import objstore
from objstore.errors import AccessDenied
from tests.identity.helpers import allow, deny, user_client

READ_ONLY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
})  # fmt: skip


def test_the_documented_delegation_policy_manages_bounded_users() -> None:
    with objstore.open(None) as store:
        iam = store.root.iam
        boundary = iam.create_policy("Boundary", READ_ONLY).arn
        managed = iam.create_policy("Extra", READ_ONLY).arn
        iam.create_user("unbounded")
        iam.create_role("bounded-role", json.dumps({"Version": "2012-10-17", "Statement": []}))
        iam.put_role_permissions_boundary("bounded-role", boundary)
        with_boundary = {"StringEquals": {"iam:PermissionsBoundary": boundary}}
        admin = user_client(
            store,
            "deleg",
            allow(
                [
                    "iam:CreateUser",
                    "iam:PutUserPolicy",
                    "iam:DeleteUserPolicy",
                    "iam:AttachUserPolicy",
                    "iam:DetachUserPolicy",
                    "iam:PutRolePolicy",
                ],
                Condition=with_boundary,
            ),
            deny(
                ["iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"],
                Condition=with_boundary,
            ),
            allow(["iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"]),
        )
        admin.iam.create_user("bounded", permissions_boundary=boundary)
        admin.iam.put_user_policy("bounded", "p", READ_ONLY)
        admin.iam.attach_user_policy("bounded", managed)
        admin.iam.detach_user_policy("bounded", managed)
        admin.iam.delete_user_policy("bounded", "p")
        admin.iam.put_role_policy("bounded-role", "p", READ_ONLY)
        # Users without that boundary stay out of reach ...
        with pytest.raises(AccessDenied):
            admin.iam.put_user_policy("unbounded", "p", READ_ONLY)
        with pytest.raises(AccessDenied):
            admin.iam.attach_user_policy("unbounded", managed)
        # ... and the Deny written on the boundary applies to removing it.
        with pytest.raises(AccessDenied):
            admin.iam.delete_user_permissions_boundary("bounded")
        with pytest.raises(AccessDenied):
            admin.iam.delete_role_permissions_boundary("bounded-role")
        assert iam.get_user("bounded").permissions_boundary == boundary
        iam.put_user_permissions_boundary("unbounded", managed)  # another boundary
        admin.iam.delete_user_permissions_boundary("unbounded")  # the Deny does not apply
        assert iam.get_user("unbounded").permissions_boundary is None
