"""Web-identity tokens: signatures, key choice, issuer, audience, time claims, attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from objstore.errors import (
    ExpiredTokenException,
    InvalidIdentityToken,
    InvalidInput,
    ValidationError,
)
from objstore.identity.oidc import (
    DEFAULT_LEEWAY,
    WebIdentity,
    provider_host,
    validate_jwks,
    verify_web_identity_token,
)

URL = "https://token.example.com/tenant"
HOST = "token.example.com/tenant"
CLIENT = "objstore-app"
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = kid
    return dict(jwk)


@pytest.fixture(scope="module")
def jwks(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    return {"keys": [public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-1")]}


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": URL,
        "aud": CLIENT,
        "sub": "user-1234",
        "iat": NOW - 10,
        "exp": NOW + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(
    key: Any, payload: dict[str, Any], *, alg: str = "RS256", kid: str | None = "rsa-1"
) -> str:
    # Signed as raw JWS bytes, so tests can also sign claims PyJWT's encoder would refuse.
    headers = {"kid": kid, "typ": "JWT"} if kid is not None else {"typ": "JWT"}
    return jwt.api_jws.encode(json.dumps(payload).encode(), key, algorithm=alg, headers=headers)


def verify(token: str, jwks: dict[str, Any], **kwargs: Any) -> WebIdentity:
    options: dict[str, Any] = {
        "provider_url": URL,
        "client_ids": [CLIENT],
        "jwks": jwks,
        "now": NOW,
    }
    options.update(kwargs)
    return verify_web_identity_token(token, **options)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- accepted tokens --------------------------------------------------------------------------


def test_rs256_token_verifies(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """A well-formed RS256 token yields its identity and the trust-policy keys."""
    identity = verify(sign(rsa_key, claims(email="u@example.com")), jwks)
    assert identity.subject == "user-1234" and identity.audience == CLIENT
    assert identity.issuer == URL and identity.provider_host == HOST
    assert identity.expires_at == NOW + 300 and identity.issued_at == NOW - 10
    assert identity.claims["email"] == "u@example.com"
    assert identity.condition_keys() == {f"{HOST}:aud": CLIENT, f"{HOST}:sub": "user-1234"}


def test_es256_token_verifies(ec_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]) -> None:
    """ES256 with the EC key of the set."""
    assert verify(sign(ec_key, claims(), alg="ES256", kid="ec-1"), jwks).subject == "user-1234"


def test_other_rsa_and_ec_strengths(rsa_key: rsa.RSAPrivateKey) -> None:
    """RS384/RS512 with the same RSA key, ES384 on P-384."""
    p384 = ec.generate_private_key(ec.SECP384R1())
    keys = {"keys": [public_jwk(rsa_key, "rsa-1"), public_jwk(p384, "p384")]}
    for alg in ("RS384", "RS512"):
        assert verify(sign(rsa_key, claims(), alg=alg), keys).audience == CLIENT
    assert verify(sign(p384, claims(), alg="ES384", kid="p384"), keys).audience == CLIENT


def test_audience_list_and_several_client_ids(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]
) -> None:
    """aud may be a list; the matched client id is reported."""
    token = sign(rsa_key, claims(aud=["someone-else", "second-app"]))
    identity = verify(token, jwks, client_ids=["first-app", "second-app"])
    assert identity.audience == "second-app"


def test_token_without_kid_tries_compatible_keys(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]
) -> None:
    """No kid: every key of the algorithm's type is tried."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = {"keys": [public_jwk(other, "old"), *jwks["keys"]]}
    assert verify(sign(rsa_key, claims(), kid=None), keys).subject == "user-1234"


def test_non_ascii_claims(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """Unicode subjects and audiences survive."""
    token = sign(rsa_key, claims(sub="\u00fcser-\u4e2d", aud="cli\u00e9nt"))
    identity = verify(token, jwks, client_ids=["cli\u00e9nt"])
    assert identity.subject == "\u00fcser-\u4e2d"


def test_trailing_slash_of_the_provider_url(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]
) -> None:
    """A provider registered with a trailing slash matches an iss without one."""
    assert verify(sign(rsa_key, claims()), jwks, provider_url=URL + "/").provider_host == HOST


# --- refused tokens ---------------------------------------------------------------------------


def test_tampered_payload_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """Another subject spliced in keeps the old signature: refused."""
    header, _, signature = sign(rsa_key, claims()).split(".")
    forged = b64(json.dumps(claims(sub="admin")).encode())
    with pytest.raises(InvalidIdentityToken):
        verify(f"{header}.{forged}.{signature}", jwks)


def test_every_changed_signature_character_is_refused(
    ec_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    """Changing any character of the signature is InvalidIdentityToken."""
    token = sign(ec_key, claims(), alg="ES256", kid="ec-1")
    start = token.rindex(".") + 1
    for i in range(start, len(token) - 1):  # the last character may only carry spare bits
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(InvalidIdentityToken):
            verify(changed, jwks)


def test_signed_by_an_unknown_key(jwks: dict[str, Any]) -> None:
    """A key outside the provider's set, under a known kid: bad signature."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidIdentityToken, match="signature"):
        verify(sign(stranger, claims()), jwks)


def test_unknown_kid(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """A kid the provider does not publish matches no key."""
    with pytest.raises(InvalidIdentityToken, match="kid"):
        verify(sign(rsa_key, claims(), kid="rotated-away"), jwks)


def test_kid_of_a_key_of_the_wrong_type(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """RS256 naming the EC key's kid is refused (no cross-type use)."""
    with pytest.raises(InvalidIdentityToken):
        verify(sign(rsa_key, claims(), kid="ec-1"), jwks)


def test_alg_none_is_refused(jwks: dict[str, Any]) -> None:
    """An unsigned token, with or without a kid, is refused."""
    for header in ({"alg": "none", "typ": "JWT"}, {"alg": "none", "kid": "rsa-1"}):
        token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}."
        with pytest.raises(InvalidIdentityToken, match="algorithm"):
            verify(token, jwks)


def test_hs256_with_the_public_key_is_refused(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]
) -> None:
    """The classic confusion: HMAC-SHA256 keyed with the public key (PEM or JWK bytes)."""
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    for secret in (pem, json.dumps(jwks["keys"][0]).encode()):
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        with pytest.raises(InvalidIdentityToken, match="algorithm"):
            verify(f"{header}.{payload}.{b64(mac)}", jwks)


@pytest.mark.parametrize("alg", ["HS256", "PS256", "EdDSA", "rs256", None, 7])
def test_other_algorithms_are_refused(alg: object, jwks: dict[str, Any]) -> None:
    """Only RS*/ES* exactly as spelled; anything else before any key is tried."""
    header = {"alg": alg, "kid": "rsa-1"} if alg is not None else {"kid": "rsa-1"}
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}.c2ln"
    with pytest.raises(InvalidIdentityToken):
        verify(token, jwks)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"iss": "https://evil.example.com/tenant"}, "issuer"),
        ({"iss": "https://token.example.com/tenant/extra"}, "issuer"),
        ({"iss": "token.example.com/tenant"}, "issuer"),
        ({"iss": None}, "issuer"),
        ({"iss": ["https://token.example.com/tenant"]}, "issuer"),
        ({"aud": "another-app"}, "audience"),
        ({"aud": ["another-app", "third"]}, "audience"),
        ({"aud": None}, "audience"),
        ({"aud": []}, "audience"),
        ({"aud": {"x": CLIENT}}, "audience"),
        ({"sub": None}, "subject"),
        ({"sub": ""}, "subject"),
        ({"sub": 42}, "subject"),
        ({"exp": None}, "exp and iat"),
        ({"iat": None}, "exp and iat"),
        ({"exp": "soon"}, "exp"),
        ({"exp": True}, "exp"),
        ({"nbf": "later"}, "nbf"),
    ],
)
def test_bad_claims(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any], overrides: dict[str, Any], match: str
) -> None:
    """Wrong or missing issuer, audience, subject and time claims are InvalidIdentityToken."""
    with pytest.raises(InvalidIdentityToken, match=match):
        verify(sign(rsa_key, claims(**overrides)), jwks)


def test_infinite_exp_is_refused(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """JSON's non-standard Infinity must not make a token immortal."""
    token = sign(rsa_key, claims(exp=float("inf")))
    assert "Infinity" in base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    with pytest.raises(InvalidIdentityToken, match="exp"):
        verify(token, jwks)


def test_empty_client_id_list_allows_no_audience(
    rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]
) -> None:
    """A provider without client ids accepts no token."""
    with pytest.raises(InvalidIdentityToken, match="audience"):
        verify(sign(rsa_key, claims()), jwks, client_ids=[])


def test_expiry_with_leeway(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """Valid until exp + leeway, ExpiredTokenException from then on."""
    token = sign(rsa_key, claims(exp=NOW))
    verify(token, jwks, now=NOW + DEFAULT_LEEWAY - 0.001)
    with pytest.raises(ExpiredTokenException) as info:
        verify(token, jwks, now=NOW + DEFAULT_LEEWAY)
    assert info.value.code == "ExpiredTokenException" and info.value.http_status == 400
    with pytest.raises(ExpiredTokenException):
        verify(token, jwks, now=NOW + 1, leeway=0)


def test_not_yet_valid(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """nbf beyond now + leeway is refused; within the leeway it passes."""
    verify(sign(rsa_key, claims(nbf=NOW + DEFAULT_LEEWAY)), jwks)
    with pytest.raises(InvalidIdentityToken, match="nbf"):
        verify(sign(rsa_key, claims(nbf=NOW + DEFAULT_LEEWAY + 1)), jwks)


def test_issued_in_the_future(rsa_key: rsa.RSAPrivateKey, jwks: dict[str, Any]) -> None:
    """iat beyond now + leeway is refused."""
    with pytest.raises(InvalidIdentityToken, match="iat"):
        verify(sign(rsa_key, claims(iat=NOW + DEFAULT_LEEWAY + 1, exp=NOW + 999)), jwks)


@pytest.mark.parametrize(
    "token", ["abcd", "a.b.c", "not a jwt at all", "\u00e9\u00e9\u00e9\u00e9.x.y", "...."]
)
def test_malformed_tokens(token: str, jwks: dict[str, Any]) -> None:
    """Garbage is InvalidIdentityToken, never a raw exception."""
    with pytest.raises(InvalidIdentityToken):
        verify(token, jwks)


@pytest.mark.parametrize("token", ["", "abc", "x" * 20_001])
def test_token_length_constraint(token: str, jwks: dict[str, Any]) -> None:
    """AWS's 4..20,000 character constraint is a ValidationError."""
    with pytest.raises(ValidationError):
        verify(token, jwks)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_weak_rsa_key_in_the_set_is_not_used() -> None:
    """A 1024-bit RSA key verifies nothing, even with a correct signature."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    keys = {"keys": [public_jwk(weak, "weak")]}
    with pytest.raises(InvalidIdentityToken, match="kid"):
        verify(sign(weak, claims(), kid="weak"), keys)


def test_jwk_restrictions_are_honoured(rsa_key: rsa.RSAPrivateKey) -> None:
    """A key marked use=enc or alg=RS512 does not verify an RS256 token."""
    for extra in ({"use": "enc"}, {"alg": "RS512"}):
        keys = {"keys": [{**public_jwk(rsa_key, "rsa-1"), **extra}]}
        with pytest.raises(InvalidIdentityToken, match="kid"):
            verify(sign(rsa_key, claims()), keys)


# --- provider configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://accounts.google.com", "accounts.google.com"),
        ("https://token.actions.githubusercontent.com/", "token.actions.githubusercontent.com"),
        ("https://example.com/path/x", "example.com/path/x"),
    ],
)
def test_provider_host(url: str, host: str) -> None:
    """HOST is the URL without the scheme (and without a trailing slash)."""
    assert provider_host(url) == host


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://example.com",
        "https://",
        "https:///path",
        "https://exa mple.com",
        "https://example.com?x=1",
        "https://example.com#f",
        "https://ex\u00e4mple.com",
        "https://example.com/\n",
        "https://" + "a" * 250,
    ],
)
def test_bad_provider_urls(url: str) -> None:
    """Not https, empty host, query, fragment, whitespace, non-ASCII, too long: InvalidInput."""
    with pytest.raises(InvalidInput):
        provider_host(url)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_validate_jwks(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey, jwks: dict[str, Any]
) -> None:
    """A public RSA+EC set passes and is copied; private, symmetric, weak or empty sets fail."""
    copy = validate_jwks(jwks)
    assert copy == jwks and copy is not jwks
    private = json.loads(RSAAlgorithm.to_jwk(rsa_key))
    weak = public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024), "w")
    bad_sets: list[Any] = [
        {"keys": []},
        {"keys": [private]},
        {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
        {"keys": [weak]},
        {"keys": [{"kty": "RSA", "n": "AQAB"}]},
        {"keys": ["not an object"]},
        {"nokeys": []},
        [],
    ]
    for bad in bad_sets:
        with pytest.raises(InvalidInput):
            validate_jwks(bad)


def test_malformed_jwks_at_verify_time(rsa_key: rsa.RSAPrivateKey) -> None:
    """A broken key set is InvalidInput, not a crash."""
    with pytest.raises(InvalidInput):
        verify(sign(rsa_key, claims()), {"keys": "nope"})
