"""Presigned URLs for the gateway (a mix-in of :class:`objstore.client.Client` by job).

A presigned URL lets whoever holds it make one request, as the client that made it,
through ``objstore serve`` (or any S3 endpoint that knows the key) until it expires:
SigV4 in the query, made locally the way the AWS SDKs make them
(:func:`objstore.gateway.presign.presign`). Nothing is authorized when it is made; the
request it names is authorized when it is sent, as that client's would be.

The client's secret is not kept in it: it is looked up in the store when a URL is made
(its key deleted or deactivated, or its session expired, since the client was made:
the store's error), as the gateway looks it up to check the URL.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from objstore.errors import InvalidArgument, InvalidRequest
from objstore.ns import validation
from objstore.ns.versioning import parse_version_id

#: The credentials a URL is signed with, looked up when one is made:
#: (access key id, secret access key, session token or None).
Credentials = Callable[[], tuple[str, str, str | None]]

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"  # objstore serve's default address
_METHODS = frozenset({"GET", "PUT", "HEAD", "DELETE"})
_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)  # it sits in the scope


class PresignCalls:
    """``generate_presigned_url`` (the credentials come from :class:`Client`)."""

    _credentials: Credentials | None

    def generate_presigned_url(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        version_id: str | None = None,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
    ) -> str:
        """A URL for the HTTP ``method`` (GET, PUT, HEAD, DELETE) on ``key`` of ``bucket``
        (``version_id``: that version), valid for ``expires_in`` seconds (1 to 604,800),
        at the gateway ``endpoint_url`` (default: ``AWS_ENDPOINT_URL_S3``, else
        ``AWS_ENDPOINT_URL``, else ``http://127.0.0.1:9000``, ``objstore serve``'s
        default) serving ``region``. Path-style, as S3 URLs for any bucket name.

        Raises InvalidArgument (another method, ``expires_in`` not a whole number of
        seconds in range, an endpoint that is not ``http(s)://host[:port]``, an invalid
        key, ``version_id`` or ``region``), InvalidBucketName,
        InvalidRequest (a client without an access key: the account root's, or a
        console sign-in's), and what looking up its key raises (InvalidClientTokenId: the
        key was deleted or deactivated; ExpiredToken: the session has expired).
        """
        from objstore.gateway.presign import presign  # pure; only this call needs it
        from objstore.gateway.sigv4 import MAX_PRESIGN_EXPIRES

        # Arguments of the wrong type are InvalidArgument, not a TypeError from deep
        # inside, and nothing makes a URL the gateway would always refuse (rev11b F2).
        verb = method.upper() if isinstance(method, str) else None
        if verb not in _METHODS:
            raise InvalidArgument(f"cannot presign method {method!r}: one of {sorted(_METHODS)}")
        validation.check_bucket_name(bucket)
        validation.check_key(key)
        if version_id is not None:
            parse_version_id(version_id)  # "null" or a version id the store makes
        if not isinstance(region, str) or not _REGION.fullmatch(region):
            raise InvalidArgument(f"not a region name: {region!r}")
        if (
            not isinstance(expires_in, int)
            or isinstance(expires_in, bool)
            or not 1 <= expires_in <= MAX_PRESIGN_EXPIRES
        ):
            raise InvalidArgument(
                f"expires_in must be a whole number of seconds, 1 to {MAX_PRESIGN_EXPIRES}: "
                f"{expires_in!r}"
            )
        base = endpoint_url or (
            os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or DEFAULT_ENDPOINT
        )
        _check_endpoint(base)
        if self._credentials is None:
            raise InvalidRequest(
                "a presigned URL is signed with an access key: make the client with "
                "store.client(access_key_id, secret_access_key[, session_token])"
            )
        access_key_id, secret, token = self._credentials()
        url = f"{base.rstrip('/')}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"
        if version_id is not None:
            url += "?versionId=" + quote(version_id, safe="~")
        try:
            return presign(
                verb,
                url,
                access_key_id=access_key_id,
                secret=secret,
                region=region,
                now=time.time(),
                expires=expires_in,
                session_token=token,
            )
        finally:
            del secret


def _check_endpoint(base: object) -> None:
    """Raises InvalidArgument unless ``base`` is ``http(s)://host[:port][/]``: a path
    would be read as the bucket (``http://h/prefix`` made URLs for bucket ``prefix``), a
    user name or control characters make URLs that never work (rev11b F2)."""
    parts = urlsplit(base) if isinstance(base, str) else None
    if (
        parts is None
        or not isinstance(base, str)
        or not base.isprintable()
        or " " in base
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or "?" in base
        or "#" in base
    ):
        raise InvalidArgument(f"not a gateway base URL (http(s)://host[:port]): {base!r}")
