"""The authorization boundary: who is asking, and the hook that decides.

Every operation reaches the namespace only through the engine, which builds
one :class:`AuthorizationRequest` per IAM action the operation needs (from
the table in :mod:`objstore.actions`) and asks the store's
:class:`Authorizer`. A falsy answer, or an answer whose ``.allowed`` is false,
denies the call before anything changes. A :class:`Verdict` says more: which of the
request's optional actions are allowed too, and what the decision read that the operation
must act on (both reach the operation through the engine, never through shared state).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
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
    def root(cls, account: str = DEFAULT_ACCOUNT, access_key_id: str | None = None) -> Identity:
        """The account's root (signing with ``access_key_id``, if given)."""
        return cls(
            f"arn:aws:iam::{account}:root",
            account,
            "root",
            None,
            account,
            access_key_id=access_key_id,
        )

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
    # Further actions on the same resource, in the same context, that do not decide the
    # call (GET/HEAD: s3:GetObjectRetention and s3:GetObjectLegalHold, which only decide
    # whether the result shows the version's Object Lock). Decided in the same pass as
    # ``action``; the answer names those it allows (``Verdict.optional``). An answer that
    # does not name them (a bool, a decision without ``.optional``) allows none.
    optional: tuple[str, ...] = ()
    # The same question for another caller (the engine's: the resource and context may name
    # the caller, e.g. ``user_name=None``). An authorizer that finds by unique id that the
    # caller's user was renamed or moved since its Identity was made decides this one for
    # the user as it is now, and says so (``Verdict.request``).
    rebuild: Callable[[Identity], AuthorizationRequest] | None = None


_NOTHING_READ: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Verdict:
    """An authorizer's answer to one :class:`AuthorizationRequest`.

    ``allowed``: whether the request's ``action`` is allowed (it alone decides the call).
    ``optional``: those of the request's ``optional`` actions also allowed, decided in the
    same pass with the same policies and context. ``read``: what the decision read that the
    operation must act on and on nothing else, handed to it by the engine (see
    ``Operation.decided_param``): e.g. ``role_id``, the unique id of the role whose trust
    policy decided an ``sts:AssumeRole``, so that no other role of that name (deleted and
    created again since) gets the session. ``detail``: the authorizer's own account of the
    decision (the IAM authorizer's :class:`objstore.iam.Decision`), for tests and tools.
    ``request``: when the decision found the caller's user renamed or moved (an IAM user
    keeps its credentials through a rename), the question it decided instead, asked for the
    caller as it is now (``AuthorizationRequest.rebuild``): the engine runs the rest of the
    call as that caller.
    """

    allowed: bool
    optional: frozenset[str] = frozenset()
    read: Mapping[str, str] = field(default_factory=dict)
    detail: object = None
    request: AuthorizationRequest | None = None

    def __bool__(self) -> bool:
        return self.allowed


class CallerMoved(Exception):
    """Raised by an operation that found the caller's user renamed or moved since the call
    was authorized (an IAM user keeps its credentials through a rename), before anything
    of it happened: the engine runs the call again, decisions included, as ``identity``,
    the same caller under its current name and ARN. (A move found while deciding is
    followed inside that decision: ``AuthorizationRequest.rebuild``.) Not an error any API
    caller sees."""

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

    def authorize(self, request: AuthorizationRequest) -> Verdict:
        p = request.principal
        allowed = p.kind == "root" and (
            request.resource_account is None or request.resource_account == p.account
        )
        return Verdict(allowed, frozenset(request.optional) if allowed else frozenset())


class DenyAllAuthorizer:
    """Denies everything (for tests and read-only maintenance)."""

    def authorize(self, request: AuthorizationRequest) -> bool:
        return False


def is_allowed(answer: object) -> bool:
    """Interpret an authorizer's answer."""
    if hasattr(answer, "allowed"):
        return bool(answer.allowed)
    return bool(answer)


def optional_allowed(answer: object, request: AuthorizationRequest) -> frozenset[str]:
    """Which of ``request.optional`` an authorizer's answer allows: those its ``.optional``
    names, and none when the request's action is refused or the answer does not say (fail
    closed: what they guard is withheld, the call itself goes on)."""
    named = getattr(answer, "optional", None)
    if not request.optional or not is_allowed(answer) or not isinstance(named, frozenset):
        return frozenset()
    return named & frozenset(request.optional)


def decided_request(answer: object, asked: AuthorizationRequest) -> AuthorizationRequest:
    """The question an authorizer's answer decided: ``asked``, or the one it asked instead
    for the caller as it is now (``Verdict.request``)."""
    decided = getattr(answer, "request", None)
    return decided if isinstance(decided, AuthorizationRequest) else asked


def decided_facts(answer: object) -> Mapping[str, str]:
    """What an authorizer's answer says its decision read (``Verdict.read``; none for an
    answer that does not say)."""
    read = getattr(answer, "read", None)
    return read if isinstance(read, Mapping) else _NOTHING_READ
