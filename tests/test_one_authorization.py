"""One authorize() call per permission, the fields a read reveals included: GET and HEAD
of a version with Object Lock ask s3:GetObject(Version) with s3:GetObjectRetention and
s3:GetObjectLegalHold as the optional actions of that same request (one read, the
policies gathered once), never again after the read ran; a refused optional action
withholds its fields and never refuses the read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import open_store
from hypothesis import given, settings
from hypothesis import strategies as st
from test_choke_point import LOCKED as CHOKE_LOCKED
from test_choke_point import USER, Recording, invoke, populate, snapshot

import objstore
from objstore.actions import OPERATIONS
from objstore.authz import AuthorizationRequest
from objstore.identity.authorizer import IamAuthorizer

LOCKED = "locked"
END = datetime(2100, 1, 1, tzinfo=UTC)
CRC = {"checksum_algorithm": "CRC32"}
LOCK_ACTIONS = ("s3:GetObjectRetention", "s3:GetObjectLegalHold")
RETENTION = ("object_lock_mode", "object_lock_retain_until_date")
HOLD = ("object_lock_legal_hold_status",)


def _put_locked(store: objstore.Store, key: str = "k") -> str:
    vid = store.root.put_object(
        LOCKED,
        key,
        b"x",
        object_lock_mode="GOVERNANCE",
        object_lock_retain_until_date=END,
        object_lock_legal_hold_status="ON",
        **CRC,
    ).version_id
    assert vid is not None
    return vid


def _read(client: objstore.Client, method: str, **kw: Any) -> dict[str, object]:
    """The Object Lock fields GET or HEAD returns."""
    result = getattr(client, method)(LOCKED, "k", **kw)
    if isinstance(result, objstore.ObjectBody):
        with result:
            assert result.read() == b"x"
    return {name: getattr(result, name) for name in RETENTION + HOLD}


class Counting:
    """The IAM authorizer, recording each request it is asked."""

    def __init__(self, inner: IamAuthorizer) -> None:
        self.inner = inner
        self.defers_context = inner.defers_context
        self.requests: list[AuthorizationRequest] = []

    def authorize(self, request: AuthorizationRequest) -> object:
        self.requests.append(request)
        return self.inner.authorize(request)


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    with open_store(None) as s:
        s.root.create_bucket(LOCKED, object_lock_enabled=True)
        yield s


def _user(store: objstore.Store, name: str, *statements: dict[str, Any]) -> objstore.Client:
    iam = store.root.iam
    iam.create_user(name)
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_user_policy(name, "p", json.dumps(doc))
    key = iam.create_access_key(name)
    return store.client(key.access_key_id, key.secret_access_key)


def _allow(*actions: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}


def _deny(*actions: str) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": list(actions), "Resource": "*"}


def test_the_table_declares_the_lock_reads_as_optional_actions() -> None:
    for name in ("GetObject", "HeadObject"):
        op = OPERATIONS[name]
        assert tuple(r.action for r in op.reveals) == LOCK_ACTIONS
        assert {f for r in op.reveals for f in r.fields} == set(RETENTION + HOLD)


@pytest.mark.parametrize("method", ["get_object", "head_object"])
@pytest.mark.parametrize("versioned", [False, True])
@pytest.mark.parametrize(
    ("statements", "shown"),
    [
        ((_allow("s3:GetObject", "s3:GetObjectVersion"),), ()),
        ((_allow("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectLegalHold"),), HOLD),
        ((_allow("s3:GetObject*"),), RETENTION + HOLD),
        ((_allow("s3:GetObject*"), _deny("s3:GetObjectRetention")), HOLD),
        ((_allow("s3:*"), _deny(*LOCK_ACTIONS)), ()),
    ],
)
def test_a_locked_read_is_one_authorization(
    store: objstore.Store,
    method: str,
    versioned: bool,
    statements: tuple[dict[str, Any], ...],
    shown: tuple[str, ...],
) -> None:
    """Exactly one authorize() call, carrying the lock actions as optional ones; the read
    shows the fields of those allowed, and a refused (even explicitly denied) one never
    refuses the read."""
    vid = _put_locked(store)
    client = _user(store, "reader", *statements)
    counting = Counting(store.engine.authorizer)  # type: ignore[arg-type]
    store.engine.authorizer = counting
    fields = _read(client, method, **({"version_id": vid} if versioned else {}))
    (req,) = counting.requests
    assert req.action == ("s3:GetObjectVersion" if versioned else "s3:GetObject")
    assert req.resource == f"arn:aws:s3:::{LOCKED}/k"
    assert req.optional == LOCK_ACTIONS
    assert {n for n, v in fields.items() if v is not None} == set(shown)
    if "object_lock_legal_hold_status" in shown:
        assert fields["object_lock_legal_hold_status"] == "ON"
    if "object_lock_mode" in shown:
        assert fields["object_lock_mode"] == "GOVERNANCE"


@pytest.mark.parametrize("method", ["get_object", "head_object"])
def test_the_policies_are_gathered_once_per_locked_read(
    store: objstore.Store, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's policies are looked up once for the read and its lock fields (the
    cache lookup of ``policies_for`` is the gather: one per decision)."""
    _put_locked(store)
    client = _user(store, "reader", _allow("s3:GetObject*"))
    real = IamAuthorizer.policies_for
    gathered: list[str] = []

    def policies_for(self: IamAuthorizer, identity: objstore.Identity, generation: int) -> Any:
        gathered.append(identity.arn)
        return real(self, identity, generation)

    monkeypatch.setattr(IamAuthorizer, "policies_for", policies_for)
    fields = _read(client, method)
    assert all(v is not None for v in fields.values())
    assert len(gathered) == 1


def test_a_refused_read_decides_no_lock_action(store: objstore.Store) -> None:
    """A caller refused the read is refused, whatever it may do with the lock."""
    _put_locked(store)
    client = _user(store, "locks", _allow(*LOCK_ACTIONS))
    counting = Counting(store.engine.authorizer)  # type: ignore[arg-type]
    store.engine.authorizer = counting
    for method in ("get_object", "head_object"):
        with pytest.raises(objstore.errors.AccessDenied):
            _read(client, method)
    assert [r.action for r in counting.requests] == ["s3:GetObject", "s3:GetObject"]


class Answering:
    """Allows every action, answering in the given form."""

    def __init__(self, form: str) -> None:
        self.form = form
        self.requests: list[AuthorizationRequest] = []

    def authorize(self, request: AuthorizationRequest) -> object:
        self.requests.append(request)
        if self.form == "bool":
            return True
        if self.form == "all":
            return objstore.Verdict(True, frozenset(request.optional))
        # "unasked": names an optional action the request did not ask, and one it did.
        return objstore.Verdict(True, frozenset({"s3:GetObjectLegalHold", "s3:PutObject"}))


@pytest.mark.parametrize(
    ("form", "shown"),
    [("bool", ()), ("all", RETENTION + HOLD), ("unasked", HOLD)],
)
def test_an_answer_that_does_not_name_an_optional_action_withholds_its_fields(
    form: str, shown: tuple[str, ...]
) -> None:
    """Fail closed: an authorizer answering a plain True allowed the read, not the lock
    fields; one answer per read whatever the form."""
    answering = Answering(form)
    with open_store(None, authorizer=answering) as s:
        s.root.create_bucket(LOCKED, object_lock_enabled=True)
        _put_locked(s)
        answering.requests.clear()
        fields = _read(s.root, "head_object")
        assert len(answering.requests) == 1
        assert {n for n, v in fields.items() if v is not None} == set(shown)


def test_the_root_only_authorizer_shows_the_root_its_lock_fields() -> None:
    with open_store(None, authorizer=objstore.RootOnlyAuthorizer()) as s:
        s.root.create_bucket(LOCKED, object_lock_enabled=True)
        _put_locked(s)
        assert all(v is not None for v in _read(s.root, "get_object").values())


def test_a_bucket_without_object_lock_decides_no_lock_action(store: objstore.Store) -> None:
    """No version there has a lock to show: the read is decided alone."""
    store.root.create_bucket("plain")
    store.root.put_object("plain", "k", b"x")
    client = _user(store, "reader", _allow("s3:GetObject*"))
    counting = Counting(store.engine.authorizer)  # type: ignore[arg-type]
    store.engine.authorizer = counting
    info = client.head_object("plain", "k")
    assert info.object_lock_mode is None and info.object_lock_legal_hold_status is None
    (req,) = counting.requests
    assert (req.action, req.optional) == ("s3:GetObject", ())


@pytest.mark.parametrize("op_name", ["GetObject", "HeadObject"])
def test_the_choke_point_walk_holds_for_a_locked_read(op_name: str) -> None:
    """The choke point walk (test_choke_point.py) on a version with Object Lock: a caller
    allowed nothing is refused and changes nothing; the root is asked exactly the one
    declared request, its lock actions as optional ones."""
    rec = Recording()
    with open_store(None, authorizer=rec) as s:
        populate(s)
        rec.requests.clear()
        invoke(s.root, op_name, bucket=CHOKE_LOCKED)
        (req,) = rec.requests
        assert (req.action, req.optional) == ("s3:GetObject", LOCK_ACTIONS)
    with open_store(None) as s:
        populate(s)
        before = snapshot(s)
        with pytest.raises(objstore.errors.AccessDenied):
            invoke(s.client_for(USER), op_name, bucket=CHOKE_LOCKED)
        assert snapshot(s) == before


_EFFECTS = st.sampled_from([None, "Allow", "Deny"])
_MODEL_ACTIONS = ("s3:GetObject", *LOCK_ACTIONS)
_FIELDS = {"s3:GetObjectRetention": RETENTION, "s3:GetObjectLegalHold": HOLD}


@settings(max_examples=40, deadline=None)
@given(effects=st.tuples(_EFFECTS, _EFFECTS, _EFFECTS), method=st.sampled_from(["get", "head"]))
def test_lock_fields_follow_the_policy_model(
    effects: tuple[str | None, str | None, str | None], method: str
) -> None:
    """Model: the read is allowed iff s3:GetObject is allowed and not denied; a lock
    action's fields are shown iff the read is allowed and that action is allowed and not
    denied. Each read is one authorize() call."""
    with open_store(None) as s:
        s.root.create_bucket(LOCKED, object_lock_enabled=True)
        _put_locked(s)
        statements = [
            {"Effect": effect, "Action": action, "Resource": "*"}
            for action, effect in zip(_MODEL_ACTIONS, effects, strict=True)
            if effect is not None
        ]
        client = _user(s, "u", *statements) if statements else _user(s, "u", _deny("s3:Nothing"))
        counting = Counting(s.engine.authorizer)  # type: ignore[arg-type]
        s.engine.authorizer = counting
        allowed = dict(zip(_MODEL_ACTIONS, (e == "Allow" for e in effects), strict=True))
        if not allowed["s3:GetObject"]:
            with pytest.raises(objstore.errors.AccessDenied):
                _read(client, f"{method}_object")
        else:
            fields = _read(client, f"{method}_object")
            expected = {f for a in LOCK_ACTIONS if allowed[a] for f in _FIELDS[a]}
            assert {n for n, v in fields.items() if v is not None} == expected
        assert len(counting.requests) == 1
