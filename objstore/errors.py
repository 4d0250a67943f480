"""Every error objstore raises, one hierarchy.

Class names are the S3 / IAM error codes, so ``type(err).__name__ == err.code``.
Each class carries the HTTP status a gateway would answer with. Not-found errors
also subclass :class:`LookupError`, bad-input errors :class:`ValueError` and
denials :class:`PermissionError`, so plain ``except LookupError`` works without
catching I/O failures::

    ObjstoreError
    ├── NotModified                      304  (a conditional read that matched)
    ├── ClientError
    │   ├── NotFound (LookupError)       404
    │   │   ├── NoSuchBucket, NoSuchKey, NoSuchVersion, NoSuchUpload,
    │   │   ├── NoSuchBucketPolicy, NoSuchEntity, OwnershipControlsNotFoundError,
    │   │   ├── NoSuchPublicAccessBlockConfiguration, NoSuchCORSConfiguration, NoSuchTagSet,
    │   │   ├── NoSuchDatabase  (a store's metadata URL names no database, at open)
    │   ├── Conflict                     409
    │   │   ├── BucketAlreadyExists, BucketAlreadyOwnedByYou, BucketNotEmpty,
    │   │   ├── ConditionalRequestConflict, EntityAlreadyExists, DeleteConflict,
    │   │   ├── LimitExceeded, EntityTemporarilyUnmodifiable
    │   ├── BadRequest (ValueError)      400
    │   │   ├── InvalidBucketName, KeyTooLongError, MetadataTooLarge,
    │   │   ├── EntityTooLarge, EntityTooSmall, IncompleteBody, BadDigest, InvalidDigest,
    │   │   ├── InvalidTag,
    │   │   ├── InvalidPart, InvalidPartOrder, InvalidArgument, InvalidRequest,
    │   │   ├── MalformedPolicyDocument, InvalidInput, ValidationError, MalformedXML,
    │   │   ├── InvalidParameterValue (STS),
    │   │   ├── InvalidURI, InvalidLocationConstraint, AccessControlListNotSupported,
    │   │   ├── InvalidBucketAclWithObjectOwnership, MalformedACLError,
    │   │   ├── PasswordPolicyViolation, MalformedPolicy, PolicyNotAttachable,
    │   │   ├── InvalidIdentityToken, ExpiredTokenException  (STS web identity)
    │   │   ├── AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
    │   │   ├── MissingSecurityHeader, XAmzContentSHA256Mismatch, InvalidToken,
    │   │   ├── MalformedTrailerError, MaxMessageLengthExceeded  (gateway authentication)
    │   │   ├── InvalidPolicyDocument, MalformedPOSTRequest,
    │   │   ├── MaxPostPreDataLengthExceeded  (browser POST uploads)
    │   │   └── RequestTimeout, InvalidStorageClass  (gateway requests)
    │   ├── AccessDenied (PermissionError) 403
    │   │   ├── InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken,
    │   │   ├── InvalidClientTokenId, InvalidAuthenticationCode, IDPRejectedClaim,
    │   │   ├── MissingAuthenticationToken (an unsigned IAM/STS call),
    │   │   ├── RequestTimeTooSkewed
    │   │   └── AccessForbidden  (a CORS preflight no rule allows)
    │   ├── MethodNotAllowed             405
    │   ├── MissingContentLength         411
    │   ├── PreconditionFailed           412
    │   ├── InvalidRange                 416
    │   ├── InvalidPartNumber            416  (a GET/HEAD partNumber beyond the parts)
    │   └── RequestCancelled             499  (the caller cancelled; nothing was kept)
    └── ServerError                      500
        ├── InternalError
        ├── NotImplemented               501 (an S3 feature the gateway lacks)
        ├── StoreClosed                  (a call after Store.close(), or in a forked child)
        ├── DataCorruption               (stored bytes no longer match their hash)
        ├── ServiceUnavailable           503 (retry: e.g. an upload outlived its gc lease)
        │   └── SlowDown                 (the gateway's in-flight request limit)
        ├── StoreDamaged                 (metadata missing, truncated or not this store's)
        ├── StoredPolicyUnreadable       (a stored policy this version cannot read: fail closed)
        └── InsufficientStorage          507 (the disk or quota is full)

``DataCorruption`` is never a ``LookupError``: corrupted data must not look
like missing data, or a caller might "repair" it by writing over it.
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar


class ObjstoreError(Exception):
    """Base of every objstore error: ``.code``, ``.http_status``, ``.message``."""

    code: ClassVar[str] = "ObjstoreError"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str = "", **details: Any) -> None:
        self.message = message or self.__class__.__doc__ or self.code
        # Extra, error-specific facts (bucket, key, version id ...), for callers and a gateway.
        self.details: dict[str, Any] = details
        super().__init__(self.message)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The class name *is* the wire code, unless a class sets its own.
        if "code" not in cls.__dict__:
            cls.code = cls.__name__

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotModified(ObjstoreError):
    """The object was not modified (a conditional read matched)."""

    http_status = 304


class ClientError(ObjstoreError):
    """The request cannot be served as asked; the caller can fix it."""

    http_status = 400


# --- 404 -------------------------------------------------------------------


class NotFound(ClientError, LookupError):
    """Something the request names does not exist."""

    http_status = 404


class NoSuchBucket(NotFound):
    """The specified bucket does not exist."""


class NoSuchKey(NotFound):
    """The specified key does not exist."""

    @property
    def delete_marker(self) -> bool:
        """True when the newest version of the key is a delete marker."""
        return bool(self.details.get("delete_marker", False))


class NoSuchVersion(NotFound):
    """The specified version does not exist."""


class NoSuchUpload(NotFound):
    """The specified multipart upload does not exist."""


class NoSuchBucketPolicy(NotFound):
    """The bucket has no policy."""


class NoSuchEntity(NotFound):
    """The IAM entity (user, group, role, policy ...) does not exist."""


class OwnershipControlsNotFoundError(NotFound):
    """The bucket has no object ownership controls (they were deleted)."""


class ObjectLockConfigurationNotFoundError(NotFound):
    """The bucket has no Object Lock configuration (Object Lock is not enabled on it)."""


class NoSuchObjectLockConfiguration(NotFound):
    """The object version has no retention (or no legal hold) to report."""


class NoSuchPublicAccessBlockConfiguration(NotFound):
    """The bucket has no public access block configuration."""


class NoSuchCORSConfiguration(NotFound):
    """The CORS configuration does not exist."""


class NoSuchTagSet(NotFound):
    """There is no tag set associated with the bucket."""


class NoSuchDatabase(NotFound):
    """The metadata database a ``postgresql://`` URL names does not exist on its server
    (objstore creates its tables, never the database: a typo must not start a new store)."""


# --- 409 -------------------------------------------------------------------


class Conflict(ClientError):
    """The request conflicts with the current state."""

    http_status = 409


class BucketAlreadyExists(Conflict):
    """The bucket name is taken by another owner."""


class BucketAlreadyOwnedByYou(Conflict):
    """You already own a bucket with this name."""


class BucketNotEmpty(Conflict):
    """The bucket still holds objects or versions."""


class ConditionalRequestConflict(Conflict):
    """A concurrent write to the same key won; retry the conditional request."""


class EntityAlreadyExists(Conflict):
    """An IAM entity with this name already exists."""


class DeleteConflict(Conflict):
    """The IAM entity still has attached or dependent entities."""


class LimitExceeded(Conflict):
    """A quota (policies attached, access keys, groups ...) would be exceeded."""


class EntityTemporarilyUnmodifiable(Conflict):
    """The IAM entity cannot be changed right now (e.g. an MFA device being enabled)."""


class InvalidBucketState(Conflict):
    """The bucket's state forbids the request: Object Lock on a bucket without versioning
    enabled, or suspending versioning on a bucket with Object Lock."""


# --- 400 -------------------------------------------------------------------


class BadRequest(ClientError, ValueError):
    """The request carries a value objstore cannot accept (a category, not a code)."""

    http_status = 400


class InvalidBucketName(BadRequest):
    """The bucket name is not valid."""


class KeyTooLongError(BadRequest):
    """The object key is longer than 1024 bytes."""


class MetadataTooLarge(BadRequest):
    """User metadata exceeds 2 KB."""


class EntityTooLarge(BadRequest):
    """The upload exceeds the maximum allowed size."""


class EntityTooSmall(BadRequest):
    """A multipart part is smaller than the minimum allowed size."""


class IncompleteBody(BadRequest):
    """Fewer bytes arrived than the declared content length."""


class BadDigest(BadRequest):
    """The body does not match the digest the caller supplied."""


class InvalidDigest(BadRequest):
    """The Content-MD5 supplied is not the base64 of 16 bytes."""


class InvalidTag(BadRequest):
    """An object tag is invalid (key or value too long, bad characters, key repeated)."""


class InvalidPart(BadRequest):
    """A listed part was not found or its ETag does not match."""


class InvalidPartOrder(BadRequest):
    """Parts must be listed in ascending order."""


class InvalidArgument(BadRequest):
    """An argument is not valid."""


class InvalidRequest(BadRequest):
    """The request is not valid."""


class RequestTimeout(BadRequest):
    """The client stopped sending its request body for longer than the gateway waits."""


class InvalidStorageClass(BadRequest):
    """The storage class named is not one S3 knows."""


class MalformedPolicyDocument(BadRequest):
    """The policy document is not valid."""


class InvalidInput(BadRequest):
    """An IAM parameter is not valid."""


class ValidationError(BadRequest):
    """An IAM parameter fails its constraints."""


class InvalidParameterValue(BadRequest):
    """An STS parameter is not valid (e.g. a session tag key given twice)."""


class PasswordPolicyViolation(BadRequest):
    """The password does not satisfy the account password policy."""


class InvalidIdentityToken(BadRequest):
    """The web identity token is not valid (signature, issuer, audience or claims)."""


class ExpiredTokenException(BadRequest):
    """The web identity token has expired (STS's code for it, unlike S3's ``ExpiredToken``)."""


class MalformedXML(BadRequest):
    """The XML body is not well-formed or does not validate against S3's schema."""


class InvalidURI(BadRequest):
    """The request URI cannot be parsed (e.g. a key that is not UTF-8)."""


class InvalidLocationConstraint(BadRequest):
    """The location constraint is not this endpoint's region."""


class AccessControlListNotSupported(BadRequest):
    """The bucket does not allow ACLs (object ownership ``BucketOwnerEnforced``): only the
    bucket owner's full control may be set, as S3 answers since ACLs were disabled."""


class InvalidBucketAclWithObjectOwnership(BadRequest):
    """A new bucket's ACL grants someone else than its owner while ACLs are disabled."""


class MalformedACLError(BadRequest):
    """The ACL given is not well-formed or does not validate against S3's schema."""


class InvalidRetentionPeriod(BadRequest):
    """A default retention period of Object Lock is not a positive number of days or years."""


class MalformedPolicy(BadRequest):
    """The bucket policy is not valid (S3's code for PutBucketPolicy)."""


class PolicyNotAttachable(BadRequest):
    """The managed policy cannot be attached to this kind of entity."""


class InvalidAction(BadRequest):
    """The action is not valid for this web service (an IAM/STS Query request)."""


class MissingAction(BadRequest):
    """The request names no action (an IAM/STS Query request without ``Action``)."""


# Request authentication (the HTTP gateway's SigV4 and aws-chunked checks).


class AuthorizationHeaderMalformed(BadRequest):
    """The authorization header is malformed (syntax, credential scope, region)."""


class AuthorizationQueryParametersError(BadRequest):
    """The presigned URL's X-Amz-* query parameters are malformed."""


class MissingSecurityHeader(BadRequest):
    """Your request is missing a required header."""


class XAmzContentSHA256Mismatch(BadRequest):
    """The provided 'x-amz-content-sha256' header does not match what was computed."""


class InvalidToken(BadRequest):
    """The provided token is malformed or otherwise invalid (S3's code for a bad session token)."""


class MalformedTrailerError(BadRequest):
    """The request contained trailing data that was not well-formed."""


class MaxMessageLengthExceeded(BadRequest):
    """Your request was too big."""


class InvalidPolicyDocument(BadRequest):
    """The POST policy of a browser upload is not valid (not base64 JSON, no
    expiration or conditions, a malformed condition)."""


class MalformedPOSTRequest(BadRequest):
    """The body of your POST request is not well-formed multipart/form-data."""


class MaxPostPreDataLengthExceeded(BadRequest):
    """The POST form's fields before the file are too large."""


# --- 403 -------------------------------------------------------------------


class AccessDenied(ClientError, PermissionError):
    """Access denied."""

    http_status = 403


class InvalidAccessKeyId(AccessDenied):
    """The access key id does not exist."""


class SignatureDoesNotMatch(AccessDenied):
    """The secret or signature does not match."""


class ExpiredToken(AccessDenied):
    """The security token has expired."""


class InvalidClientTokenId(AccessDenied):
    """The security token is not valid."""


class InvalidAuthenticationCode(AccessDenied):
    """The MFA authentication code is not valid (or was already used)."""


class IDPRejectedClaim(AccessDenied):
    """The identity provider's token was rejected (issuer, audience or keys do not fit)."""


class RequestTimeTooSkewed(AccessDenied):
    """The difference between the request time and the server's time is too large."""


class AccessForbidden(AccessDenied):
    """CORSResponse: This CORS request is not allowed (a preflight no CORS rule of the
    bucket allows, or a bucket without a CORS configuration)."""


class MissingAuthenticationToken(AccessDenied):
    """Request is missing Authentication Token: an unsigned IAM or STS call (only
    AssumeRoleWithWebIdentity and AssumeRoleWithSAML may be unsigned)."""


# --- other client statuses ----------------------------------------------------


class MethodNotAllowed(ClientError):
    """The method is not allowed against this resource (e.g. GET of a delete marker)."""

    http_status = 405


class PreconditionFailed(ClientError):
    """At least one precondition did not hold."""

    http_status = 412


class MissingContentLength(ClientError):
    """The request needs a Content-Length header."""

    http_status = 411


class InvalidRange(ClientError):
    """The requested range is not satisfiable."""

    http_status = 416


class InvalidPartNumber(ClientError):
    """The requested partnumber is not satisfiable."""

    http_status = 416


class RequestCancelled(ClientError):
    """The caller cancelled the call before it took effect; nothing of it was kept.

    objstore-specific (S3 has no code for it): the asyncio API turns it into
    ``asyncio.CancelledError``. 499 is the status proxies log for a client that
    went away.
    """

    http_status = 499


# --- 500 -------------------------------------------------------------------


class ServerError(ObjstoreError):
    """objstore failed; the request may be retried."""

    http_status = 500


class InternalError(ServerError):
    """An internal error occurred."""


# Named as S3's code like every class here; use it as ``errors.NotImplemented`` so the
# builtin of the same name is never shadowed in the importing module.
class NotImplemented(ServerError):
    """The gateway does not implement this operation or feature."""

    http_status = 501


class StoreClosed(ServerError):
    """The store was closed; open it again to continue."""


class DataCorruption(ServerError):
    """Stored data no longer matches its content hash."""


class ServiceUnavailable(ServerError):
    """The request could not be completed now; retrying it will succeed.

    Raised, for example, when an upload stalled past its gc lease: garbage
    collection may have removed chunks it meant to reuse, so it stores nothing.
    """

    http_status = 503


class SlowDown(ServiceUnavailable):
    """Please reduce your request rate (the gateway is serving all it may at once)."""


class StoredPolicyUnreadable(ServerError):
    """A policy kept in the store (bucket, trust, inline or managed policy) cannot be read
    by this version. Every request it would help decide is refused with this error (fail
    closed: never decided as if there were no policy) until the policy is replaced."""


class StoreDamaged(ServerError):
    """The store's metadata is missing, damaged or belongs to another store.

    Raised when opening a store whose metadata file is truncated, unreadable or
    gone while its data (or its identity marker) remains: opening it as a new,
    empty store would let garbage collection delete every stored chunk.
    """


class InsufficientStorage(ServerError):
    """The disk (or quota) holding the store is full; nothing of the request was kept.

    HTTP 507 (RFC 4918): not the caller's fault, and retrying helps only once
    space is freed, which is why it is not S3's 503 ``SlowDown``/``ServiceUnavailable``.
    """

    http_status = 507


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


# Shortages of the whole process or machine, not of the file at hand: a chunk read that
# meets one says nothing about the chunk (break-it review 9l, L3: a GET during fd
# exhaustion flagged healthy chunks as bad).
_PASSING_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


def storage_error(exc: OSError, what: str) -> ServerError:
    """The typed error for an OS failure while storing: a full disk or quota is
    InsufficientStorage, a passing shortage of the process (open files, memory)
    ServiceUnavailable, anything else InternalError."""
    if exc.errno in _FULL_ERRNOS:
        return InsufficientStorage(f"no space left {what}: {exc.strerror}")
    if exc.errno in _PASSING_ERRNOS:
        return ServiceUnavailable(f"{what}: {exc.strerror}; retry")
    return InternalError(f"{what} failed: {exc}")


def all_error_classes() -> list[type[ObjstoreError]]:
    """Every concrete error class, for documentation and tests."""
    out: list[type[ObjstoreError]] = []
    stack: list[type[ObjstoreError]] = [ObjstoreError]
    while stack:
        cls = stack.pop()
        out.append(cls)
        stack.extend(cls.__subclasses__())
    return out
