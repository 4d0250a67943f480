"""The bucket CORS and bucket tagging calls of :class:`objstore.client.Client` (a mix-in
by job). Every method may also raise :class:`~objstore.errors.AccessDenied`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from objstore.types import CORSRule


class BucketSettingCalls:
    """Bucket CORS configuration and bucket tags, as one identity (the engine call comes
    from Client)."""

    def _call(self, name: str, **params: Any) -> Any:
        raise NotImplementedError

    def put_bucket_cors(
        self, bucket: str, cors_rules: Iterable[CORSRule | Mapping[str, Any]]
    ) -> None:
        """Replace the bucket's CORS configuration: 1 to 100 rules, each a
        :class:`CORSRule` or a mapping of S3's names (``AllowedMethods``,
        ``AllowedOrigins``, ``AllowedHeaders``, ``ExposeHeaders``, ``MaxAgeSeconds``,
        ``ID``), matched in order (:mod:`objstore.ns.cors`). Authorized as
        ``s3:PutBucketCORS``. Raises NoSuchBucket, InvalidArgument (types),
        MalformedXML (no rule, more than 100, a rule without a method or an origin),
        InvalidRequest (a method other than GET/PUT/HEAD/POST/DELETE, more than one
        ``*`` in an origin or allowed header)."""
        self._call("PutBucketCors", bucket=bucket, cors_rules=cors_rules)

    def get_bucket_cors(self, bucket: str) -> list[CORSRule]:
        """The bucket's CORS rules (``s3:GetBucketCORS``). Raises NoSuchBucket,
        NoSuchCORSConfiguration (none put, or deleted)."""
        result: list[CORSRule] = self._call("GetBucketCors", bucket=bucket)
        return result

    def delete_bucket_cors(self, bucket: str) -> None:
        """Remove the bucket's CORS configuration (authorized as ``s3:PutBucketCORS``,
        as AWS; none is not an error). Raises NoSuchBucket."""
        self._call("DeleteBucketCors", bucket=bucket)

    def put_bucket_tagging(
        self, bucket: str, tags: Mapping[str, str] | Iterable[tuple[str, str]] | str
    ) -> None:
        """Replace the bucket's tags (``s3:PutBucketTagging``): a mapping, ``(key,
        value)`` pairs or ``x-amz-tagging``'s URL-encoded form (``k1=v1&k2=v2``); at most
        50, S3's key and value rules (:mod:`objstore.ns.tags`). Raises NoSuchBucket,
        InvalidTag."""
        self._call("PutBucketTagging", bucket=bucket, tags=tags)

    def get_bucket_tagging(self, bucket: str) -> dict[str, str]:
        """The bucket's tags (``s3:GetBucketTagging``). Raises NoSuchBucket, NoSuchTagSet
        (none put, or deleted)."""
        result: dict[str, str] = self._call("GetBucketTagging", bucket=bucket)
        return result

    def delete_bucket_tagging(self, bucket: str) -> None:
        """Remove the bucket's tags (authorized as ``s3:PutBucketTagging``, as AWS; none
        is not an error). Raises NoSuchBucket."""
        self._call("DeleteBucketTagging", bucket=bucket)
