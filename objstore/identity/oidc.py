"""Web-identity (OIDC) tokens for AssumeRoleWithWebIdentity, verified against a provider's keys.

Why a module of its own: a web-identity token is a credential minted by someone else, so every
check AWS STS makes has to happen here before a trust policy ever sees the token's claims:

* the JWS signature, RS256/384/512 or ES256/384/512 only, with a key chosen from the
  provider's registered JWKS by ``kid`` and of the matching type (RSA of at least 2048 bits,
  or EC on the algorithm's curve). The algorithm allow-list is decided *before* PyJWT is
  called and only that one algorithm is passed to it, so ``alg: none`` and the HS256-with-the-
  public-key confusion are refused by construction;
* ``iss`` equals the provider URL; ``aud`` (a string or a list) contains one of the
  provider's client ids; ``sub`` is present;
* ``exp`` (:class:`ExpiredTokenException` once passed), ``nbf`` and ``iat`` against the
  caller's ``now`` (Unix seconds from its injected clock) with a small leeway for clock skew.
  PyJWT's own time checks are off because they read the system clock.

Signature checking and JOSE parsing are PyJWT's (on :mod:`cryptography`); nothing here parses a
token by hand. The result, :class:`WebIdentity`, carries the claims trust policies may test as
``HOST:aud`` and ``HOST:sub`` (``HOST`` = the provider URL without ``https://``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from objstore.errors import (
    ExpiredTokenException,
    InvalidIdentityToken,
    InvalidInput,
    ValidationError,
)

__all__ = [
    "ALGORITHMS",
    "DEFAULT_LEEWAY",
    "WebIdentity",
    "provider_host",
    "validate_jwks",
    "verify_web_identity_token",
]

# Algorithm -> (JWK key type, EC curve name or None). Nothing symmetric, nothing "none".
ALGORITHMS: Mapping[str, tuple[str, str | None]] = MappingProxyType(
    {
        "RS256": ("RSA", None),
        "RS384": ("RSA", None),
        "RS512": ("RSA", None),
        "ES256": ("EC", "secp256r1"),
        "ES384": ("EC", "secp384r1"),
        "ES512": ("EC", "secp521r1"),
    }
)
DEFAULT_LEEWAY = 30.0  # seconds of clock skew tolerated on exp, nbf and iat
_MIN_RSA_BITS = 2048
_TOKEN_CHARS = (4, 20_000)  # AWS's WebIdentityToken length constraint
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_CURVE_OF_CRV = {"P-256": "secp256r1", "P-384": "secp384r1", "P-521": "secp521r1"}


def provider_host(url: str) -> str:
    """The provider's ``HOST`` (URL without ``https://`` or a trailing ``/``), as in its ARN.

    Raises :class:`InvalidInput` unless ``url`` is an ``https://`` URL of at most 255
    characters with a host and no query, fragment or whitespace.
    """
    if not isinstance(url, str) or not url.startswith("https://") or len(url) > 255:
        raise InvalidInput("an OpenID Connect provider URL must start with https://")
    host = url[len("https://") :].removesuffix("/")
    if not host or host.startswith("/") or not host.isprintable() or not host.isascii():
        raise InvalidInput("the OpenID Connect provider URL is not valid")
    if " " in host or "?" in host or "#" in host:
        raise InvalidInput("the OpenID Connect provider URL is not valid")
    return host


@dataclass(frozen=True, slots=True)
class WebIdentity:
    """A verified web-identity token: who it names, for which client, and all its claims."""

    provider_host: str
    issuer: str
    subject: str
    audience: str  # the client id of the provider's list that the token's aud matched
    issued_at: float
    expires_at: float
    claims: Mapping[str, Any]

    def condition_keys(self) -> dict[str, str]:
        """The trust-policy condition keys AWS derives from the token."""
        return {
            f"{self.provider_host}:aud": self.audience,
            f"{self.provider_host}:sub": self.subject,
        }


def _key_for(jwk: Mapping[str, Any], algorithm: str) -> Any | None:
    """The public key a JWK holds if it may verify ``algorithm``, else None."""
    kty, curve = ALGORITHMS[algorithm]
    if jwk.get("kty") != kty or jwk.get("use", "sig") != "sig":
        return None
    if jwk.get("alg", algorithm) != algorithm or not _PRIVATE_MEMBERS.isdisjoint(jwk):
        return None
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=algorithm).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    if isinstance(key, rsa.RSAPublicKey) and curve is None:
        return key if key.key_size >= _MIN_RSA_BITS else None
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == curve:
        return key
    return None


def _jwk_list(jwks: object) -> list[Mapping[str, Any]]:
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise InvalidInput('a JWKS is an object with a "keys" list')
    keys = jwks["keys"]
    if not all(isinstance(k, Mapping) for k in keys):
        raise InvalidInput("every JWKS entry must be an object")
    return list(keys)


def validate_jwks(jwks: Mapping[str, Any]) -> dict[str, Any]:
    """Check a provider's JWKS before registering it; return a plain-dict copy.

    Every key must be a public RSA (2048 bits or more) or EC (P-256/384/521) signing key usable
    with one of :data:`ALGORITHMS`. Raises :class:`InvalidInput` otherwise, including for a key
    that carries private members (a provider publishes only public keys) and for an empty set.
    """
    keys = _jwk_list(jwks)
    if not keys:
        raise InvalidInput("a JWKS needs at least one key")
    for jwk in keys:
        if not _PRIVATE_MEMBERS.isdisjoint(jwk):
            raise InvalidInput("a JWKS must hold public keys only")
        if not any(_key_for(jwk, alg) is not None for alg in ALGORITHMS):
            raise InvalidInput(f"JWKS key {jwk.get('kid')!r} is not a usable RSA or EC signing key")
    return {"keys": [dict(k) for k in keys]}


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    """A numeric date claim, None when absent; anything else (NaN and infinity too) is invalid."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidIdentityToken(f"the token's {name} claim is not a number")
    return float(value)


def verify_web_identity_token(
    token: str,
    *,
    provider_url: str,
    client_ids: Sequence[str],
    jwks: Mapping[str, Any],
    now: float,
    leeway: float = DEFAULT_LEEWAY,
) -> WebIdentity:
    """Verify an OIDC ID token as AssumeRoleWithWebIdentity does, and return its identity.

    Raises :class:`ValidationError` for a token outside 4..20,000 characters,
    :class:`InvalidIdentityToken` for anything wrong with the token (malformed, unsupported or
    missing ``alg``, no matching key, bad signature, wrong issuer, no allowed audience, missing
    ``sub``, not yet valid by ``nbf``, issued in the future), :class:`ExpiredTokenException`
    when ``now`` is past ``exp`` plus ``leeway``, and :class:`InvalidInput` for a malformed
    provider URL or JWKS.
    """
    host = provider_host(provider_url)
    if not isinstance(token, str) or not _TOKEN_CHARS[0] <= len(token) <= _TOKEN_CHARS[1]:
        raise ValidationError("WebIdentityToken must be 4 to 20000 characters")
    keys = _jwk_list(jwks)
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidIdentityToken("the web identity token is malformed") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise InvalidIdentityToken(f"unsupported token signing algorithm {algorithm!r}")
    kid = header.get("kid")
    candidates = [
        key
        for jwk in keys
        if kid is None or jwk.get("kid") == kid
        if (key := _key_for(jwk, algorithm)) is not None
    ]
    if not candidates:
        raise InvalidIdentityToken("no key of the provider matches the token's kid and algorithm")
    claims: dict[str, Any] | None = None
    for key in candidates:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                # Claims are checked below against the injected clock, not PyJWT's.
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidIdentityToken("the web identity token is malformed") from None
    if claims is None:
        raise InvalidIdentityToken("the web identity token's signature is not valid")

    issuer = claims.get("iss")
    if not isinstance(issuer, str) or issuer.removesuffix("/") != provider_url.removesuffix("/"):
        raise InvalidIdentityToken("the token's issuer is not the provider")
    audiences = claims.get("aud")
    if isinstance(audiences, str):
        audiences = [audiences]
    if not isinstance(audiences, list):
        raise InvalidIdentityToken("the token has no audience")
    allowed = set(client_ids)
    audience = next((a for a in audiences if isinstance(a, str) and a in allowed), None)
    if audience is None:
        raise InvalidIdentityToken("the token's audience is not a client id of the provider")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidIdentityToken("the token has no subject")
    expires, issued, not_before = (_number(claims, n) for n in ("exp", "iat", "nbf"))
    if expires is None or issued is None:
        raise InvalidIdentityToken("the token needs exp and iat claims")
    if now >= expires + leeway:
        raise ExpiredTokenException("the web identity token has expired")
    if not_before is not None and now + leeway < not_before:
        raise InvalidIdentityToken("the web identity token is not valid yet (nbf)")
    if issued > now + leeway:
        raise InvalidIdentityToken("the web identity token was issued in the future (iat)")
    return WebIdentity(
        provider_host=host,
        issuer=issuer,
        subject=subject,
        audience=audience,
        issued_at=issued,
        expires_at=expires,
        claims=MappingProxyType(claims),
    )
