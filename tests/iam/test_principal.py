"""Principals: ARN parsing, derived context keys, and Principal/NotPrincipal matching."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.errors import InvalidInput
from objstore.iam.evaluate import evaluate
from objstore.iam.policy import Policy
from objstore.iam.principal import (
    Grant,
    Principal,
    PrincipalElement,
    PrincipalType,
    as_principal,
)

from .cases.model import ACCOUNT_A as M_ACCOUNT_A
from .cases.model import ALICE as M_ALICE
from .cases.model import BOB as M_BOB
from .cases.model import DAVE_B as M_DAVE_B
from .cases.model import ROLE as M_ROLE
from .cases.model import SESSION as M_SESSION
from .strategies import principal_elements

A = "111122223333"
B = "444455556666"
ROOT = f"arn:aws:iam::{A}:root"
ALICE = f"arn:aws:iam::{A}:user/alice"
DANA = f"arn:aws:iam::{A}:user/division/team/dana"
ROLE = f"arn:aws:iam::{A}:role/Reader"
PATHED_ROLE = f"arn:aws:iam::{A}:role/app/Reader"
SESSION = f"arn:aws:sts::{A}:assumed-role/Reader/sess1"
OTHER_SESSION = f"arn:aws:sts::{A}:assumed-role/Reader/sess2"
FED = f"arn:aws:sts::{A}:federated-user/carol"
OIDC = f"arn:aws:iam::{A}:oidc-provider/token.example.com"


@pytest.mark.parametrize(
    ("arn", "ptype", "account"),
    [
        (ROOT, PrincipalType.ROOT, A),
        (ALICE, PrincipalType.USER, A),
        (DANA, PrincipalType.USER, A),
        (ROLE, PrincipalType.ROLE, A),
        (SESSION, PrincipalType.ASSUMED_ROLE, A),
        (FED, PrincipalType.FEDERATED_USER, A),
        (OIDC, PrincipalType.WEB_IDENTITY, A),
        (f"arn:aws-cn:iam::{B}:user/x", PrincipalType.USER, B),
    ],
)
def test_from_arn_types(arn: str, ptype: PrincipalType, account: str) -> None:
    """Each principal ARN form is recognised with its account."""
    p = Principal.from_arn(arn)
    assert (p.type, p.account, p.arn) == (ptype, account, arn)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::1111:user/alice",
        "arn:aws:iam::111122223333:group/devs",
        "arn:aws:iam::111122223333:user/",
        "arn:aws:s3:::bucket",
        "arn:aws:sts::111122223333:assumed-role/OnlyRole",
        "arn:aws:iam::111122223333:user/a b",
        "user/alice",
        "",
    ],
)
def test_from_arn_rejects(arn: str) -> None:
    """Strings that are not principal ARNs raise InvalidInput."""
    with pytest.raises(InvalidInput):
        Principal.from_arn(arn)


def test_user_context_values() -> None:
    """A user supplies username, ARN, account, type, tags; user id only when known."""
    p = Principal.from_arn(DANA, user_id="AIDAEXAMPLE", tags={"team": "blue"})
    values = p.context_values()
    assert values["aws:username"] == "dana"
    assert values["aws:PrincipalArn"] == DANA
    assert values["aws:PrincipalAccount"] == A
    assert values["aws:PrincipalType"] == "User"
    assert values["aws:userid"] == "AIDAEXAMPLE"
    assert values["aws:PrincipalTag/team"] == "blue"
    assert values["aws:PrincipalIsAWSService"] is False
    assert "aws:userid" not in Principal.from_arn(ALICE).context_values()


def test_session_context_values() -> None:
    """A role session's PrincipalArn is its role; it has no username."""
    p = Principal.from_arn(SESSION)
    values = p.context_values()
    assert values["aws:PrincipalArn"] == ROLE
    assert values["aws:PrincipalType"] == "AssumedRole"
    assert "aws:username" not in values
    assert p.session_name == "sess1"
    assert p.role_name == "Reader"
    pathed = Principal.from_arn(SESSION, role_arn=PATHED_ROLE)
    assert pathed.context_values()["aws:PrincipalArn"] == PATHED_ROLE


def test_root_federated_anonymous_service_values() -> None:
    """Root's user id is the account; federated users get account:name; anonymous and
    services get their own keys."""
    root = Principal.from_arn(ROOT).context_values()
    assert root["aws:userid"] == A and root["aws:PrincipalType"] == "Account"
    assert "aws:username" not in root
    fed = Principal.from_arn(FED).context_values()
    assert fed["aws:userid"] == f"{A}:carol" and fed["aws:PrincipalType"] == "FederatedUser"
    anon = Principal.anonymous().context_values()
    assert anon["aws:PrincipalType"] == "Anonymous" and "aws:PrincipalArn" not in anon
    svc = Principal.service("ec2.amazonaws.com").context_values()
    assert svc["aws:PrincipalServiceName"] == "ec2.amazonaws.com"
    assert svc["aws:PrincipalIsAWSService"] is True


def test_as_principal_forms() -> None:
    """ARNs, account ids, services and 'anonymous' are all accepted."""
    assert as_principal(ALICE).type is PrincipalType.USER
    assert as_principal(A).arn == ROOT
    assert as_principal("ec2.amazonaws.com").type is PrincipalType.SERVICE
    assert as_principal("anonymous").type is PrincipalType.ANONYMOUS
    p = Principal.from_arn(ALICE)
    assert as_principal(p) is p
    for bad in ("", "Anonymous!", "arn:aws:s3:::b", "alice"):
        with pytest.raises(InvalidInput):
            as_principal(bad)
    with pytest.raises(InvalidInput):
        as_principal(42)  # type: ignore[arg-type]


def _el(raw: object) -> PrincipalElement:
    return PrincipalElement.compile(raw)


@pytest.mark.parametrize(
    ("element", "caller", "grant"),
    [
        ("*", ALICE, Grant.EVERYONE),
        ("*", "anonymous", Grant.EVERYONE),
        ({"AWS": "*"}, "anonymous", Grant.EVERYONE),
        ({"AWS": "*"}, "ec2.amazonaws.com", Grant.EVERYONE),
        ({"AWS": ALICE}, ALICE, Grant.DIRECT),
        ({"AWS": ALICE}, DANA, Grant.NONE),
        ({"AWS": DANA}, DANA, Grant.DIRECT),
        ({"AWS": A}, ALICE, Grant.ACCOUNT),
        ({"AWS": ROOT}, ALICE, Grant.ACCOUNT),
        ({"AWS": ROOT}, ROOT, Grant.DIRECT),
        ({"AWS": A}, f"arn:aws:iam::{B}:user/alice", Grant.NONE),
        ({"AWS": ROLE}, SESSION, Grant.ROLE),
        ({"AWS": PATHED_ROLE}, SESSION, Grant.ROLE),
        ({"AWS": ROLE}, ROLE, Grant.ROLE),
        ({"AWS": SESSION}, SESSION, Grant.DIRECT),
        ({"AWS": SESSION}, OTHER_SESSION, Grant.NONE),
        ({"AWS": [ROLE, SESSION, A]}, SESSION, Grant.DIRECT),
        ({"AWS": FED}, FED, Grant.DIRECT),
        ({"AWS": ALICE}, "anonymous", Grant.NONE),
        ({"Service": "ec2.amazonaws.com"}, "ec2.amazonaws.com", Grant.DIRECT),
        ({"Service": "ec2.amazonaws.com"}, "s3.amazonaws.com", Grant.NONE),
        ({"Federated": OIDC}, OIDC, Grant.DIRECT),
        ({"Federated": "accounts.google.com"}, ALICE, Grant.NONE),
    ],
)
def test_grant(element: object, caller: str, grant: Grant) -> None:
    """The element names the caller as specifically as its form says."""
    assert _el(element).grant(as_principal(caller)) is grant


def test_canonical_user() -> None:
    """CanonicalUser ids match a principal carrying that id, case-insensitively."""
    cid = "a" * 64
    p = Principal.from_arn(ALICE, canonical_user=cid.upper())
    assert _el({"CanonicalUser": cid}).grant(p) is Grant.DIRECT
    assert _el({"CanonicalUser": cid}).grant(Principal.from_arn(ALICE)) is Grant.NONE


@pytest.mark.parametrize(
    "raw",
    [
        "alice",
        {},
        {"AWS": []},
        {"AWS": 5},
        {"aws": ALICE},
        {"AWS": "arn:aws:iam::111122223333:user/*"},
        {"AWS": "arn:aws:iam::*:root"},
        {"AWS": "1234"},
        {"AWS": "arn:aws:s3:::bucket"},
        {"AWS": OIDC},
        {"Service": "EC2"},
        {"Service": "ec2"},
        {"Federated": "not a provider"},
        {"CanonicalUser": "abc"},
        ["*"],
    ],
)
def test_compile_rejects(raw: object) -> None:
    """Invalid Principal values raise ValueError with a message."""
    with pytest.raises(ValueError, match=r"."):
        _el(raw)


@pytest.mark.parametrize(
    ("listed", "caller", "exempt"),
    [
        ([ALICE, ROOT], ALICE, True),
        ([ALICE], ALICE, False),  # the account must be listed too
        ([A], ALICE, False),  # and the user itself
        ([ROOT], ROOT, True),
        ([SESSION, ROLE, ROOT], SESSION, True),
        ([SESSION, ROLE, ROOT], OTHER_SESSION, False),
        ([ROLE, ROOT], SESSION, False),
        ([SESSION, ROOT], SESSION, False),
        ([ROLE, ROOT], ROLE, True),
        ([FED, ROOT], FED, True),
        ([ALICE, ROOT], "anonymous", False),
    ],
)
def test_not_principal_exemption(listed: list[str], caller: str, exempt: bool) -> None:
    """NotPrincipal exempts a caller only when each of its identities is listed."""
    element = _el({"AWS": listed})
    assert element.excludes(as_principal(caller), has_boundary=False) is exempt


def test_not_principal_everyone_and_services() -> None:
    """'*' exempts everyone; services and providers are exempt when listed."""
    assert _el("*").excludes(as_principal("anonymous"), has_boundary=False)
    svc = as_principal("ec2.amazonaws.com")
    assert _el({"Service": "ec2.amazonaws.com"}).excludes(svc, has_boundary=False)
    assert not _el({"AWS": ALICE}).excludes(svc, has_boundary=False)


def test_not_principal_with_boundary_never_exempts_iam_identities() -> None:
    """AWS documents that a NotPrincipal deny applies to users and roles with a boundary."""
    element = _el({"AWS": [ALICE, ROOT]})
    assert not element.excludes(as_principal(ALICE), has_boundary=True)
    assert element.excludes(as_principal(ROOT), has_boundary=True)


# --- bound principals (a user or role named by its unique id; review of issue 7) --------

ALICE_ID = "AIDAALICE0000000000001"
OTHER_ALICE_ID = "AIDAALICE0000000000002"
READER_ID = "AROAREADER000000000001"
BOB_B = f"arn:aws:iam::{B}:user/bob"


def _alice(user_id: str | None) -> Principal:
    return Principal.from_arn(ALICE, user_id=user_id)


def _session(user_id: str | None) -> Principal:
    return Principal.from_arn(SESSION, user_id=user_id, role_arn=ROLE)


def test_bound_user_is_named_by_its_id_only() -> None:
    element = PrincipalElement.compile({"AWS": [ALICE, ROLE, BOB_B]})
    assert element.entity_arns == frozenset({ALICE, ROLE, BOB_B})
    assert element.grant(_alice(OTHER_ALICE_ID)) is Grant.DIRECT  # unbound: by ARN
    bound = element.bind(A, {ALICE: ALICE_ID, ROLE: READER_ID})
    assert bound.grant(_alice(ALICE_ID)) is Grant.DIRECT
    assert bound.grant(_alice(OTHER_ALICE_ID)) is Grant.NONE
    assert bound.grant(_alice(None)) is Grant.NONE
    assert bound.grant(_session(f"{READER_ID}:sess1")) is Grant.ROLE
    assert bound.grant(_session("AROAOTHERREADER000001:sess1")) is Grant.NONE
    # Another account's ARN is not this store's to bind: still matched by ARN.
    assert bound.grant(Principal.from_arn(BOB_B, user_id="AIDAX")) is Grant.DIRECT
    # The binding is applied to a copy.
    assert element.grant(_alice(OTHER_ALICE_ID)) is Grant.DIRECT


def test_arn_left_out_of_a_binding_names_nobody() -> None:
    bound = PrincipalElement.compile({"AWS": [ALICE, ROLE, A]}).bind(A, {})
    assert bound.grant(_alice(ALICE_ID)) is Grant.ACCOUNT
    assert bound.grant(_session(f"{READER_ID}:sess1")) is Grant.ACCOUNT
    assert PrincipalElement.compile({"AWS": ALICE}).bind(A, {}).grant(_alice(ALICE_ID)) is (
        Grant.NONE
    )


def test_bound_not_principal_exempts_only_the_bound_entity() -> None:
    element = PrincipalElement.compile({"AWS": [ALICE, A, ROLE, SESSION]})
    bound = element.bind(A, {ALICE: ALICE_ID, ROLE: READER_ID})
    assert bound.excludes(_alice(ALICE_ID), has_boundary=False)
    assert not bound.excludes(_alice(OTHER_ALICE_ID), has_boundary=False)
    assert bound.excludes(_session(f"{READER_ID}:sess1"), has_boundary=False)
    assert not bound.excludes(_session("AROAOTHERREADER000001:sess1"), has_boundary=False)


def test_a_unique_id_names_that_entity_alone() -> None:
    """What a store shows for a deleted user or role (review 7b, H4): a unique id as an AWS
    principal names the caller with that id, bound or not, and nobody else."""
    user_id, role_id = "AIDAALICE000000000001", "AROAREADER00000000001"
    element = PrincipalElement.compile({"AWS": [user_id, role_id]})
    assert element.entity_arns == frozenset()
    assert element.grant(_alice(user_id)) is Grant.DIRECT
    assert element.grant(_alice(OTHER_ALICE_ID)) is Grant.NONE
    assert element.grant(_alice(None)) is Grant.NONE
    assert element.grant(_session(f"{role_id}:sess1")) is Grant.ROLE
    assert element.grant(_session(f"{READER_ID}:sess1")) is Grant.NONE
    assert element.bind(A, {}).grant(_alice(user_id)) is Grant.DIRECT
    assert element.excludes(_alice(user_id), has_boundary=False) is (
        PrincipalElement.compile({"AWS": [ALICE]}).excludes(_alice(user_id), has_boundary=False)
    )
    for bad in (user_id.lower(), user_id[:-1], user_id + "A", "AGPA" + user_id[4:]):
        with pytest.raises(ValueError):
            PrincipalElement.compile({"AWS": bad})


def test_policy_bind_principals_keeps_the_document() -> None:
    text = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'
        + ALICE
        + '"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}'
    )
    policy = Policy.from_json(text, kind="resource")
    assert policy.principal_arns == frozenset({ALICE})
    bound = policy.bind_principals(A, {ALICE: ALICE_ID})
    assert bound.source == text and bound is not policy
    for who, allowed in ((_alice(ALICE_ID), True), (_alice(OTHER_ALICE_ID), False)):
        decision = evaluate(who, "s3:GetObject", "arn:aws:s3:::b/k", resource_policy=bound)
        assert decision.allowed is allowed
    assert evaluate(
        _alice(OTHER_ALICE_ID), "s3:GetObject", "arn:aws:s3:::b/k", resource_policy=policy
    ).allowed


# Property: a bound element names a caller exactly as the unbound element would with the
# own-account user/role ARNs kept only where the binding holds the caller's current id.
_TRUE_IDS = {M_ALICE: "AIDAALICE", M_BOB: "AIDABOB", M_ROLE: "AROAREADER"}


def _caller(which: str, recreated: bool) -> tuple[Principal, str | None]:
    """(caller, the ARN of the user/role it is) with its true or a fresh unique id."""
    suffix = "2" if recreated else ""
    if which == "alice":
        return Principal.from_arn(M_ALICE, user_id="AIDAALICE" + suffix), M_ALICE
    if which == "bob":
        return Principal.from_arn(M_BOB, user_id="AIDABOB" + suffix), M_BOB
    if which == "session":
        user_id = f"AROAREADER{suffix}:sess1"
        return Principal.from_arn(M_SESSION, user_id=user_id, role_arn=M_ROLE), M_ROLE
    if which == "dave":
        return Principal.from_arn(M_DAVE_B, user_id="AIDADAVE"), None
    return Principal.from_arn(f"arn:aws:iam::{M_ACCOUNT_A}:root"), None


@settings(max_examples=300, deadline=None)
@given(
    raw=principal_elements(),
    bound_arns=st.sets(st.sampled_from(sorted(_TRUE_IDS))),
    which=st.sampled_from(["alice", "bob", "session", "dave", "root"]),
    recreated=st.booleans(),
)
def test_binding_matches_the_model(
    raw: object, bound_arns: set[str], which: str, recreated: bool
) -> None:
    caller, entity = _caller(which, recreated)
    bound = PrincipalElement.compile(raw).bind(M_ACCOUNT_A, {a: _TRUE_IDS[a] for a in bound_arns})

    def kept(value: str) -> bool:
        if value not in _TRUE_IDS:
            return True
        return value in bound_arns and not (value == entity and recreated)

    model_raw = raw
    if isinstance(raw, dict) and "AWS" in raw:
        values = raw["AWS"] if isinstance(raw["AWS"], list) else [raw["AWS"]]
        model_raw = {**raw, "AWS": [v for v in values if kept(v)]}
        if not model_raw["AWS"]:
            del model_raw["AWS"]
    if not model_raw:
        assert bound.grant(caller) is Grant.NONE
        assert not bound.excludes(caller, has_boundary=False)
        return
    model = PrincipalElement.compile(model_raw)
    assert bound.grant(caller) is model.grant(caller)
    assert bound.excludes(caller, has_boundary=False) is model.excludes(caller, has_boundary=False)
