"""objstore.identity: users, groups, roles, policies and credentials, kept in the store.

The IAM API is ``client.iam`` (:class:`~objstore.identity.facade.IamClient`); the records
live in the store's metadata (``repo.py``), the authorizer (``authorizer.py``) decides
every call with them, and ``docs/iam.md`` describes the model and its threat model.

The credential primitives are pure modules (no store access, time passed in by the caller):
``totp`` (virtual MFA), ``passwords`` (scrypt hashes and the account password policy),
``sessions`` (sealed STS session tokens), ``ids`` (AWS-shaped ids and secrets), ``oidc``
(web-identity JWT verification) and ``qr`` (QR codes for MFA seeds).
"""

from objstore.identity.results import (
    AccessKey,
    AccessKeyLastUsed,
    AccessKeyMetadata,
    AttachedPolicy,
    AuditRecord,
    Group,
    GroupDetail,
    InlinePolicy,
    ManagedPolicy,
    Page,
    PolicyVersion,
    Role,
    Tag,
    User,
)

__all__ = [
    "AccessKey",
    "AccessKeyLastUsed",
    "AccessKeyMetadata",
    "AttachedPolicy",
    "AuditRecord",
    "Group",
    "GroupDetail",
    "InlinePolicy",
    "ManagedPolicy",
    "Page",
    "PolicyVersion",
    "Role",
    "Tag",
    "User",
]
