"""What the IAM and STS calls return: frozen, slotted dataclasses named as AWS names them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar, overload

T = TypeVar("T")


@dataclass(frozen=True, slots=True, eq=False)
class Page(Sequence[T]):
    """One page of a list call (``list_users``, ``list_groups``, ``list_roles``,
    ``list_policies``): a sequence of its items, with AWS's paging. ``is_truncated``: more
    follow; pass ``marker`` as the next call's ``marker`` to get them. Without ``max_items``
    a page holds everything. Equal to a list or tuple of the same items."""

    items: tuple[T, ...]
    is_truncated: bool = False
    marker: str | None = None

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        return self.items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Page):
            return (self.items, self.is_truncated, self.marker) == (
                other.items,
                other.is_truncated,
                other.marker,
            )
        if isinstance(other, list | tuple):
            return list(self.items) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking sequence semantics: unhashable


@dataclass(frozen=True, slots=True)
class User:
    user_name: str
    user_id: str  # "AIDA..."
    arn: str
    path: str
    create_date: datetime
    tags: Mapping[str, str] = field(default_factory=dict)
    permissions_boundary: str | None = None
    password_last_used: datetime | None = None


@dataclass(frozen=True, slots=True)
class Group:
    group_name: str
    group_id: str  # "AGPA..."
    arn: str
    path: str
    create_date: datetime


@dataclass(frozen=True, slots=True)
class GroupDetail:
    """``get_group``: the group and its members."""

    group: Group
    users: tuple[User, ...]


@dataclass(frozen=True, slots=True)
class Role:
    role_name: str
    role_id: str  # "AROA..."
    arn: str
    path: str
    create_date: datetime
    assume_role_policy_document: str
    max_session_duration: int
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    permissions_boundary: str | None = None


@dataclass(frozen=True, slots=True)
class Tag:
    """One tag of a user or role (``list_user_tags``, ``list_role_tags``)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    policy_name: str
    policy_id: str  # "ANPA..."
    arn: str
    path: str
    default_version_id: str
    attachment_count: int
    permissions_boundary_usage_count: int
    is_attachable: bool
    create_date: datetime
    update_date: datetime
    description: str = ""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version_id: str  # "v1", "v2" ...
    document: str
    is_default_version: bool
    create_date: datetime


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    policy_name: str
    policy_arn: str


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    """``get_user_policy`` / ``get_group_policy`` / ``get_role_policy``."""

    entity_name: str
    policy_name: str
    policy_document: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    """A new access key: the only time its secret is shown."""

    user_name: str | None  # None for the account root's keys
    access_key_id: str  # "AKIA..."
    # Secrets stay out of reprs (logs, tracebacks, assertion messages); read the attribute.
    secret_access_key: str = field(repr=False)
    status: str  # "Active" | "Inactive"
    create_date: datetime


@dataclass(frozen=True, slots=True)
class AccessKeyMetadata:
    user_name: str | None
    access_key_id: str
    status: str
    create_date: datetime


@dataclass(frozen=True, slots=True)
class AccessKeyLastUsed:
    user_name: str | None
    last_used_date: datetime | None
    service_name: str  # "N/A" when never used, as AWS answers
    region: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the audit log: who asked for what, and what was decided."""

    time: datetime
    principal: str
    operation: str
    action: str
    resource: str
    decision: str  # "allowed" | "denied"
    outcome: str  # "ok" or the error code the call ended with


@dataclass(frozen=True, slots=True)
class LoginProfile:
    user_name: str  # "<root_account>" for the root
    create_date: datetime
    password_reset_required: bool


@dataclass(frozen=True, slots=True)
class VirtualMFADevice:
    """A new virtual MFA device: the seed is shown only here."""

    serial_number: str  # its ARN, arn:aws:iam::ACCOUNT:mfa/NAME
    base32_string_seed: str = field(repr=False)
    qr_code_uri: str = field(repr=False)  # otpauth://totp/...?secret=SEED: the seed again


@dataclass(frozen=True, slots=True)
class MFADevice:
    user_name: str
    serial_number: str
    enable_date: datetime


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Credentials:
    """Temporary credentials: pass all three to ``store.client``."""

    access_key_id: str  # "ASIA..."
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)  # carries the sealed secret
    expiration: datetime


@dataclass(frozen=True, slots=True)
class OpenIDConnectProvider:
    arn: str  # arn:aws:iam::ACCOUNT:oidc-provider/HOST
    url: str
    client_id_list: tuple[str, ...]
    thumbprint_list: tuple[str, ...]
    create_date: datetime
