"""AssumeRoleWithWebIdentity: OIDC tokens of a registered provider, verified before the trust
policy (which names the provider and may condition on HOST:aud and HOST:sub) decides."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import objstore
from objstore.errors import AccessDenied, ExpiredTokenException, InvalidIdentityToken

ISSUER = "https://login.example.com"
HOST = "login.example.com"
CLIENT = "my-app"

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_KEY.public_key()))
    public.update(kid="k1", use="sig", alg="RS256")
    return {"keys": [public]}


def token(key: Any = _KEY, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "user-1", "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def store() -> objstore.Store:
    s = objstore.open(None)
    iam = s.root.iam
    provider = iam.create_open_id_connect_provider(ISSUER, [CLIENT], jwks=jwks())
    assert provider.arn == f"arn:aws:iam::{s.account_id}:oidc-provider/{HOST}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider.arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{HOST}:aud": CLIENT, f"{HOST}:sub": "user-1"}},
            }
        ],
    }
    iam.create_role("web", json.dumps(trust))
    iam.attach_role_policy("web", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    s.root.create_bucket("bkt")
    return s


def role_arn(store: objstore.Store) -> str:
    return f"arn:aws:iam::{store.account_id}:role/web"


def test_a_valid_token_gets_the_role(store: objstore.Store) -> None:
    anonymous = store.client_for(objstore.Identity.anonymous())
    creds = anonymous.sts.assume_role_with_web_identity(role_arn(store), "web-1", token())
    session = store.client(creds.access_key_id, creds.secret_access_key, creds.session_token)
    assert session.identity.arn.endswith(":assumed-role/web/web-1")
    session.list_objects("bkt")
    with pytest.raises(AccessDenied):
        session.put_object("bkt", "k", b"x")


def test_trust_conditions_on_sub(store: objstore.Store) -> None:
    anonymous = store.client_for(objstore.Identity.anonymous())
    with pytest.raises(AccessDenied):
        anonymous.sts.assume_role_with_web_identity(role_arn(store), "w", token(sub="user-2"))


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (lambda: token(key=_OTHER), InvalidIdentityToken),
        (lambda: token(aud="other-app"), InvalidIdentityToken),
        (lambda: token(iss="https://evil.example.com"), InvalidIdentityToken),
        (
            lambda: token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
            ExpiredTokenException,
        ),
        (lambda: token(nbf=int(time.time()) + 3600), InvalidIdentityToken),
        (lambda: "not.a.jwt", InvalidIdentityToken),
    ],
)
def test_bad_tokens_are_refused(store: objstore.Store, bad: Any, error: type[Exception]) -> None:
    anonymous = store.client_for(objstore.Identity.anonymous())
    before = store.identity.repo.generation()
    with pytest.raises(error):
        anonymous.sts.assume_role_with_web_identity(role_arn(store), "w", bad())
    assert store.identity.repo.generation() == before


def test_provider_management(store: objstore.Store) -> None:
    iam = store.root.iam
    (provider,) = iam.list_open_id_connect_providers()
    assert iam.get_open_id_connect_provider(provider.arn).client_id_list == (CLIENT,)
    iam.delete_open_id_connect_provider(provider.arn)
    anonymous = store.client_for(objstore.Identity.anonymous())
    with pytest.raises(InvalidIdentityToken):
        anonymous.sts.assume_role_with_web_identity(role_arn(store), "w", token())


def test_the_trust_policy_sees_the_role_tags(store: objstore.Store) -> None:
    """AssumeRoleWithWebIdentity is asked with the role's tags as aws:ResourceTag/* and
    iam:ResourceTag/*, as AssumeRole."""
    iam = store.root.iam
    trust = json.loads(iam.get_role("web").assume_role_policy_document)
    anonymous = store.client_for(objstore.Identity.anonymous())
    for key in ("aws:ResourceTag/web", "iam:ResourceTag/web"):
        trust["Statement"][0]["Condition"]["StringEquals"][key] = "yes"
        iam.update_assume_role_policy("web", json.dumps(trust))
        iam.untag_role("web", ["web"])
        with pytest.raises(AccessDenied):
            anonymous.sts.assume_role_with_web_identity(role_arn(store), "w1", token())
        iam.tag_role("web", {"web": "yes"})
        anonymous.sts.assume_role_with_web_identity(role_arn(store), "w1", token())
        del trust["Statement"][0]["Condition"]["StringEquals"][key]
