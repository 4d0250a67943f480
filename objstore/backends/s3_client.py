"""The S3 client under :class:`~objstore.backends.s3.S3ChunkStore`: obstore set up for it,
its failures translated, bucket creation (boto3), and the fork guard.

obstore's exceptions carry the HTTP status and the S3 error code only in their message,
so :func:`translate` reads them from there; tests/backends/s3chunks/test_s3_faults.py pins
each case (5xx, SlowDown, timeouts, resets, refusals) against a real server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from obstore.exceptions import (
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from obstore.store import S3Store

from objstore.backends import s3_url
from objstore.backends.retry import Retryable
from objstore.blob.chunkstore import ChunkMissing
from objstore.errors import InternalError, InvalidArgument, ObjstoreError, ServiceUnavailable

_STATUS = re.compile(r"status(?: code)?: (\d{3})")
_CODE = re.compile(r"<Code>([A-Za-z]+)</Code>")
_THROTTLE_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
)

#: The process whose obstore runtime has run requests (set at the first call).
_runtime_pid: int | None = None


def check_process() -> None:
    """Fail fast in a child forked after obstore ran: its runtime's threads did not survive
    the fork, and any request there hangs for ever (even through a new client)."""
    global _runtime_pid
    pid = os.getpid()
    if _runtime_pid is None:
        _runtime_pid = pid
    elif _runtime_pid != pid:
        raise InternalError(
            "the S3 chunk store cannot be used in a process forked after it made requests "
            "(its client's runtime does not survive fork): start workers with the 'spawn' "
            "method, as objstore serve does"
        )


def status_code(exc: BaseException) -> tuple[int, str]:
    """The HTTP status and S3 error code in a client error's message (0, "" if none)."""
    text = str(exc)
    status = _STATUS.search(text)
    code = _CODE.search(text)
    return (int(status.group(1)) if status else 0), (code.group(1) if code else "")


def translate(exc: BaseException, what: str) -> BaseException:
    """The exception to raise for a client failure: Retryable, or a typed objstore error."""
    if isinstance(exc, ObjstoreError | Retryable | ChunkMissing):
        return exc
    status, code = status_code(exc)
    if isinstance(exc, PermissionDeniedError | UnauthenticatedError):
        # Credentials rotated or expired, or this node's clock far off
        # (RequestTimeTooSkewed): every request is refused, not one chunk, so it is an
        # outage (503, nothing written, nothing flagged), never a chunk's damage (review
        # rev11d, L1: a GET flagged all its healthy chunks).
        return ServiceUnavailable(
            f"{what}: the chunk backend refused access ({status} {code}): check this "
            "node's credentials and clock"
        )
    if isinstance(exc, FileNotFoundError | NotFoundError):
        # Callers handle a missing *object*; here only a missing bucket is left.
        return InternalError(f"{what}: the chunk backend answered {status} {code or 'Not Found'}")
    if code in _THROTTLE_CODES or status == 429:
        return Retryable(f"{status} {code}", throttled=True)
    if status >= 500 or code == "RequestTimeout":
        return Retryable(f"{status} {code}")
    if status:
        return InternalError(f"{what}: the chunk backend refused: {status} {code}")
    if isinstance(exc, BaseError | OSError | TimeoutError):
        # No HTTP answer at all: refused, reset or timed-out connections.
        return Retryable(str(exc).split("\n", 1)[0])
    return InternalError(f"{what}: unexpected failure of the chunk backend: {exc!r}")


def missing_bucket(exc: BaseException) -> bool:
    return status_code(exc)[1] == "NoSuchBucket"


def env_endpoint() -> str | None:
    """The endpoint the environment names (``AWS_ENDPOINT_URL``, else ``AWS_ENDPOINT``,
    as the S3 client reads them), checked; None when neither is set."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT"):
        if value := os.environ.get(name):
            try:
                return s3_url.check_endpoint(value)
            except InvalidArgument as exc:
                raise InvalidArgument(f"${name}: {exc.message}") from None
    return None


def virtual_hosted(endpoint: str | None) -> bool:
    """Whether requests address the bucket in the host name. AWS itself (no endpoint):
    yes. A named endpoint: by path, as self-hosted servers (RGW, MinIO) expect, unless
    ``AWS_VIRTUAL_HOSTED_STYLE_REQUEST`` (the S3 client's own setting) says otherwise."""
    if endpoint is None:
        return True
    return os.environ.get("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "").lower() in ("true", "1")


def bucket_host(bucket: str, endpoint: str) -> str:
    """The bucket's own host at ``endpoint`` (``scheme://host[:port]``, checked), as obstore
    wants it for virtual-hosted requests: ``http://bkt.host:port``. The endpoint names the
    service, as ``AWS_ENDPOINT_URL`` does for boto3 and the aws cli, never a bucket."""
    scheme, rest = endpoint.split("://", 1)
    return f"{scheme}://{bucket}.{rest}"


def make_client(
    bucket: str,
    prefix: str | None,
    *,
    endpoint: str | None,
    region: str | None,
    profile: str | None,
    pool: int,
    connect_timeout: float,
    read_timeout: float,
) -> S3Store:
    """An obstore client for ``bucket``/``prefix`` that tries each request once (the
    store retries) and keeps up to ``pool`` idle connections. Raises InvalidArgument."""
    config: dict[str, Any] = {}
    if endpoint is not None:
        virtual = virtual_hosted(endpoint)
        config["virtual_hosted_style_request"] = virtual
        config["endpoint"] = bucket_host(bucket, endpoint) if virtual else endpoint
    if region is not None:
        config["region"] = region
    provider: Any = None
    if profile is not None:
        provider = profile_credentials(profile)
    client: dict[str, Any] = {
        "allow_http": bool(endpoint and endpoint.startswith("http://")),
        "connect_timeout": f"{int(connect_timeout * 1000)}ms",
        "timeout": f"{int(read_timeout * 1000)}ms",
        "pool_max_idle_per_host": str(pool),
    }
    try:
        return S3Store(
            bucket,
            prefix=prefix,
            config=config,  # type: ignore[arg-type]
            client_options=client,  # type: ignore[arg-type]
            # Retries are ours (bounded in time, typed at the end): obstore tries once.
            retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=1)},
            credential_provider=provider,
        )
    except BaseError as exc:
        raise InvalidArgument(f"cannot configure the S3 client: {exc}") from None


def create_bucket_op(
    bucket: str, *, endpoint: str | None, region: str | None, profile: str | None
) -> Callable[[S3Store], None]:
    """A call (for the store's retrying ``_call``) that creates ``bucket`` unless it is
    ours already. CreateBucket is no object operation, so obstore has none: boto3 does it.
    Raises InvalidArgument when boto3 is not installed."""
    try:
        import boto3  # type: ignore[import-untyped, unused-ignore]
        from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]
        from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
            BotoCoreError,
            ClientError,
        )
    except ImportError:
        raise InvalidArgument("create=1 needs boto3 (pip install boto3)") from None
    session = boto3.session.Session(profile_name=profile)
    style = "auto"  # AWS itself
    if endpoint is not None:
        style = "virtual" if virtual_hosted(endpoint) else "path"
    s3 = session.client(
        "s3",
        endpoint_url=endpoint,
        config=Config(
            region_name=region, retries={"total_max_attempts": 1}, s3={"addressing_style": style}
        ),
    )
    args: dict[str, Any] = {"Bucket": bucket}
    region = s3.meta.region_name
    if region and region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}

    def make(_: S3Store) -> None:
        try:
            s3.create_bucket(**args)
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code == "BucketAlreadyOwnedByYou":
                return
            if status >= 500:
                raise Retryable(f"{status} {code}") from exc
            raise InternalError(f"creating bucket {bucket}: {status} {code}") from exc
        except BotoCoreError as exc:
            raise Retryable(str(exc)) from exc

    return make


def profile_credentials(profile: str) -> Any:
    """A credential provider reading the named profile of the shared AWS files (via boto3)."""
    try:
        import boto3
        from obstore.auth.boto3 import Boto3CredentialProvider
    except ImportError:
        raise InvalidArgument("profile= needs boto3 (pip install boto3)") from None
    try:
        return Boto3CredentialProvider(boto3.session.Session(profile_name=profile))
    except Exception as exc:
        raise InvalidArgument(f"AWS profile {profile!r}: {exc}") from None
