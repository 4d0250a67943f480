"""Review 7c H2 + M1: who a role's trust policy lets in, and that STS needs credentials.

H2: an anonymous caller (an unsigned request; ``store.client_for(Identity.anonymous())``)
got role credentials when the trust policy named ``"*"``. AWS serves only
AssumeRoleWithWebIdentity/AssumeRoleWithSAML unsigned; every other IAM/STS call is
MissingAuthenticationToken (403), refused by ``session_rules.check_scope`` before any
policy, by the STS handlers themselves (also under another authorizer) and by the IAM
authorizer's trust decision.

M1 (fail closed): only a trust policy naming the caller itself (Grant.DIRECT: its user
ARN or unique id, session ARN, service or provider) lets it in without an allow in its
own policies; naming the account, ``"*"`` or (for a session) its role needs one too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import objstore
from objstore.actions import OPERATIONS
from objstore.authz import AuthorizationRequest, Identity
from objstore.errors import AccessDenied, MissingAuthenticationToken
from objstore.identity.session_rules import UNSIGNED_ACTIONS, check_scope
from tests.identity.helpers import allow, policy, user_client
from tests.identity.test_web_identity import CLIENT, ISSUER, jwks, token

ANONYMOUS = Identity.anonymous()


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    s = objstore.open(None)
    s.root.create_bucket("private")
    s.root.put_object("private", "payroll.csv", b"salaries")
    yield s
    s.close()


def _trust(principal: Any, **statement: Any) -> str:
    return policy(
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **statement}
    )


def _role(store: objstore.Store, principal: Any, name: str = "app", **statement: Any) -> str:
    role = store.root.iam.create_role(name, _trust(principal, **statement))
    store.root.iam.attach_role_policy(name, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    return role.arn


def _may_assume(client: objstore.Client, role_arn: str) -> bool:
    try:
        client.sts.assume_role(role_arn, "s1")
    except MissingAuthenticationToken:
        raise
    except AccessDenied:
        return False
    return True


# --- H2: anonymous callers ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, op in OPERATIONS.items() if op.facade != "client"))
def test_anonymous_callers_may_call_no_iam_or_sts_operation_but_web_identity(name: str) -> None:
    op = OPERATIONS[name]
    if name in UNSIGNED_ACTIONS:
        check_scope(ANONYMOUS, op)
        return
    with pytest.raises(MissingAuthenticationToken) as err:
        check_scope(ANONYMOUS, op)
    assert (err.value.code, err.value.http_status) == ("MissingAuthenticationToken", 403)


@pytest.mark.parametrize(
    "trust",
    [{"AWS": "*"}, "*", {"AWS": "*", "Condition": {"StringEquals": {"sts:ExternalId": "p-42"}}}],
    ids=["aws-star", "star", "star-with-external-id"],
)
def test_an_anonymous_caller_never_assumes_a_role(store: objstore.Store, trust: Any) -> None:
    extra = {}
    if isinstance(trust, dict) and "Condition" in trust:
        trust = dict(trust)
        extra = {"Condition": trust.pop("Condition")}
    arn = _role(store, trust, **extra)
    anonymous = store.client_for(ANONYMOUS)
    with pytest.raises(MissingAuthenticationToken):
        anonymous.sts.assume_role(arn, "anon", external_id="p-42")
    with pytest.raises(MissingAuthenticationToken):
        anonymous.sts.get_caller_identity()
    with pytest.raises(MissingAuthenticationToken):
        anonymous.sts.get_session_token()
    with pytest.raises(MissingAuthenticationToken):
        anonymous.iam.list_users()


def test_the_trust_decision_itself_refuses_the_anonymous_caller(store: objstore.Store) -> None:
    """The IAM authorizer, asked directly (as another engine would), does not let the
    anonymous caller in through "*" either."""
    arn = _role(store, "*")
    for action in ("sts:AssumeRole", "sts:TagSession"):
        request = AuthorizationRequest(
            principal=ANONYMOUS,
            action=action,
            resource=arn,
            context={},
            operation="AssumeRole",
            resource_account=store.account_id,
        )
        assert not store.identity.authorizer.authorize(request)


class _AllowAll:
    def authorize(self, request: AuthorizationRequest) -> bool:
        return True


def test_sts_refuses_the_anonymous_caller_under_any_authorizer() -> None:
    store = objstore.open(None, authorizer=_AllowAll())
    try:
        arn = store.root.iam.create_role("app", _trust("*")).arn
        anonymous = store.client_for(ANONYMOUS)
        with pytest.raises(MissingAuthenticationToken):
            anonymous.sts.assume_role(arn, "anon")
        with pytest.raises(MissingAuthenticationToken):
            anonymous.sts.get_caller_identity()
        service = store.identity.service
        with pytest.raises(MissingAuthenticationToken):  # the handler, past the engine
            service.assume_role(arn, "anon", ANONYMOUS)
        with pytest.raises(MissingAuthenticationToken):
            service.get_caller_identity(ANONYMOUS)
    finally:
        store.close()


# --- M1: what naming the caller lets in -----------------------------------------------


def test_star_or_the_account_needs_an_identity_allow(store: objstore.Store) -> None:
    acct = store.account_id
    star = _role(store, {"AWS": "*"}, "star")
    account = _role(store, {"AWS": f"arn:aws:iam::{acct}:root"}, "account")
    bare_account = _role(store, {"AWS": acct}, "bare-account")
    nobody = user_client(store, "nobody")
    for arn in (star, account, bare_account):
        assert not _may_assume(nobody, arn), arn
    allowed = user_client(store, "allowed", allow("sts:AssumeRole", "*"))
    for arn in (star, account, bare_account):
        assert _may_assume(allowed, arn), arn


def test_naming_the_caller_directly_suffices_alone(store: objstore.Store) -> None:
    alice = store.root.iam.create_user("alice")
    by_arn = _role(store, {"AWS": alice.arn}, "by-arn")
    client = store.client(*_key(store, "alice"))
    assert _may_assume(client, by_arn)
    bob = user_client(store, "bob")  # named nowhere, no policy
    assert not _may_assume(bob, by_arn)


def test_naming_a_sessions_role_needs_an_identity_allow(store: objstore.Store) -> None:
    """Role chaining: the trust of ``target`` names role ``first``; its sessions get in only
    with an allow of sts:AssumeRole in ``first``'s policies (Grant.ROLE is not DIRECT)."""
    dev = user_client(store, "dev", allow("sts:AssumeRole", "*"))
    first = store.root.iam.create_role(
        "first", _trust({"AWS": f"arn:aws:iam::{store.account_id}:user/dev"})
    )
    target = _role(store, {"AWS": first.arn}, "target")
    creds = dev.sts.assume_role(first.arn, "s0")
    session = store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)
    assert not _may_assume(session, target)
    store.root.iam.put_role_policy("first", "chain", policy(allow("sts:AssumeRole", target)))
    assert _may_assume(session, target)


def test_a_web_identity_needs_the_trust_to_name_its_provider(store: objstore.Store) -> None:
    iam = store.root.iam
    provider = iam.create_open_id_connect_provider(ISSUER, [CLIENT], jwks=jwks())
    star = iam.create_role(
        "web-star",
        policy({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity"}),
    )
    named = iam.create_role(
        "web-named",
        policy(
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider.arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ),
    )
    anonymous = store.client_for(ANONYMOUS)
    with pytest.raises(AccessDenied):
        anonymous.sts.assume_role_with_web_identity(star.arn, "w1", token(sub="u1"))
    creds = anonymous.sts.assume_role_with_web_identity(named.arn, "w1", token(sub="u1"))
    assert creds.access_key_id.startswith("ASIA")


def _key(store: objstore.Store, name: str) -> tuple[str, str]:
    key = store.root.iam.create_access_key(name)
    return key.access_key_id, key.secret_access_key
