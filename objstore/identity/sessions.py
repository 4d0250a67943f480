"""STS temporary credentials whose session token carries, sealed, everything they grant.

Why: AssumeRole, GetSessionToken and AssumeRoleWithWebIdentity hand out an ``ASIA...`` access
key id, a secret and a session token. The facts that decide what the session may do - whose
policies apply, the session policy, tags, whether MFA was used and when, when it expires, whether
it was chained - must not be forgeable or extendable by the holder, and checking them should
need no database read per request (and no write per AssumeRole).

So the token is the facts themselves, encrypted and authenticated with AES-256-GCM under a key
derived (HKDF-SHA256) from the store-local signing key the caller supplies:

    token = base64url( version(1) || nonce(12) || AES-GCM(key, nonce, claims-json, aad) )
    aad   = "objstore-sts" 0x00 version access-key-id

Changing any byte of the token, or presenting it with another access key id, fails
authentication (:class:`InvalidClientTokenId`); the expiry inside is checked to the second
(:class:`ExpiredToken`); the secret travels inside the ciphertext, so whoever sees a token on the
wire does not learn the secret it pairs with. Nonces are 96 random bits per token (AES-GCM's
random-nonce bound of 2**32 tokens per key is far beyond any store's STS traffic); rotating the
signing key invalidates every outstanding session at once. This module keeps no state and no
clock: ``now`` is passed in (Unix seconds).

What it cannot do alone: revoke one session before it expires. The caller does that as AWS
does, by a policy that denies sessions whose ``aws:TokenIssueTime`` is before a cut-off, or by
checking that :attr:`SessionClaims.source_arn` still exists.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from objstore.errors import (
    ExpiredToken,
    InvalidClientTokenId,
    InvalidInput,
    SignatureDoesNotMatch,
    ValidationError,
)
from objstore.identity.ids import (
    is_temporary_access_key_id,
    new_secret_access_key,
    new_temporary_access_key_id,
)

__all__ = [
    "CHAINED_MAX_SECONDS",
    "MAX_TOKEN_CHARS",
    "MIN_SIGNING_KEY_BYTES",
    "SessionClaims",
    "SessionCredentials",
    "SessionSealer",
    "mint_session",
    "open_session",
]

CHAINED_MAX_SECONDS = 3600  # AWS caps a session made by role chaining at one hour
MIN_SIGNING_KEY_BYTES = 32
MAX_TOKEN_CHARS = 128 * 1024  # far above any real token; bounds the work a junk token costs
_VERSION = 1
_NONCE_BYTES = 12
_HKDF_INFO = b"objstore sts session token v1"
_AAD_PREFIX = b"objstore-sts\x00"


@dataclass(frozen=True, slots=True)
class SessionClaims:
    """What a session token asserts; every field is sealed into the token.

    ``principal_arn``: the caller's ARN as GetCallerIdentity reports it
    (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``, or the user's ARN for GetSessionToken).
    ``principal_id``: ``aws:userid`` (``AROA...:SESSION`` or the user's ``AIDA...`` id).
    ``source_arn``: the role or user ARN whose policies apply (with its path).
    ``issued_at`` / ``expires_at``: Unix seconds; the session is valid while now < expires_at.
    ``mfa_auth_time``: when MFA was verified (for ``aws:MultiFactorAuthAge``); set exactly when
    ``mfa_present``. ``chained``: made by a role session assuming a role (at most one hour).
    """

    principal_arn: str
    principal_id: str
    source_arn: str
    issued_at: int
    expires_at: int
    session_name: str | None = None
    source_identity: str | None = None
    session_policy: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    mfa_present: bool = False
    mfa_auth_time: int | None = None
    chained: bool = False

    def __post_init__(self) -> None:
        for name in ("principal_arn", "principal_id", "source_arn"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidInput(f"session {name} must be a non-empty string")
        for name in ("session_name", "source_identity", "session_policy"):
            if not isinstance(getattr(self, name), str | None):
                raise InvalidInput(f"session {name} must be a string or None")
        for name in ("issued_at", "expires_at"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"session {name} must be Unix seconds (an int)")
        if not isinstance(self.tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.tags.items()
        ):
            raise InvalidInput("session tags must map strings to strings")
        # A read-only copy: the claims stay what was sealed, whatever the caller's dict does.
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))
        if not isinstance(self.mfa_present, bool) or not isinstance(self.chained, bool):
            raise InvalidInput("mfa_present and chained must be bools")
        auth = self.mfa_auth_time
        if self.mfa_present != (auth is not None) or (
            auth is not None and (isinstance(auth, bool) or not isinstance(auth, int))
        ):
            raise InvalidInput("mfa_auth_time is set (Unix seconds) exactly when mfa_present")

    @property
    def duration_seconds(self) -> int:
        """The session's lifetime."""
        return self.expires_at - self.issued_at

    def mfa_age(self, now: float) -> int | None:
        """``aws:MultiFactorAuthAge``: whole seconds since MFA, or None without MFA."""
        if self.mfa_auth_time is None:
            return None
        return max(0, int(now) - self.mfa_auth_time)


@dataclass(frozen=True, slots=True)
class SessionCredentials:
    """An access key id, its secret and the session token that carries the claims."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    claims: SessionClaims

    @property
    def expiration(self) -> int:
        """Unix second the credentials stop working at."""
        return self.claims.expires_at


def _encode(claims: SessionClaims, access_key_id: str, secret: str) -> bytes:
    body: dict[str, Any] = {
        "k": access_key_id,
        "s": secret,
        "a": claims.principal_arn,
        "i": claims.principal_id,
        "r": claims.source_arn,
        "t0": claims.issued_at,
        "t1": claims.expires_at,
        "n": claims.session_name,
        "si": claims.source_identity,
        "p": claims.session_policy,
        "g": dict(claims.tags),
        "m": claims.mfa_auth_time,
        "c": claims.chained,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def _decode(plaintext: bytes) -> tuple[str, str, SessionClaims]:
    body = json.loads(plaintext.decode("utf-8", "surrogatepass"))
    if not isinstance(body, dict) or not isinstance(body.get("k"), str):
        raise ValueError("not a session body")
    if not isinstance(body.get("s"), str) or not isinstance(body.get("g"), dict):
        raise ValueError("not a session body")
    claims = SessionClaims(
        principal_arn=body["a"],
        principal_id=body["i"],
        source_arn=body["r"],
        issued_at=body["t0"],
        expires_at=body["t1"],
        session_name=body["n"],
        source_identity=body["si"],
        session_policy=body["p"],
        tags=body["g"],
        mfa_present=body["m"] is not None,
        mfa_auth_time=body["m"],
        chained=body["c"],
    )
    return body["k"], body["s"], claims


def _aad(access_key_id: str) -> bytes:
    return _AAD_PREFIX + bytes([_VERSION]) + access_key_id.encode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class SessionSealer:
    """Mints and opens session tokens under one store-local signing key.

    Build it once per key (it derives the AES key with HKDF) and share it: it is immutable
    and thread-safe. Raises :class:`InvalidInput` for a key under 32 bytes.
    """

    __slots__ = ("_aead",)

    def __init__(self, signing_key: bytes) -> None:
        if not isinstance(signing_key, bytes) or len(signing_key) < MIN_SIGNING_KEY_BYTES:
            raise InvalidInput(
                f"the STS signing key must be at least {MIN_SIGNING_KEY_BYTES} bytes"
            )
        # The signing key may serve other purposes too; HKDF gives this one its own subkey.
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
            signing_key
        )
        self._aead = AESGCM(key)

    def mint(self, claims: SessionClaims) -> SessionCredentials:
        """Fresh ``ASIA`` key id, secret and sealed token for ``claims``.

        Raises :class:`ValidationError` when the session would not outlive its issue time, or
        when a chained session would last more than an hour (AWS's message), and
        :class:`InvalidInput` for claims of the wrong types.
        """
        if not isinstance(claims, SessionClaims):
            raise InvalidInput("mint() takes SessionClaims")
        if claims.expires_at <= claims.issued_at:
            raise ValidationError("a session must expire after it is issued")
        if claims.chained and claims.duration_seconds > CHAINED_MAX_SECONDS:
            raise ValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit "
                "for roles assumed by role chaining."
            )
        access_key_id = new_temporary_access_key_id()
        secret = new_secret_access_key()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(
            nonce, _encode(claims, access_key_id, secret), _aad(access_key_id)
        )
        token = _b64(bytes([_VERSION]) + nonce + sealed)
        return SessionCredentials(access_key_id, secret, token, claims)

    def open(
        self,
        session_token: str,
        access_key_id: str,
        now: float,
        *,
        secret_access_key: str | None = None,
    ) -> SessionCredentials:
        """Verify a presented token and return what it carries.

        Checks, in this order: the token decrypts and authenticates under this sealer's key for
        exactly ``access_key_id`` (else :class:`InvalidClientTokenId`, whatever was wrong: a
        changed byte, another key id, another store's key, garbage); the session has not expired
        at ``now`` (else :class:`ExpiredToken`; valid while now < expiration); and, when
        ``secret_access_key`` is given, that it equals the sealed secret, compared in constant
        time (else :class:`SignatureDoesNotMatch`).
        """
        invalid = InvalidClientTokenId("The security token included in the request is invalid.")
        if not isinstance(session_token, str) or not isinstance(access_key_id, str):
            raise invalid
        if not 0 < len(session_token) <= MAX_TOKEN_CHARS or not session_token.isascii():
            raise invalid
        if not is_temporary_access_key_id(access_key_id):
            raise invalid
        try:
            raw = base64.b64decode(
                session_token + "=" * (-len(session_token) % 4), altchars=b"-_", validate=True
            )
        except (binascii.Error, ValueError):
            raise invalid from None
        # One token, one spelling: spare bits in the last character are not a second token.
        if _b64(raw) != session_token or len(raw) < 1 + _NONCE_BYTES + 16 or raw[0] != _VERSION:
            raise invalid
        try:
            plaintext = self._aead.decrypt(
                raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :], _aad(access_key_id)
            )
            sealed_key_id, secret, claims = _decode(plaintext)
        except (InvalidTag, ValueError, KeyError, TypeError, InvalidInput):
            raise invalid from None
        if sealed_key_id != access_key_id:  # the AAD binds it already; key ids are not secret
            raise invalid
        if now >= claims.expires_at:
            raise ExpiredToken("The security token included in the request is expired")
        if secret_access_key is not None and not (
            isinstance(secret_access_key, str)
            and hmac.compare_digest(
                secret_access_key.encode("utf-8", "surrogatepass"), secret.encode()
            )
        ):
            raise SignatureDoesNotMatch("The secret access key does not match the session.")
        return SessionCredentials(access_key_id, secret, session_token, claims)


def mint_session(signing_key: bytes, claims: SessionClaims) -> SessionCredentials:
    """:meth:`SessionSealer.mint` for a one-off call (a long-lived caller keeps a sealer)."""
    return SessionSealer(signing_key).mint(claims)


def open_session(
    signing_key: bytes,
    session_token: str,
    access_key_id: str,
    now: float,
    *,
    secret_access_key: str | None = None,
) -> SessionCredentials:
    """:meth:`SessionSealer.open` for a one-off call; raises as it does."""
    return SessionSealer(signing_key).open(
        session_token, access_key_id, now, secret_access_key=secret_access_key
    )
