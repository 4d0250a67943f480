"""The vocabulary of the action table (:mod:`objstore.actions`): resource kinds, a
:class:`Permission` (one IAM action on one resource, with its condition keys) and an
:class:`Operation` (a public call and the permissions it needs). Pure data and the
helpers that read request parameters into condition values; no rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BUCKET = "bucket"
OBJECT = "object"
ANY = "*"
# IAM resources: the identity layer builds their ARNs (it knows entity paths).
IAM_USER = "iam-user"  # arn:aws:iam::ACCOUNT:user/PATH/NAME (the caller's own when unnamed)
IAM_GROUP = "iam-group"
IAM_ROLE = "iam-role"
IAM_POLICY = "iam-policy"  # the policy_arn parameter, or built from policy_name and path
IAM_KEY_OWNER = "iam-key-owner"  # the user (or root) owning the access_key_id parameter
IAM_MFA = "iam-mfa"  # arn:aws:iam::ACCOUNT:mfa/NAME
IAM_OIDC = "iam-oidc"  # arn:aws:iam::ACCOUNT:oidc-provider/HOST
IAM_ARN = "iam-arn"  # the parameter itself is the resource's ARN
# The condition keys of IAM requests that set or remove tags.
IAM_REQUEST_TAG = "aws:RequestTag/"
IAM_TAG_KEYS = "aws:TagKeys"
IAM_RESOURCES = frozenset(
    {IAM_USER, IAM_GROUP, IAM_ROLE, IAM_POLICY, IAM_KEY_OWNER, IAM_MFA, IAM_OIDC, IAM_ARN}
)
# The IAM resources that are named entities, and the kind of entity each is.
ENTITY_KIND = {IAM_USER: "user", IAM_GROUP: "group", IAM_ROLE: "role"}


@dataclass(frozen=True, slots=True)
class Permission:
    """One IAM action an operation needs, and how to build its resource and context."""

    action: str
    resource: str  # BUCKET, OBJECT or ANY
    versioned_action: str | None = None  # used instead when the version parameter is set
    bucket_param: str = "bucket"
    key_param: str = "key"
    version_param: str | None = None
    name_param: str | None = None  # IAM resources: the parameter naming the entity
    # A parameter holding a mapping of further condition keys (web-identity claims such as
    # ``HOST:sub``, whose names depend on the provider).
    context_map: str | None = None
    # (condition key, parameter name): values the operation supplies to conditions.
    context: tuple[tuple[str, str], ...] = ()
    # The parameter holding the tags the request sets, and the condition keys they are
    # given as: s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys (IAM: aws:RequestTag/
    # and aws:TagKeys).
    request_tags: str | None = None
    tag_condition_keys: tuple[str, str] = ("s3:RequestObjectTag/", "s3:RequestObjectTagKeys")
    # The parameter holding the tag keys the request removes (IAM's Untag*: aws:TagKeys).
    removed_tag_keys: str | None = None
    # iam:PermissionsBoundary is the boundary the user or role acted on has now (AWS
    # supplies it to Put/Attach/Detach/Delete{User,Role}Policy and
    # Delete{User,Role}PermissionsBoundary); read only when a policy consulted reads it.
    current_boundary: bool = False
    # The engine reads the tags of the object (bucket/key/version parameters) before it
    # asks, for s3:ExistingObjectTag/<key>.
    existing_tags: bool = False
    # IAM renames (UpdateUser, UpdateGroup): the parameter naming the entity updated; the
    # resource is its ARN after the update (new name from ``name_param``, path from
    # ``new_path``, each defaulting to the current one).
    renames: str | None = None
    # Asked only when this parameter is set (PutObject asks s3:PutObjectTagging too
    # when it carries tags, as AWS).
    only_with: str | None = None
    # An optional permission (with ``only_with``) does not refuse the call when denied:
    # the call goes on with that parameter turned off, and the namespace refuses what
    # needed it (s3:BypassGovernanceRetention: only a version under GOVERNANCE
    # retention needs it).
    optional: bool = False
    # The request's Object Lock values are given as the s3:object-lock-* condition keys
    # (the engine computes them: the remaining days need its clock).
    lock_context: bool = False

    def applies(self, params: Mapping[str, Any]) -> bool:
        return self.only_with is None or bool(params.get(self.only_with))

    def action_for(self, params: Mapping[str, Any]) -> str:
        if self.versioned_action and self.version_param and params.get(self.version_param):
            return self.versioned_action
        return self.action

    def resource_for(self, params: Mapping[str, Any]) -> str:
        if self.resource == ANY:
            return "*"
        bucket = params[self.bucket_param]
        if self.resource == BUCKET:
            return f"arn:aws:s3:::{bucket}"
        return f"arn:aws:s3:::{bucket}/{params[self.key_param]}"

    def context_for(self, params: Mapping[str, Any]) -> dict[str, object]:
        ctx: dict[str, object] = {}
        for cond_key, param in self.context:
            value = _derived(param, params) if param in _DERIVED else params.get(param)
            if value is not None and (value != "" or cond_key in _EMPTY_IS_A_VALUE):
                ctx[cond_key] = value
        if self.version_param and params.get(self.version_param):
            ctx["s3:VersionId"] = params[self.version_param]
        if self.context_map and isinstance(params.get(self.context_map), Mapping):
            ctx.update(params[self.context_map])
        if self.request_tags:
            pairs = tag_pairs(params.get(self.request_tags))
            if pairs:
                prefix, keys = self.tag_condition_keys
                ctx.update(tag_context(prefix, pairs))
                ctx[keys] = [k for k, _ in pairs]
        if self.removed_tag_keys:
            removed = params.get(self.removed_tag_keys)
            if isinstance(removed, list | tuple) and removed:
                ctx[IAM_TAG_KEYS] = [k for k in removed if isinstance(k, str)]
        return ctx


def tag_pairs(tags: object) -> list[tuple[str, str]]:
    """The (key, value) string pairs of a tag mapping, pair list or IAM's list of
    ``{"Key", "Value"}`` (anything else: none; the call rejects malformed tags after
    authorization)."""
    if isinstance(tags, Mapping):
        items: list[object] = list(tags.items())
    elif isinstance(tags, list | tuple):
        items = [(t.get("Key"), t.get("Value", "")) if isinstance(t, Mapping) else t for t in tags]
    else:
        return []
    return [
        (k, v)
        for item in items
        if isinstance(item, tuple) and len(item) == 2
        for k, v in [item]
        if isinstance(k, str) and isinstance(v, str)
    ]


def tag_context(prefix: str, pairs: Iterable[tuple[str, str]]) -> dict[str, object]:
    """``prefix + key -> value`` condition keys. Condition keys compare case-insensitively,
    tag keys do not: of keys differing only in case, the first stands."""
    out: dict[str, object] = {}
    seen: set[str] = set()
    for key, value in pairs:
        name = prefix + key
        if name.lower() not in seen:
            seen.add(name.lower())
            out[name] = value
    return out


def _copy_source(params: Mapping[str, Any]) -> str:
    src = f"{params['src_bucket']}/{params['src_key']}"
    vid = params.get("src_version_id")
    return f"{src}?versionId={vid}" if vid else src


# Condition values computed from several parameters.
_DERIVED = {"copy_source": _copy_source}
# Condition keys whose empty value is a value: ``s3:prefix`` "" is a listing of the bucket's
# root, which AWS's documented policies allow by name ("s3:prefix": ["", "home/"]).
_EMPTY_IS_A_VALUE = frozenset({"s3:prefix"})


def _derived(name: str, params: Mapping[str, Any]) -> object:
    return _DERIVED[name](params)


@dataclass(frozen=True, slots=True)
class Reveal:
    """Fields of an operation's result shown only to callers allowed ``action`` on the
    resource of the operation's first permission (asked with it, as an optional action)."""

    action: str
    fields: tuple[str, ...]
    # The fields are a version's Object Lock: none outside a bucket with Object Lock, where
    # the action is not asked (a bucket given Object Lock after the decision: withheld).
    object_lock: bool = True


@dataclass(frozen=True, slots=True)
class Operation:
    """A public operation: the client method of the same snake_case name."""

    name: str  # S3 / IAM operation name, e.g. "PutObject"
    method: str  # the Client (and namespace) method, e.g. "put_object"
    permissions: tuple[Permission, ...]
    # Operations over many items authorize each item separately; ``per_item``
    # names the parameters one item tuple carries. With ``partial`` a denied item
    # fails alone (DeleteObjects, as in S3); otherwise the whole call is denied.
    per_item: tuple[str, ...] = ()
    partial: bool = False
    # S3 answers 404 for a missing key only to callers allowed this; others get 403.
    not_found_requires: Permission | None = None
    owner_param: str | None = None  # filled with the caller's account (CreateBucket, ListBuckets)
    caller_param: str | None = None  # filled with the calling Identity ("user_name=None": me)
    target: str = "ns"  # who runs it: the namespace, or "identity" (IAM, STS, bucket policy)
    facade: str = "client"  # the class whose method it is: "client", "iam" or "sts"
    # Parts of the result only some callers may see (GET/HEAD show a version's Object Lock
    # only to callers allowed s3:GetObjectRetention / s3:GetObjectLegalHold, as AWS): their
    # actions are the optional actions of the request of the first permission, decided in
    # that one authorize() call, before the operation runs; the engine clears the fields of
    # those not allowed from the result. Never a reason to refuse the call.
    reveals: tuple[Reveal, ...] = ()
    # Filled with what the call's decisions read that the operation must act on
    # (``authz.Verdict.read``: AssumeRole gets the id of the role whose trust policy decided).
    decided_param: str | None = None
    # (parameter, parser): parameters the engine reads into their one parsed form before
    # anything is decided. The conditions and the call both get the parsed value, so what
    # a policy checked is what the call acts on (IAM tags in AWS's list form: a key given
    # twice is refused, not read one way for aws:RequestTag/* and another for the store).
    parse: tuple[tuple[str, Callable[[object], object]], ...] = ()
    # Only identities of the account owning the bucket may call it, even when a policy
    # allows someone else (S3's Get/Put/DeleteBucketPolicy): an allowed caller of another
    # account, or the anonymous one, gets 405 MethodNotAllowed (403 if not allowed).
    owner_account_only: bool = False
