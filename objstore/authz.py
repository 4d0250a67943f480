"""The authorization boundary: who is asking, and the hook that decides.

Every operation reaches the namespace only through the engine, which builds
one :class:`AuthorizationRequest` per IAM action the operation needs (from
the table in :mod:`objstore.actions`) and asks the store's
:class:`Authorizer`. A falsy answer, or an answer whose ``.allowed`` is false,
denies the call before anything changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

DEFAULT_ACCOUNT = "000000000000"


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of an operation.

    ``kind`` is ``"root"``, ``"user"``, ``"role"``, ``"assumed-role"``,
    ``"federated-user"``, ``"service"`` or ``"anonymous"``.

    The fields after ``tags`` describe how the caller authenticated and are what the
    request context's ``aws:*`` keys are built from: the long-term access key (checked
    again at every request), the network facts a gateway knows, and for temporary
    credentials their issue and expiry times (epoch seconds), when MFA was presented,
    the session policy, and the role a session belongs to; last, the request's
    ``User-Agent`` and ``Referer`` headers (``aws:UserAgent``, ``aws:Referer``).
    """

    arn: str
    account: str
    kind: str
    name: str | None = None
    user_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    access_key_id: str | None = None
    source_ip: str | None = None
    secure_transport: bool = True
    token_issued_at: int | None = None
    expires_at: int | None = None
    mfa_authenticated_at: int | None = None
    session_policy: str | None = None
    role_arn: str | None = None
    user_agent: str | None = None
    referer: str | None = None

    @classmethod
    def root(cls, account: str = DEFAULT_ACCOUNT) -> Identity:
        return cls(f"arn:aws:iam::{account}:root", account, "root", None, account)

    @classmethod
    def anonymous(cls) -> Identity:
        return cls("anonymous", "", "anonymous")


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One question to the authorizer: may ``principal`` do ``action`` on ``resource``?"""

    principal: Identity
    action: str  # e.g. "s3:PutObject"
    resource: str  # e.g. "arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket" or "*"
    context: Mapping[str, object]  # condition keys supplied by the operation
    operation: str  # e.g. "PutObject"
    resource_account: str | None = None  # the bucket owner's account, when known
    # Context keys that cost a read to supply (the stored object's tags), as
    # (key prefix, loader) pairs. Only an authorizer whose ``defers_context`` is true
    # gets them here, and must call the loader whenever a policy it consults reads a
    # key under the prefix; any other authorizer gets them loaded into ``context``.
    deferred: tuple[tuple[str, Callable[[], Mapping[str, object]]], ...] = ()


class CallerMoved(Exception):
    """Raised by an authorizer that found the caller's user renamed or moved since the
    caller's :class:`Identity` was made (an IAM user keeps its credentials through a rename):
    the engine runs the call again, before anything of it happened, as ``identity``, the
    same caller under its current name and ARN. Not an error any API caller sees."""

    def __init__(self, identity: Identity) -> None:
        super().__init__(identity.arn)
        self.identity = identity


@runtime_checkable
class Authorizer(Protocol):
    """Decides requests. Return a bool or an object with ``.allowed``."""

    def authorize(self, request: AuthorizationRequest) -> object: ...


class RootOnlyAuthorizer:
    """The default without IAM: the account root may do everything, nobody else anything."""

    defers_context = True  # it reads no condition keys, so deferred ones are never loaded

    def authorize(self, request: AuthorizationRequest) -> bool:
        p = request.principal
        return p.kind == "root" and (
            request.resource_account is None or request.resource_account == p.account
        )


class DenyAllAuthorizer:
    """Denies everything (for tests and read-only maintenance)."""

    def authorize(self, request: AuthorizationRequest) -> bool:
        return False


def is_allowed(answer: object) -> bool:
    """Interpret an authorizer's answer."""
    if hasattr(answer, "allowed"):
        return bool(answer.allowed)
    return bool(answer)
