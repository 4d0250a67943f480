"""A principal's policies, read from the identity records (shared by authorizer and simulator).

A user's identity policies are its inline and attached policies and those of its groups;
a role session's are its role's. Parsed policies are memoised by (text, name), so the
same document always yields the same :class:`Policy` object and the engine's per-policy
plans stay warm across reloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from objstore import keyspace
from objstore.authz import Identity
from objstore.errors import MalformedPolicyDocument, NoSuchEntity, StoredPolicyUnreadable
from objstore.iam.managed import MANAGED_POLICY_PREFIX, managed_policy
from objstore.iam.policy import Kind, Policy
from objstore.iam.principal import Principal, PrincipalType
from objstore.identity import bindings, callers, repo
from objstore.identity.base import PASSWORD_POLICY_RECORD
from objstore.identity.names import overlay_tags
from objstore.identity.repo import Record
from objstore.meta.base import ReadTxn

_PARSED: dict[tuple[str, str, str], Policy] = {}
_PARSED_LIMIT = 8192


def parsed(text: str, name: str, kind: Kind = "identity", *, what: str | None = None) -> Policy:
    """The stored policy ``text``, labelled ``name``; one object per distinct input.

    Read as stored (``Policy.from_json(stored=True)``): the cap on documents being written
    does not apply to one an earlier version saved. Raises StoredPolicyUnreadable for text
    this version cannot read at all (naming it ``what``, default ``name``), so the
    requests it would decide fail closed.
    """
    memo_key = (text, name, kind)
    found = _PARSED.get(memo_key)
    if found is None:
        try:
            found = Policy.from_json(text, kind=kind, name=name, stored=True)
        except MalformedPolicyDocument as exc:
            raise unreadable(what or name, exc) from None
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.clear()
        _PARSED[memo_key] = found
    return found


def unreadable(name: str, why: object) -> StoredPolicyUnreadable:
    """The error for the stored policy ``name`` this version cannot read."""
    return StoredPolicyUnreadable(
        f"the stored policy {name} cannot be read ({why}); requests it would decide are "
        "refused until it is replaced",
        policy=name,
    )


@dataclass(frozen=True, slots=True)
class PrincipalPolicies:
    """What the engine needs about one caller, loaded once per generation."""

    principal: Principal
    identity: tuple[Policy, ...]
    boundaries: tuple[Policy, ...]
    exists: bool  # False: the user or role is gone (nothing is allowed)
    arn: str | None = None  # an IAM user's ARN as its record says now (its path may move)


def managed_document(txn: ReadTxn, account: str, arn: str, kind: Kind) -> Policy | None:
    """A managed policy's default version (None if the policy no longer exists)."""
    if arn.startswith(MANAGED_POLICY_PREFIX):
        try:
            found = managed_policy(arn)
        except NoSuchEntity:
            return None
        return found if kind == "identity" else parsed(found.source, found.name or arn, kind)
    rec = repo.get(txn, keyspace.IAM_POLICY, arn.rsplit("/", 1)[-1])
    if rec is None or f"arn:aws:iam::{account}:policy{rec['path']}{rec['name']}" != arn:
        return None
    return parsed(rec["versions"][rec["default"]]["doc"], rec["name"], kind)


def entity_policies(txn: ReadTxn, account: str, rec: Record) -> list[Policy]:
    out = [parsed(text, name) for name, text in sorted(rec.get("inline", {}).items())]
    for arn in rec.get("attached", []):
        found = managed_document(txn, account, arn, "identity")
        if found is not None:
            out.append(found)
    return out


def boundary_of(txn: ReadTxn, account: str, rec: Record) -> tuple[Policy, ...]:
    arn = rec.get("boundary")
    if not arn:
        return ()
    found = managed_document(txn, account, arn, "boundary")
    # A boundary that cannot be read must not widen access: an empty one allows nothing.
    return (found,) if found is not None else (_EMPTY_BOUNDARY,)


_EMPTY_BOUNDARY = Policy.from_json('{"Version":"2012-10-17","Statement":[]}', kind="boundary")
_TRUSTS_NOBODY = Policy.from_json('{"Version":"2012-10-17","Statement":[]}', kind="trust")
# What the password policy's AllowUsersToChangePassword grants every IAM user, as AWS words
# it: iam:ChangePassword on the user's own ARN and iam:GetAccountPasswordPolicy, "applied at
# the account level" rather than attached. The same statements as AWS's managed policy.
_SELF_SERVICE_PASSWORD = "IAMUserChangePassword"


def users_may_change_password(txn: ReadTxn) -> bool:
    """Whether the account password policy sets AllowUsersToChangePassword."""
    found = repo.get(txn, keyspace.IAM_ACCOUNT, PASSWORD_POLICY_RECORD)
    return bool(found and found.get("allow_users_to_change_password"))


def user_policies(
    txn: ReadTxn, account: str, rec: Record | None, principal: Principal
) -> PrincipalPolicies:
    if rec is None:
        return PrincipalPolicies(principal, (), (), False)
    policies = entity_policies(txn, account, rec)
    for group in rec.get("groups", []):
        grec = repo.get(txn, keyspace.IAM_GROUP, group)
        if grec is not None:
            policies += entity_policies(txn, account, grec)
    if users_may_change_password(txn):
        # An identity policy like any other: an explicit Deny, a permissions boundary or a
        # session policy still limits it.
        policies.append(managed_policy(_SELF_SERVICE_PASSWORD))
    arn = f"arn:aws:iam::{account}:user{rec['path']}{rec['name']}"
    return PrincipalPolicies(principal, tuple(policies), boundary_of(txn, account, rec), True, arn)


def role_policies(
    txn: ReadTxn, account: str, rec: Record | None, principal: Principal
) -> PrincipalPolicies:
    if rec is None:
        return PrincipalPolicies(principal, (), (), False)
    return PrincipalPolicies(
        principal,
        tuple(entity_policies(txn, account, rec)),
        boundary_of(txn, account, rec),
        True,
    )


def principal_of(identity: Identity, tags: Mapping[str, str] | None = None) -> Principal:
    """The policy engine's view of a caller (with ``tags`` as its principal tags when given,
    else the identity's own)."""
    kind = identity.kind
    principal_tags = dict(identity.tags if tags is None else tags)
    if kind == "anonymous":
        return Principal.anonymous()
    if kind == "service":
        return Principal.service(identity.arn)
    if kind == "root":
        return Principal(arn=identity.arn, type=PrincipalType.ROOT, account=identity.account)
    if kind == "user":
        return Principal(
            arn=identity.arn,
            type=PrincipalType.USER,
            account=identity.account,
            user_id=identity.user_id,
            username=identity.name,
            tags=principal_tags,
        )
    if kind in ("assumed-role", "role"):
        return Principal(
            arn=identity.arn,
            type=PrincipalType.ASSUMED_ROLE if kind == "assumed-role" else PrincipalType.ROLE,
            account=identity.account,
            user_id=identity.user_id,
            session_name=identity.name,
            role_arn=identity.role_arn or (identity.arn if kind == "role" else None),
            tags=principal_tags,
        )
    return Principal.from_arn(identity.arn, user_id=identity.user_id, tags=principal_tags)


def load(txn: ReadTxn, account: str, identity: Identity) -> PrincipalPolicies:
    """The policies in force for ``identity`` (a caller of this store's account).

    Principal tags (``aws:PrincipalTag/*``) are read from the records with the policies, so
    a tag change applies from the next request like a policy change: an IAM user's are its
    tags; a role session's, its role's tags overridden by its session tags of the same key.
    """
    if identity.account != account or identity.kind == "root":
        return PrincipalPolicies(principal_of(identity), (), (), identity.kind == "root")
    if identity.kind == "user" and identity.name:
        rec = repo.get(txn, keyspace.IAM_USER, identity.name)
        if identity.user_id is not None and (rec is None or rec["id"] != identity.user_id):
            # The caller's user was renamed since its credentials were checked (in an
            # earlier read), or deleted: found by its id (its ARN then differs, and the
            # authorizer asks again as the user it is now), never another of the name.
            rec = callers.find_user(txn, identity.name, identity.user_id)
        tags = None if rec is None else rec.get("tags", {})
        return user_policies(txn, account, rec, principal_of(identity, tags))
    principal = principal_of(identity)
    role = principal.role_name
    if identity.kind in ("assumed-role", "role") and role:
        rec = repo.get(txn, keyspace.IAM_ROLE, role)
        role_id = None if identity.user_id is None else identity.user_id.split(":", 1)[0]
        if rec is not None and role_id is not None and rec["id"] != role_id:
            # A role deleted and created again under the name since the session's
            # credentials were checked (in an earlier read): none of the new one's applies.
            rec = None
        if rec is not None and rec.get("tags"):
            principal = principal_of(identity, overlay_tags(rec["tags"], identity.tags))
        return role_policies(txn, account, rec, principal)
    return PrincipalPolicies(principal, (), (), False)


def role_record(txn: ReadTxn, account: str, role_arn: str) -> Record | None:
    """The record of the role ``role_arn`` names exactly (None: no such role here)."""
    head = f"arn:aws:iam::{account}:role/"
    if not role_arn.startswith(head):
        return None
    rec = repo.get(txn, keyspace.IAM_ROLE, role_arn.rsplit("/", 1)[-1])
    if rec is None or f"{head[:-1]}{rec['path']}{rec['name']}" != role_arn:
        return None
    return rec


def trust_policy(txn: ReadTxn, account: str, rec: Record | None) -> Policy:
    """The trust policy of the role record ``rec``. A role that does not exist (``rec``
    None, see :func:`role_record`) trusts nobody: assuming it is AccessDenied exactly like
    assuming a role that does not trust the caller, as in AWS, so role names cannot be
    probed with sts:AssumeRole."""
    if rec is None:
        return _TRUSTS_NOBODY
    what = f"TrustPolicy of role {rec['name']!r}"
    return bindings.bound(
        parsed(rec["trust"], "TrustPolicy", "trust", what=what),
        account,
        bindings.stored_binding(rec, "trust_principals", what),
        what,
    )
