"""Who signed a browser-upload form: the signature over its ``policy`` field.

A browser upload carries no ``Authorization`` header; its form vouches for itself. The
signer computed, over the base64 ``policy`` field exactly as sent:

- SigV4 (``x-amz-algorithm: AWS4-HMAC-SHA256``, ``x-amz-credential``
  ``AKID/DATE/REGION/s3/aws4_request``, ``x-amz-date``): hex HMAC-SHA256 under the
  key derived for that scope, in ``x-amz-signature``;
- SigV2 (``AWSAccessKeyId``): base64 HMAC-SHA1 under the secret, in ``signature``.

``x-amz-security-token`` names temporary credentials. The signature is compared in
constant time; the policy's expiration (not ``x-amz-date``) bounds how long the form
works, as S3. The identity found carries the request's network facts (source IP,
TLS, user agent, referer), so ``aws:*`` conditions see the browser's connection.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from aiohttp import web

from objstore.aio import AsyncClient, AsyncStore
from objstore.authz import Identity
from objstore.errors import InvalidArgument, SignatureDoesNotMatch
from objstore.gateway import sigv4
from objstore.gateway.auth import credentials_for
from objstore.identity.layer import IdentityLayer

_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z", re.ASCII)
# The fields that say a form is signed; one of them without the others is refused.
SIGNATURE_FIELDS = frozenset(
    {"policy", "awsaccesskeyid", "signature", "x-amz-signature", "x-amz-credential"}
)


def _missing(name: str) -> InvalidArgument:
    return InvalidArgument(
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please "
        "check the order of the fields.",
        ArgumentName=name,
        ArgumentValue="",
    )


def _mismatch(access_key_id: str, string_to_sign: str, provided: str) -> SignatureDoesNotMatch:
    return SignatureDoesNotMatch(
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        AWSAccessKeyId=access_key_id,
        StringToSign=string_to_sign,
        SignatureProvided=provided,
    )


def signed(fields: Mapping[str, str]) -> bool:
    """Whether a form (lower-case field names) carries a policy or a signature."""
    return any(name in fields for name in SIGNATURE_FIELDS)


def verify_v2(policy: str, signature: str, secret: str) -> bool:
    """SigV2 form signature: base64(HMAC-SHA1(secret, policy)), compared in constant time."""
    digest = hmac.digest(sigv4.wire_bytes(secret), sigv4.wire_bytes(policy), "sha1")
    return hmac.compare_digest(base64.b64encode(digest), sigv4.wire_bytes(signature))


def verify_v4(policy: str, signature: str, secret: str, scope: sigv4.Scope) -> bool:
    """SigV4 form signature: hex HMAC-SHA256 of the policy under the scope's derived key,
    compared in constant time."""
    expected = sigv4.sign(sigv4.signing_key(secret, scope), policy)
    return sigv4.signatures_equal(expected, signature)


def v4_scope(fields: Mapping[str, str], region: str) -> tuple[str, sigv4.Scope]:
    """The access key id and credential scope of a SigV4 form.

    Raises InvalidArgument (a missing field, another algorithm, a malformed credential
    or date, a scope for another service, region or day than the form's)."""
    for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        if name not in fields:
            raise _missing(name)
    algorithm = fields["x-amz-algorithm"]
    if algorithm != sigv4.ALGORITHM:
        raise InvalidArgument(
            f"Only {sigv4.ALGORITHM} is supported",
            ArgumentName="x-amz-algorithm",
            ArgumentValue=algorithm,
        )
    credential, amz_date = fields["x-amz-credential"], fields["x-amz-date"]
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise InvalidArgument(
            "Invalid credential: expecting <YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request",
            ArgumentName="x-amz-credential",
            ArgumentValue=credential,
        )
    scope = sigv4.Scope(parts[1], parts[2], parts[3], parts[4])
    if not _AMZ_DATE.fullmatch(amz_date) or scope.date != amz_date[:8]:
        raise InvalidArgument(
            "x-amz-date must be YYYYMMDD'T'HHMMSS'Z' of the credential's date",
            ArgumentName="x-amz-date",
            ArgumentValue=amz_date,
        )
    if scope.service != "s3" or scope.terminal != sigv4.TERMINAL or scope.region != region:
        raise InvalidArgument(
            f"Invalid credential scope: expecting .../{region}/s3/{sigv4.TERMINAL}",
            ArgumentName="x-amz-credential",
            ArgumentValue=credential,
        )
    return parts[0], scope


class FormAuthenticator:
    """Turns a signed form into the caller's client (one per gateway app).

    ``clock`` gives Unix seconds (the policy expiration is checked against it)."""

    def __init__(
        self, store: AsyncStore, *, region: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._layer: IdentityLayer = store.sync.identity
        self.region = region
        self.clock = clock

    def client_for(self, identity: Identity) -> AsyncClient:
        return self._store.client_for(identity)

    async def identity(self, fields: Mapping[str, str], network: Identity) -> Identity:
        """The signer of a form that :func:`signed` says is signed, with ``network``'s
        connection facts.

        Raises InvalidArgument (``policy``, ``AWSAccessKeyId`` / ``signature`` or the
        SigV4 fields missing or malformed), InvalidAccessKeyId, InvalidToken,
        ExpiredToken, SignatureDoesNotMatch.
        """
        if "policy" not in fields:
            raise _missing("policy")
        policy = fields["policy"]
        token = fields.get("x-amz-security-token")
        if "x-amz-credential" in fields or "x-amz-signature" in fields:
            key_id, scope = v4_scope(fields, self.region)
            secret, identity = credentials_for(self._layer, key_id, token, "s3")
            good = verify_v4(policy, fields["x-amz-signature"], secret, scope)
            provided = fields["x-amz-signature"]
        else:
            if "awsaccesskeyid" not in fields:
                raise _missing("AWSAccessKeyId")
            if "signature" not in fields:
                raise _missing("Signature")
            key_id = fields["awsaccesskeyid"]
            secret, identity = credentials_for(self._layer, key_id, token, "s3")
            good = verify_v2(policy, fields["signature"], secret)
            provided = fields["signature"]
        del secret
        if not good:
            raise _mismatch(key_id, policy, provided)
        service = self._layer.service
        if identity.token_issued_at is None and service.last_used_due(key_id):
            # The key's last-used date, as for header-signed requests (a disk write).
            await asyncio.to_thread(service.note_used, key_id, "s3")
        return replace(
            identity,
            source_ip=network.source_ip,
            secure_transport=network.secure_transport,
            user_agent=network.user_agent,
            referer=network.referer,
        )


# Where the app keeps its FormAuthenticator (objstore.gateway.app.create_app sets it).
FORM_AUTHENTICATOR = web.AppKey("objstore.form_authenticator", FormAuthenticator)
