"""The shape of a conformance case, and small builders for policy documents.

Builders return plain JSON-ready dicts: the tests serialise them with
``json.dumps`` so the engine always receives policy *text*, as a caller would.
A case may also carry raw JSON text where the exact text matters (for example a
document without a ``Version``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any] | str
"""A policy document: a JSON-ready dict, or the raw JSON text."""

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"

# Two accounts: A owns the principals below, B is "another account".
ACCOUNT_A = "111122223333"
ACCOUNT_B = "444455556666"

ROOT_A = f"arn:aws:iam::{ACCOUNT_A}:root"
ROOT_B = f"arn:aws:iam::{ACCOUNT_B}:root"
ALICE = f"arn:aws:iam::{ACCOUNT_A}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT_A}:user/bob"
PATHED_USER = f"arn:aws:iam::{ACCOUNT_A}:user/division/team/dana"
DAVE_B = f"arn:aws:iam::{ACCOUNT_B}:user/dave"
ALICE_B = f"arn:aws:iam::{ACCOUNT_B}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT_A}:role/Reader"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT_A}:role/Writer"
SESSION = f"arn:aws:sts::{ACCOUNT_A}:assumed-role/Reader/sess1"
OTHER_SESSION = f"arn:aws:sts::{ACCOUNT_A}:assumed-role/Reader/sess2"
FEDERATED = f"arn:aws:sts::{ACCOUNT_A}:federated-user/carol"
ANONYMOUS = "anonymous"
EC2 = "ec2.amazonaws.com"

BUCKET = "arn:aws:s3:::examplebucket"
OBJECT = "arn:aws:s3:::examplebucket/photos/cat.jpg"


@dataclass(frozen=True, slots=True)
class Case:
    """One request, the policies in force, and the decision AWS documents."""

    id: str
    why: str
    expect: str
    action: str
    resource: str
    principal: str = ALICE
    identity: tuple[Doc, ...] = ()
    resource_policy: Doc | None = None
    # How the resource policy is parsed: "resource" (bucket policy) or "trust".
    resource_policy_kind: str = "resource"
    boundary: Doc | None = None
    session: Doc | None = None
    context: Mapping[str, object] | None = None
    resource_account: str | None = None
    # Condition keys the decision must report as missing (compared lower-cased);
    # None: not checked.
    missing: frozenset[str] | None = None
    # Expected Decision.boundary_allowed; None: not checked.
    boundary_allowed: bool | None = None


def stmt(
    effect: str,
    action: str | list[str] | None = None,
    resource: str | list[str] | None = None,
    *,
    not_action: str | list[str] | None = None,
    not_resource: str | list[str] | None = None,
    principal: object | None = None,
    not_principal: object | None = None,
    condition: Mapping[str, Mapping[str, object]] | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    """A statement dict; only the elements given are present."""
    out: dict[str, Any] = {}
    if sid is not None:
        out["Sid"] = sid
    out["Effect"] = effect
    if principal is not None:
        out["Principal"] = principal
    if not_principal is not None:
        out["NotPrincipal"] = not_principal
    if action is not None:
        out["Action"] = action
    if not_action is not None:
        out["NotAction"] = not_action
    if resource is not None:
        out["Resource"] = resource
    if not_resource is not None:
        out["NotResource"] = not_resource
    if condition is not None:
        out["Condition"] = dict(condition)
    return out


def allow(
    action: str | list[str] = "*", resource: str | list[str] = "*", **kw: Any
) -> dict[str, Any]:
    """An Allow statement."""
    return stmt("Allow", action, resource, **kw)


def deny(
    action: str | list[str] = "*", resource: str | list[str] = "*", **kw: Any
) -> dict[str, Any]:
    """A Deny statement."""
    return stmt("Deny", action, resource, **kw)


def pol(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    """A policy document holding the statements (Version omitted when None)."""
    out: dict[str, Any] = {}
    if version is not None:
        out["Version"] = version
    out["Statement"] = list(statements)
    return out


def aws(*arns: str) -> dict[str, Any]:
    """A Principal element naming AWS principals (bare string for one)."""
    return {"AWS": arns[0] if len(arns) == 1 else list(arns)}


ALLOW_ALL = pol(allow("*", "*"))
