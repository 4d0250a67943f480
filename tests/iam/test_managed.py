"""The shipped AWS managed policies."""

from __future__ import annotations

import pytest

from objstore.errors import NoSuchEntity
from objstore.iam import evaluate, managed_policy, managed_policy_arns

ALICE = "arn:aws:iam::111122223333:user/alice"
DANA = "arn:aws:iam::111122223333:user/ops/dana"

NAMES = [
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "IAMUserChangePassword",
]


def test_every_policy_by_name_and_arn() -> None:
    """Each policy is found by name and by ARN, as the same parsed object."""
    assert managed_policy_arns() == tuple(sorted(f"arn:aws:iam::aws:policy/{n}" for n in NAMES))
    for name in NAMES:
        policy = managed_policy(name)
        assert policy is managed_policy(f"arn:aws:iam::aws:policy/{name}")
        assert policy.name == name and policy.kind == "identity"
        assert policy.version == "2012-10-17"


@pytest.mark.parametrize(
    "name", ["AmazonS3FullAcess", "arn:aws:iam::aws:policy/Nope", "amazons3fullaccess", ""]
)
def test_unknown_policy(name: str) -> None:
    """Unknown names raise NoSuchEntity."""
    with pytest.raises(NoSuchEntity):
        managed_policy(name)


@pytest.mark.parametrize(
    ("policy", "action", "resource", "allowed"),
    [
        ("AmazonS3FullAccess", "s3:DeleteBucket", "arn:aws:s3:::b", True),
        ("AmazonS3FullAccess", "s3-object-lambda:WriteGetObjectResponse", "*", True),
        ("AmazonS3FullAccess", "iam:GetUser", "*", False),
        ("AmazonS3ReadOnlyAccess", "s3:GetObject", "arn:aws:s3:::b/k", True),
        ("AmazonS3ReadOnlyAccess", "s3:ListBucket", "arn:aws:s3:::b", True),
        ("AmazonS3ReadOnlyAccess", "s3:DescribeJob", "*", True),
        ("AmazonS3ReadOnlyAccess", "s3:PutObject", "arn:aws:s3:::b/k", False),
        ("AmazonS3ReadOnlyAccess", "s3-object-lambda:GetObject", "*", True),
        ("IAMFullAccess", "iam:CreateUser", "*", True),
        ("IAMFullAccess", "organizations:ListRoots", "*", True),
        ("IAMFullAccess", "organizations:CreateAccount", "*", False),
        ("IAMReadOnlyAccess", "iam:ListUsers", "*", True),
        ("IAMReadOnlyAccess", "iam:GenerateCredentialReport", "*", True),
        ("IAMReadOnlyAccess", "iam:SimulatePrincipalPolicy", "*", True),
        ("IAMReadOnlyAccess", "iam:CreateUser", "*", False),
        ("IAMUserChangePassword", "iam:GetAccountPasswordPolicy", "*", True),
        (
            "IAMUserChangePassword",
            "iam:ChangePassword",
            "arn:aws:iam::111122223333:user/alice",
            True,
        ),
        (
            "IAMUserChangePassword",
            "iam:ChangePassword",
            "arn:aws:iam::111122223333:user/bob",
            False,
        ),
        ("IAMUserChangePassword", "iam:DeleteUser", "arn:aws:iam::111122223333:user/alice", False),
    ],
)
def test_managed_policy_grants(policy: str, action: str, resource: str, allowed: bool) -> None:
    """Each policy grants what the reference says and nothing more."""
    decision = evaluate(ALICE, action, resource, identity_policies=[managed_policy(policy)])
    assert decision.allowed is allowed


def test_change_password_with_user_path() -> None:
    """IAMUserChangePassword covers users with a path."""
    policy = managed_policy("IAMUserChangePassword")
    assert evaluate(DANA, "iam:ChangePassword", DANA, identity_policies=[policy]).allowed
    other = "arn:aws:iam::111122223333:user/ops/erin"
    assert not evaluate(DANA, "iam:ChangePassword", other, identity_policies=[policy]).allowed
