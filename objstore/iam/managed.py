"""The AWS managed policies users expect to find, addressable by ARN or name.

The documents carry the permissions the house reference lists for each policy, written
here as data. They are parsed once, on first use, as identity policies named after the
managed policy (so simulator results report e.g. ``AmazonS3ReadOnlyAccess``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from objstore.errors import NoSuchEntity
from objstore.iam.policy import Policy

__all__ = ["MANAGED_POLICY_PREFIX", "managed_policy", "managed_policy_arns"]

MANAGED_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


def _allow(
    actions: list[str], resources: list[str] | str = "*", sid: str | None = None
) -> dict[str, object]:
    statement: dict[str, object] = {}
    if sid is not None:
        statement["Sid"] = sid
    statement.update({"Effect": "Allow", "Action": actions, "Resource": resources})
    return statement


_DOCUMENTS: Mapping[str, list[dict[str, object]]] = MappingProxyType(
    {
        "AmazonS3FullAccess": [_allow(["s3:*", "s3-object-lambda:*"])],
        "AmazonS3ReadOnlyAccess": [
            _allow(
                [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ]
            )
        ],
        "IAMFullAccess": [
            _allow(["iam:*"], sid="IAMFull"),
            # Reading the organization lets the console show where accounts sit.
            _allow(
                [
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPolicies",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListTargetsForPolicy",
                ],
                sid="OrganizationsRead",
            ),
        ],
        "IAMReadOnlyAccess": [
            _allow(
                [
                    "iam:GenerateCredentialReport",
                    "iam:GenerateServiceLastAccessedDetails",
                    "iam:Get*",
                    "iam:List*",
                    "iam:SimulateCustomPolicy",
                    "iam:SimulatePrincipalPolicy",
                ]
            )
        ],
        "IAMUserChangePassword": [
            _allow(
                ["iam:ChangePassword"],
                [
                    "arn:aws:iam::*:user/${aws:username}",
                    "arn:aws:iam::*:user/*/${aws:username}",
                ],
            ),
            _allow(["iam:GetAccountPasswordPolicy"]),
        ],
    }
)


def managed_policy_arns() -> tuple[str, ...]:
    """The ARNs of every managed policy shipped, sorted."""
    return tuple(sorted(MANAGED_POLICY_PREFIX + name for name in _DOCUMENTS))


@cache
def _load(name: str) -> Policy:
    text = json.dumps({"Version": "2012-10-17", "Statement": _DOCUMENTS[name]}, indent=4)
    return Policy.from_json(text, kind="identity", name=name)


def managed_policy(arn_or_name: str) -> Policy:
    """The AWS managed policy with this ARN (``arn:aws:iam::aws:policy/NAME``) or NAME.

    Raises NoSuchEntity when objstore does not ship a policy of that name.
    """
    name = arn_or_name
    if isinstance(name, str) and name.startswith(MANAGED_POLICY_PREFIX):
        name = name[len(MANAGED_POLICY_PREFIX) :]
    if not isinstance(name, str) or name not in _DOCUMENTS:
        raise NoSuchEntity(
            f"Policy {arn_or_name!r} does not exist or is not attachable.",
            policy=arn_or_name,
        )
    return _load(name)
