"""A caller whose user was renamed or moved is followed inside its one authorization: the
IAM authorizer finds the user by unique id and decides the question rebuilt for the user
as it is now (``AuthorizationRequest.rebuild``, ``Verdict.request``); the engine runs the
rest of the call as that user. No call is run twice, and each permission is asked once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import objstore
from objstore.authz import AuthorizationRequest
from objstore.engine import AuditEvent
from objstore.errors import InvalidClientTokenId
from objstore.identity.authorizer import IamAuthorizer
from objstore.identity.gather import PrincipalPolicies

from .helpers import allow, user_client

B = "data"


class Counting:
    """The store's authorizer, recording each request and each answer."""

    def __init__(self, inner: IamAuthorizer) -> None:
        self.inner = inner
        self.defers_context = True
        self.asked: list[AuthorizationRequest] = []
        self.answers: list[object] = []

    def authorize(self, request: AuthorizationRequest) -> object:
        self.asked.append(request)
        answer = self.inner.authorize(request)
        self.answers.append(answer)
        return answer


def _of_users(counting: Counting) -> list[AuthorizationRequest]:
    """The requests asked for the user (not those of the root renaming it)."""
    return [r for r in counting.asked if r.principal.kind == "user"]


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    with objstore.open(None) as s:
        s.root.create_bucket(B)
        s.root.put_object(B, "k", b"v")
        yield s


def _watch(store: objstore.Store) -> tuple[Counting, list[AuditEvent]]:
    counting = Counting(store.engine.authorizer)  # type: ignore[arg-type]
    store.engine.authorizer = counting
    events: list[AuditEvent] = []
    real = store.engine.audit

    def audit(event: AuditEvent) -> None:
        events.append(event)
        real(event)

    store.engine.audit = audit
    return counting, events


@pytest.mark.parametrize("temporary", [False, True])
def test_a_renamed_caller_is_decided_once_as_the_renamed_user(
    store: objstore.Store, temporary: bool
) -> None:
    client = user_client(store, "a", allow("s3:GetObject"))
    if temporary:
        cr = client.sts.get_session_token(duration_seconds=900)
        client = store.client(cr.access_key_id, cr.secret_access_key, cr.session_token)
    store.root.iam.update_user("a", new_user_name="b")
    counting, events = _watch(store)
    assert client.get_object(B, "k").read() == b"v"
    (asked,) = counting.asked
    assert asked.principal.arn.endswith(":user/a")
    (answer,) = counting.answers
    decided = answer.request  # type: ignore[attr-defined]
    assert decided.principal.arn.endswith(":user/b") and decided.principal.name == "b"
    (event,) = events
    assert (event.operation, event.outcome) == ("GetObject", "ok")
    assert event.principal.endswith(":user/b")


def test_a_self_service_call_is_asked_about_the_renamed_user(store: objstore.Store) -> None:
    """``user_name=None`` names the caller: its resource is rebuilt for the new name, so a
    policy allowing the caller only itself (``${aws:username}``) still allows it."""
    account = store.account_id
    client = user_client(
        store, "a", allow("iam:GetUser", f"arn:aws:iam::{account}:user/${{aws:username}}")
    )
    store.root.iam.update_user("a", new_user_name="b")
    counting, events = _watch(store)
    assert client.iam.get_user().user_name == "b"
    assert len(counting.asked) == 1
    (event,) = events
    assert event.resources == (f"arn:aws:iam::{account}:user/b",)
    assert event.principal == f"arn:aws:iam::{account}:user/b"


def test_a_user_moved_while_decided_is_decided_as_moved(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moved to another path between the credential check and the policy load (the move
    shows in the user record of the new generation): still one authorize() call."""
    client = user_client(store, "a", allow("s3:GetObject"))
    real = IamAuthorizer.policies_for
    fired: list[int] = []

    def policies_for(
        self: IamAuthorizer, identity: objstore.Identity, generation: int
    ) -> PrincipalPolicies:
        if identity.kind == "user" and not fired:
            fired.append(1)
            store.root.iam.update_user("a", new_path="/team/")
        return real(self, identity, generation)

    monkeypatch.setattr(IamAuthorizer, "policies_for", policies_for)
    counting, events = _watch(store)
    assert client.get_object(B, "k").read() == b"v"
    assert fired and len(_of_users(counting)) == 1
    (event,) = [e for e in events if e.operation == "GetObject"]
    assert event.principal.endswith(":user/team/a")


def test_a_caller_renamed_at_every_decision_is_refused(
    store: objstore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user renamed again each time it is found is followed a few times, then its
    credentials are refused (as the engine's re-runs were bounded before)."""
    client = user_client(store, "u0", allow("s3:GetObject"))
    real = IamAuthorizer.policies_for
    renames: list[str] = []

    def policies_for(
        self: IamAuthorizer, identity: objstore.Identity, generation: int
    ) -> PrincipalPolicies:
        if identity.kind == "user" and len(renames) < 20:
            new = f"u{len(renames) + 1}"
            store.root.iam.update_user(identity.name or "", new_user_name=new)
            renames.append(new)
        return real(self, identity, generation)

    monkeypatch.setattr(IamAuthorizer, "policies_for", policies_for)
    counting, events = _watch(store)
    with pytest.raises(InvalidClientTokenId):
        client.get_object(B, "k")
    assert len(_of_users(counting)) == 1
    assert 1 < len(renames) < 20
    (event,) = [e for e in events if e.operation == "GetObject"]
    assert event.denied and event.outcome == "InvalidClientTokenId"


def test_a_batch_call_follows_the_renamed_user_from_its_first_item(store: objstore.Store) -> None:
    """DeleteObjects decides each key; the first decision finds the rename and the later
    keys are asked for the renamed user directly (one question each)."""
    store.root.put_object(B, "k2", b"v")
    client = user_client(store, "a", allow("s3:DeleteObject"))
    store.root.iam.update_user("a", new_user_name="b")
    counting, events = _watch(store)
    out = client.delete_objects(B, ["k", "k2"])
    assert [type(r) for r in out] == [objstore.DeletedObject] * 2
    assert [r.principal.name for r in counting.asked] == ["a", "b"]
    (event,) = events
    assert event.principal.endswith(":user/b") and not event.denied
