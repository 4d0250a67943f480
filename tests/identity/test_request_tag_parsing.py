"""Review 7c H1: the tags a request sets are parsed once, before anything is decided.

A tag key given twice in AWS's list form (``[{team: eng}, {team: admin}]``) used to be
checked as ``aws:RequestTag/team = eng`` (the first) and stored as ``admin`` (the last).
Now the engine parses the tags first (``Operation.parse``): a repeated key, also in
another case, is refused before any permission is asked (InvalidInput for IAM's
CreateUser/CreateRole/TagUser/TagRole, InvalidParameterValue for STS session tags), and
what the conditions see is the very dict that is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import objstore
from objstore.authz import AuthorizationRequest
from objstore.errors import (
    AccessDenied,
    InvalidInput,
    InvalidParameterValue,
    ObjstoreError,
)
from tests.identity.helpers import allow, policy, user_client

DUP = [{"Key": "team", "Value": "eng"}, {"Key": "team", "Value": "admin"}]
DUP_CASE = [{"Key": "team", "Value": "eng"}, {"Key": "Team", "Value": "admin"}]


class Recording:
    """Allows everything and keeps every request it was asked."""

    def __init__(self) -> None:
        self.requests: list[AuthorizationRequest] = []

    def authorize(self, request: AuthorizationRequest) -> bool:
        self.requests.append(request)
        return True

    def asked(self, operation: str) -> list[AuthorizationRequest]:
        return [r for r in self.requests if r.operation == operation]


@pytest.fixture
def recorded() -> Iterator[tuple[objstore.Store, Recording]]:
    rec = Recording()
    store = objstore.open(None, authorizer=rec)
    yield store, rec
    store.close()


def _trust(account: str) -> str:
    return policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    )


def _request_tags(req: AuthorizationRequest) -> dict[str, object]:
    prefix = "aws:RequestTag/"
    return {k[len(prefix) :]: v for k, v in req.context.items() if k.startswith(prefix)}


@pytest.mark.parametrize("tags", [DUP, DUP_CASE], ids=["same-case", "other-case"])
def test_a_repeated_iam_tag_key_is_refused_before_anything_is_asked(
    recorded: tuple[objstore.Store, Recording], tags: list[dict[str, str]]
) -> None:
    store, rec = recorded
    iam = store.root.iam
    calls = {
        "CreateUser": lambda: iam.create_user("u1", tags=tags),
        "CreateRole": lambda: iam.create_role("r1", _trust(store.account_id), tags=tags),
    }
    iam.create_user("u0")
    iam.create_role("r0", _trust(store.account_id))
    calls["TagUser"] = lambda: iam.tag_user("u0", tags)
    calls["TagRole"] = lambda: iam.tag_role("r0", tags)
    rec.requests.clear()
    for operation, call in calls.items():
        with pytest.raises(InvalidInput, match="Duplicate tag keys found"):
            call()
        assert rec.asked(operation) == [], operation
    assert [u.user_name for u in iam.list_users()] == ["u0"]
    assert [r.role_name for r in iam.list_roles()] == ["r0"]
    assert iam.list_user_tags("u0") == [] and iam.list_role_tags("r0") == []


@pytest.mark.parametrize("tags", [DUP, DUP_CASE], ids=["same-case", "other-case"])
def test_a_repeated_session_tag_key_is_sts_invalid_parameter_value(
    recorded: tuple[objstore.Store, Recording], tags: list[dict[str, str]]
) -> None:
    store, rec = recorded
    role = store.root.iam.create_role("abac", _trust(store.account_id))
    dev = user_client(store, "dev")
    with pytest.raises(InvalidParameterValue, match="Duplicate tag keys found") as err:
        dev.sts.assume_role(role.arn, "s1", tags=tags)  # type: ignore[arg-type]
    assert (err.value.code, err.value.http_status) == ("InvalidParameterValue", 400)
    assert rec.asked("AssumeRole") == []


def _abac_store() -> tuple[objstore.Store, objstore.Client, str]:
    """The reviewer's set-up: dev may tag its session only with team=eng (trust policy)."""
    store = objstore.open(None)
    root, acct = store.root, store.account_id
    root.create_bucket("data")
    root.put_object("data", "admin/secret", b"ADMIN SECRET")
    dev = user_client(
        store, "dev", allow(["sts:AssumeRole", "sts:TagSession"], f"arn:aws:iam::{acct}:role/abac")
    )
    dev_arn = f"arn:aws:iam::{acct}:user/dev"
    trust = policy(
        {"Effect": "Allow", "Principal": {"AWS": dev_arn}, "Action": "sts:AssumeRole"},
        {
            "Effect": "Allow",
            "Principal": {"AWS": dev_arn},
            "Action": "sts:TagSession",
            "Condition": {"StringEquals": {"aws:RequestTag/team": "eng"}},
        },
    )
    root.iam.create_role("abac", trust)
    root.iam.put_role_policy(
        "abac",
        "abac",
        policy(allow("s3:GetObject", "arn:aws:s3:::data/${aws:PrincipalTag/team}/*")),
    )
    return store, dev, f"arn:aws:iam::{acct}:role/abac"


def test_a_session_cannot_be_tagged_admin_through_a_check_of_eng() -> None:
    store, dev, role = _abac_store()
    try:
        with pytest.raises(AccessDenied):
            dev.sts.assume_role(role, "s1", tags={"team": "admin"})  # the control
        for tags in (DUP, DUP_CASE, list(reversed(DUP))):
            with pytest.raises(InvalidParameterValue):
                dev.sts.assume_role(role, "s1", tags=tags)  # type: ignore[arg-type]
        creds = dev.sts.assume_role(role, "s1", tags={"team": "eng"})
        eng = store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)
        with pytest.raises(AccessDenied):
            eng.get_object("data", "admin/secret")
    finally:
        store.close()


def test_a_user_cannot_be_tagged_admin_through_a_check_of_eng() -> None:
    store = objstore.open(None)
    try:
        acct = store.account_id
        admin = user_client(
            store,
            "admin1",
            allow(
                ["iam:CreateUser", "iam:TagUser"],
                f"arn:aws:iam::{acct}:user/*",
                Condition={"StringEquals": {"aws:RequestTag/team": "eng"}},
            ),
        )
        with pytest.raises(AccessDenied):
            admin.iam.create_user("u0", tags={"team": "admin"})
        with pytest.raises(InvalidInput):
            admin.iam.create_user("u1", tags=DUP)
        admin.iam.create_user("u1", tags={"team": "eng"})
        with pytest.raises(InvalidInput):
            admin.iam.tag_user("u1", list(reversed(DUP)))
        assert {t.key: t.value for t in store.root.iam.list_user_tags("u1")} == {"team": "eng"}
    finally:
        store.close()


# --- the property: what a condition sees is what is stored ---------------------------

_KEYS = st.sampled_from(["team", "Team", "TEAM", "env", "cost center", "aws:x", ""])
_VALUES = st.sampled_from(["eng", "admin", "", "a b", "bad\nvalue"])
_ENTRY = st.fixed_dictionaries({"Key": _KEYS, "Value": _VALUES})
_TAGS = st.one_of(
    st.lists(_ENTRY, max_size=4),
    st.dictionaries(_KEYS, _VALUES, max_size=4),
)


def _outcome(call: Any) -> dict[str, str] | ObjstoreError:
    try:
        call()
    except ObjstoreError as exc:
        return exc
    return {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tags=_TAGS)
def test_what_the_condition_sees_is_what_is_stored(tags: Any) -> None:
    """For any tags a request carries: either it is refused and no permission was asked,
    or ``aws:RequestTag/*`` (and ``aws:TagKeys``) of every permission asked are exactly
    the tags the user, the role and the session end up with."""
    rec = Recording()
    store = objstore.open(None, authorizer=rec)
    try:
        iam = store.root.iam
        iam.create_user("dev")
        key = iam.create_access_key("dev")
        dev = store.client(key.access_key_id, key.secret_access_key)
        role = iam.create_role("r", _trust(store.account_id))
        iam.create_user("target")
        calls: list[tuple[str, Any, Any]] = [
            ("TagUser", lambda: iam.tag_user("target", tags), lambda: iam.list_user_tags("target")),
            ("TagRole", lambda: iam.tag_role("r", tags), lambda: iam.list_role_tags("r")),
            (
                "CreateUser",
                lambda: iam.create_user("fresh", tags=tags),
                lambda: iam.list_user_tags("fresh"),
            ),
        ]
        for operation, call, stored in calls:
            rec.requests.clear()
            failed = _outcome(call)
            asked = rec.asked(operation)
            if isinstance(failed, ObjstoreError):
                assert asked == [], (operation, failed)
                continue
            got = {t.key: t.value for t in stored()}
            assert asked, operation
            if got:  # tagging is asked for when tags are set (also by CreateUser)
                assert any(r.action.startswith("iam:Tag") for r in asked), operation
            for req in asked:
                assert _request_tags(req) == got
                keys = req.context.get("aws:TagKeys", [])
                assert sorted(keys) == sorted(got)  # type: ignore[call-overload]
        rec.requests.clear()
        try:
            creds = dev.sts.assume_role(role.arn, "s1", tags=tags)
        except ObjstoreError:
            assert rec.asked("AssumeRole") == []
            return
        session = store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)
        tag_session = [r for r in rec.asked("AssumeRole") if r.action == "sts:TagSession"]
        if session.identity.tags:
            assert [_request_tags(r) for r in tag_session] == [dict(session.identity.tags)]
        else:
            assert tag_session == []
    finally:
        store.close()
