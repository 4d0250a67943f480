"""Access control lists, disabled as S3 has them by default since April 2023 (pure: no I/O).

Every bucket's object ownership is ``BucketOwnerEnforced``: the bucket owner owns every
object, ACLs grant nothing, and bucket policies and IAM decide access. Reading an ACL
answers the owner's FULL_CONTROL; setting one (PutBucketAcl, PutObjectAcl, ``x-amz-acl``
and ``x-amz-grant-*`` on writes) is accepted only when it says just that, and is
``AccessControlListNotSupported`` otherwise (``InvalidBucketAclWithObjectOwnership`` on
CreateBucket, as S3 answers it).

The other object ownership settings (``ObjectWriter``, ``BucketOwnerPreferred``) exist
only to turn ACLs back on, which objstore does not offer: asking for one is
``NotImplemented`` rather than a setting that would be stored and not honoured.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from objstore import errors
from objstore.errors import (
    AccessControlListNotSupported,
    InvalidArgument,
    InvalidBucketAclWithObjectOwnership,
    MalformedACLError,
)
from objstore.types import AccessControlPolicy, Grant

BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"
OWNERSHIP_SETTINGS = frozenset({BUCKET_OWNER_ENFORCED, "BucketOwnerPreferred", "ObjectWriter"})
FULL_CONTROL = "FULL_CONTROL"
PERMISSIONS = frozenset({FULL_CONTROL, "READ", "WRITE", "READ_ACP", "WRITE_ACP"})
CANONICAL_USER = "CanonicalUser"
GRANTEE_TYPES = frozenset({CANONICAL_USER, "Group", "AmazonCustomerByEmail"})

# Canned ACLs S3 knows (``log-delivery-write`` is for buckets).
CANNED_ACLS = frozenset(
    {
        "private",
        "public-read",
        "public-read-write",
        "aws-exec-read",
        "authenticated-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
        "log-delivery-write",
    }
)
# The canned ACLs that grant the owner full control and nobody anything. S3 documents
# only bucket-owner-full-control for ACL-less buckets (and new buckets may be private);
# objstore takes "private" everywhere too: with the bucket owner owning every object it
# says the same, and clients send it by default (rclone does).
OWNER_ONLY_ACLS = frozenset({"private", "bucket-owner-full-control"})

# x-amz-grant-* header -> the permission it grants.
GRANT_HEADERS = {
    "x-amz-grant-full-control": FULL_CONTROL,
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
}
# A grantee in a grant header: id="...", uri="...", emailAddress="..." (quotes optional).
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*(?:"([^"]*)"|([^,\s]+))\s*', re.IGNORECASE)
_GRANTEE_KIND = {"id": CANONICAL_USER, "uri": "Group", "emailaddress": "AmazonCustomerByEmail"}


# Canned ACLs and grantee groups that make an ACL public (S3's "The meaning of public":
# a grant to everyone, or to every authenticated AWS user).
PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GROUPS = frozenset(
    {
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    }
)


def is_public(acl: str | None, grants: Iterable[Grant] = ()) -> bool:
    """Whether a canned ACL or a list of grants is public (what BlockPublicAcls refuses)."""
    if acl in PUBLIC_CANNED_ACLS:
        return True
    return any(g.grantee_type == "Group" and g.grantee_id in PUBLIC_GROUPS for g in grants)


def owner_policy(owner: str) -> AccessControlPolicy:
    """The only ACL there is: the owner's FULL_CONTROL (the account id is also its
    display name, as the gateway writes ``Owner`` elements)."""
    return AccessControlPolicy(owner, owner, (Grant(owner, FULL_CONTROL, CANONICAL_USER, owner),))


def not_supported() -> AccessControlListNotSupported:
    return AccessControlListNotSupported("The bucket does not allow ACLs")


def check_canned(acl: str, *, new_bucket: bool = False) -> None:
    """Accept a canned ACL that gives the owner full control and nobody anything.

    Raises InvalidArgument (not a canned ACL), AccessControlListNotSupported (another
    one), InvalidBucketAclWithObjectOwnership (another one, ``new_bucket``)."""
    if acl not in CANNED_ACLS:
        raise InvalidArgument(
            "The canned ACL you specified is not valid", ArgumentName="x-amz-acl", ArgumentValue=acl
        )
    if acl in OWNER_ONLY_ACLS:
        return
    if new_bucket:
        raise InvalidBucketAclWithObjectOwnership(
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        )
    raise not_supported()


def parse_grant_header(header: str, value: str) -> list[Grant]:
    """The grants of one ``x-amz-grant-*`` header (``id="…", uri="…"``).

    Raises InvalidArgument (not a grant header, or a value that names no grantee)."""
    permission = GRANT_HEADERS.get(header.lower())
    if permission is None:
        raise InvalidArgument(f"{header} is not a grant header", ArgumentName=header)
    grants: list[Grant] = []
    for item in value.split(","):
        match = _GRANTEE.fullmatch(item)
        if match is None:
            raise InvalidArgument(
                f"{header} must list grantees as id=, uri= or emailAddress=",
                ArgumentName=header,
                ArgumentValue=value,
            )
        kind = _GRANTEE_KIND[match.group(1).lower()]
        grants.append(Grant(match.group(2) or match.group(3) or "", permission, kind))
    return grants


def check_grants(grants: Iterable[Grant], owner: str, *, new_bucket: bool = False) -> None:
    """Accept grants that give the owner full control and nobody anything (at least one).

    Raises AccessControlListNotSupported (InvalidBucketAclWithObjectOwnership with
    ``new_bucket``)."""
    listed = list(grants)
    owner_only = bool(listed) and all(
        g.grantee_type == CANONICAL_USER and g.grantee_id == owner and g.permission == FULL_CONTROL
        for g in listed
    )
    if owner_only:
        return
    if new_bucket:
        raise InvalidBucketAclWithObjectOwnership(
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        )
    raise not_supported()


def check_shape(acl: object, policy: object) -> None:
    """Refuse arguments of the wrong Python type before anything reads them.

    Raises InvalidArgument (``acl`` not a str, ``policy`` not an AccessControlPolicy of
    Grants)."""
    if acl is not None and not isinstance(acl, str):
        raise InvalidArgument("acl must be a canned ACL name (str)")
    if policy is not None and (
        not isinstance(policy, AccessControlPolicy)
        or not isinstance(policy.grants, tuple | list)
        or not all(isinstance(g, Grant) for g in policy.grants)
    ):
        raise InvalidArgument("access_control_policy must be an AccessControlPolicy of Grants")


def check_policy(policy: AccessControlPolicy, owner: str) -> None:
    """Accept an ACL document that gives the owner full control and nobody anything.

    Raises MalformedACLError (an unknown permission or grantee type, an empty grantee),
    AccessControlListNotSupported."""
    for g in policy.grants:
        if g.permission not in PERMISSIONS or g.grantee_type not in GRANTEE_TYPES:
            raise MalformedACLError(
                "The XML you provided was not well-formed or did not validate against our "
                "published schema"
            )
        if not g.grantee_id:
            raise MalformedACLError("every Grantee needs an ID, URI or EmailAddress")
    check_grants(policy.grants, owner)


def check_ownership(setting: str) -> None:
    """Accept the object ownership setting objstore has (``BucketOwnerEnforced``).

    Raises NotImplemented (``ObjectWriter``, ``BucketOwnerPreferred``: they turn ACLs on),
    InvalidArgument (not a setting S3 knows)."""
    if setting == BUCKET_OWNER_ENFORCED:
        return
    if isinstance(setting, str) and setting in OWNERSHIP_SETTINGS:
        raise errors.NotImplemented(
            f"object ownership {setting} enables ACLs, which objstore does not offer: "
            f"only {BUCKET_OWNER_ENFORCED} (ACLs disabled, S3's default) is supported"
        )
    raise InvalidArgument(
        "Invalid x-amz-object-ownership header or ObjectOwnership value",
        ArgumentName="ObjectOwnership",
        ArgumentValue=str(setting),
    )
