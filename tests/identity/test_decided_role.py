"""AssumeRole issues a session only of the role whose trust policy decided it, and learns
which role that was from the decision itself (``Verdict.read["role_id"]``, handed to the
STS call by the engine as its ``decided`` parameter), not from state shared between the
two: it holds for an authorizer that decides in another context (a worker, a copied
``contextvars`` context), and two decisions of one call that read different roles refuse
it (review 7d H3, done at the decision's depth)."""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Iterator

import pytest

import objstore
from objstore.authz import AuthorizationRequest
from objstore.errors import AccessDenied
from objstore.identity.authorizer import IamAuthorizer

from .helpers import allow, user_client
from .test_web_identity import CLIENT, HOST, ISSUER, jwks, token


def _trust(
    principal: dict[str, str], action: str | list[str] = "sts:AssumeRole", **extra: object
) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, **extra}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    with objstore.open(None) as s:
        yield s


class Interfering:
    """The IAM authorizer, deciding in a copied context (as one handing its work to a
    worker would), and running ``between`` once right after the decision of ``action``."""

    def __init__(self, inner: IamAuthorizer, action: str, between: Callable[[], None]) -> None:
        self.inner = inner
        self.defers_context = True
        self.action = action
        self.between: Callable[[], None] | None = between

    def authorize(self, request: AuthorizationRequest) -> object:
        answer = contextvars.copy_context().run(self.inner.authorize, request)
        if request.action == self.action and self.between is not None:
            between, self.between = self.between, None
            between()
        return answer


def _dev_and_role(store: objstore.Store) -> tuple[objstore.Client, str, str]:
    dev = user_client(store, "dev", allow(["sts:AssumeRole", "sts:TagSession"]))
    trust = _trust(
        {"AWS": f"arn:aws:iam::{store.account_id}:user/dev"}, ["sts:AssumeRole", "sts:TagSession"]
    )
    store.root.iam.create_role("r", trust)
    return dev, f"arn:aws:iam::{store.account_id}:role/r", trust


def _recreate(store: objstore.Store, trust: str) -> Callable[[], None]:
    def run() -> None:
        store.root.iam.delete_role("r")
        store.root.iam.create_role("r", trust)

    return run


@pytest.mark.parametrize("tags", [None, {"team": "a"}])
def test_a_role_re_created_after_the_decision_gets_no_session_in_any_context(
    store: objstore.Store, tags: dict[str, str] | None
) -> None:
    """The new role trusts the caller too: only the id the decision read refuses it."""
    dev, arn, trust = _dev_and_role(store)
    last = "sts:TagSession" if tags else "sts:AssumeRole"
    store.engine.authorizer = Interfering(
        store.engine.authorizer,  # type: ignore[arg-type]
        last,
        _recreate(store, trust),
    )
    with pytest.raises(AccessDenied):
        dev.sts.assume_role(arn, "s1", tags=tags)
    # Decided again, on the new role: issued.
    assert dev.sts.assume_role(arn, "s2", tags=tags).session_token


def test_two_decisions_of_one_call_reading_two_roles_refuse_it(store: objstore.Store) -> None:
    """The role re-created between the sts:AssumeRole and sts:TagSession decisions: the
    engine acts on neither."""
    dev, arn, trust = _dev_and_role(store)
    audited: list[objstore.engine.AuditEvent] = []
    real_audit = store.engine.audit

    def audit(event: objstore.engine.AuditEvent) -> None:
        audited.append(event)
        real_audit(event)

    store.engine.audit = audit
    store.engine.authorizer = Interfering(
        store.engine.authorizer,  # type: ignore[arg-type]
        "sts:AssumeRole",
        _recreate(store, trust),
    )
    with pytest.raises(AccessDenied):
        dev.sts.assume_role(arn, "s1", tags={"team": "a"})
    (event,) = [e for e in audited if e.operation == "AssumeRole"]
    assert event.denied and event.actions == ("sts:AssumeRole", "sts:TagSession")


class Reading:
    """Allows everything, saying its decisions read ``read`` (or answering a plain True)."""

    def __init__(self, read: dict[str, str] | None) -> None:
        self.read = read

    def authorize(self, request: AuthorizationRequest) -> object:
        if self.read is None:
            return True
        return objstore.Verdict(True, read=self.read)


@pytest.mark.parametrize(
    ("read", "issued"),
    [
        (None, True),  # an authorizer that read no trust policy has nothing to hold it to
        ({}, True),
        ({"role_id": "ROLE"}, True),
        ({"role_id": "AROAOTHERROLE00000000"}, False),
        ({"role_id": ""}, False),  # the decision found no such role
    ],
)
def test_the_session_is_issued_for_the_role_the_decision_read(
    store: objstore.Store, read: dict[str, str] | None, issued: bool
) -> None:
    dev, arn, _trust_doc = _dev_and_role(store)
    role_id = store.root.iam.get_role("r").role_id
    if read is not None and read.get("role_id") == "ROLE":
        read = {"role_id": role_id}
    store.engine.authorizer = Reading(read)
    if issued:
        assert dev.sts.assume_role(arn, "s1").session_token
    else:
        with pytest.raises(AccessDenied):
            dev.sts.assume_role(arn, "s1")


def test_web_identity_sessions_follow_the_role_decided(store: objstore.Store) -> None:
    provider = store.root.iam.create_open_id_connect_provider(ISSUER, [CLIENT], jwks=jwks())
    condition = {"StringEquals": {f"{HOST}:aud": CLIENT}}
    trust = _trust(
        {"Federated": provider.arn}, "sts:AssumeRoleWithWebIdentity", Condition=condition
    )
    store.root.iam.create_role("web", trust)
    arn = f"arn:aws:iam::{store.account_id}:role/web"
    anonymous = store.client_for(objstore.Identity.anonymous())

    def recreate() -> None:
        store.root.iam.delete_role("web")
        store.root.iam.create_role("web", trust)

    store.engine.authorizer = Interfering(
        store.engine.authorizer,  # type: ignore[arg-type]
        "sts:AssumeRoleWithWebIdentity",
        recreate,
    )
    with pytest.raises(AccessDenied):
        anonymous.sts.assume_role_with_web_identity(arn, "w1", token())
    assert anonymous.sts.assume_role_with_web_identity(arn, "w2", token()).session_token
