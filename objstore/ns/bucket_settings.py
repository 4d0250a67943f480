"""Bucket settings kept beside the bucket record: the CORS configuration and the tags.

Each is one record ``F <bucket> 00 <name>`` (:mod:`objstore.keyspace`) holding JSON
``{"c": <the bucket's creation time, ns>, "v": <the setting>}``, not a field of the bucket
record, which every request decodes: a CORS configuration may hold 100 rules. Deleting
the bucket deletes its settings in the same transaction; the creation stamp also makes a
setting left behind by a deleted bucket of the same name (written by a version that did
not know to delete it) count as absent, as a bucket policy's does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from objstore import keyspace
from objstore.errors import NoSuchCORSConfiguration, NoSuchTagSet, StoreDamaged
from objstore.meta.base import ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix
from objstore.ns import cors, tags
from objstore.ns.index import Index, bucket_prefix
from objstore.ns.records import BucketRecord
from objstore.types import CORSRule

CORS = "cors"
TAGGING = "tagging"


def setting_key(bucket: str, name: str) -> bytes:
    return bucket_prefix(keyspace.BUCKET_SETTING, bucket) + name.encode()


def drop_settings(txn: WriteTxn, bucket: str) -> None:
    """Delete every setting of ``bucket`` (in the transaction deleting it)."""
    found = [k for k, _ in scan_prefix(txn, bucket_prefix(keyspace.BUCKET_SETTING, bucket))]
    for key in found:
        txn.delete(key)


class BucketSettingOps(Index):
    """Put/Get/DeleteBucketCors, Put/Get/DeleteBucketTagging, and the CORS rules a
    request is matched against."""

    def _setting(self, txn: ReadTxn, bucket: str, b: BucketRecord, name: str) -> Any:
        """The stored setting, or None (none, or a deleted namesake's). Raises
        StoreDamaged (a record that is not this module's JSON)."""
        raw = txn.get(setting_key(bucket, name))
        if raw is None:
            return None
        try:
            record = json.loads(bytes(raw))
            stamp, value = record["c"], record["v"]
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreDamaged(f"the {name} setting of bucket {bucket!r} is damaged") from exc
        return value if stamp == b.created_ns else None

    def _put_setting(self, bucket: str, name: str, value: object) -> None:
        def write(txn: WriteTxn) -> None:
            b = self._bucket(txn, bucket)
            record = {"c": b.created_ns, "v": value}
            txn.put(setting_key(bucket, name), json.dumps(record, ensure_ascii=False).encode())

        self.writer.run(write)

    def _delete_setting(self, bucket: str, name: str) -> None:
        def write(txn: WriteTxn) -> None:
            self._bucket(txn, bucket)
            txn.delete(setting_key(bucket, name))

        self.writer.run(write)

    def _read_setting(self, bucket: str, name: str, decode: Callable[[Any], Any]) -> Any:
        with self.meta.begin() as txn:
            value = self._setting(txn, bucket, self._bucket(txn, bucket), name)
        if value is None:
            return None
        try:
            return decode(value)
        except ValueError as exc:
            raise StoreDamaged(f"the {name} setting of bucket {bucket!r} is damaged") from exc

    # ------------------------------------------------------------------- CORS

    def put_bucket_cors(self, bucket: str, cors_rules: object) -> None:
        """Replace the bucket's CORS configuration. Raises NoSuchBucket, and what
        :func:`objstore.ns.cors.check_rules` raises (InvalidArgument, MalformedXML,
        InvalidRequest)."""
        checked = cors.check_rules(cors_rules)
        self._put_setting(bucket, CORS, cors.encode(checked))

    def get_bucket_cors(self, bucket: str) -> list[CORSRule]:
        """The bucket's CORS rules, in order. Raises NoSuchBucket,
        NoSuchCORSConfiguration, StoreDamaged."""
        rules = self.cors_rules(bucket)
        if rules is None:
            raise NoSuchCORSConfiguration("The CORS configuration does not exist", bucket=bucket)
        return list(rules)

    def delete_bucket_cors(self, bucket: str) -> None:
        """Remove the bucket's CORS configuration (none is not an error). Raises
        NoSuchBucket."""
        self._delete_setting(bucket, CORS)

    def cors_rules(self, bucket: str) -> tuple[CORSRule, ...] | None:
        """The CORS rules requests to the bucket are matched against (None: no
        configuration). Not an operation: S3 evaluates CORS for every caller, the
        anonymous one included. Raises NoSuchBucket, StoreDamaged."""
        found: tuple[CORSRule, ...] | None = self._read_setting(bucket, CORS, cors.decode)
        return found

    def cors_answer(
        self,
        bucket: str,
        origin: str | None,
        method: str | None,
        *,
        preflight: bool = False,
        request_headers: str | None = None,
        resource_type: str = "OBJECT",
    ) -> dict[str, str]:
        """The CORS headers S3 answers a request to ``bucket`` from ``origin`` with: a
        preflight's (``method`` and ``request_headers`` are its
        ``Access-Control-Request-*`` values; :func:`objstore.ns.cors.preflight`), or an
        actual request's (none when no rule allows it). Not an operation: S3 answers
        CORS to every caller, the anonymous one included. Raises NoSuchBucket,
        StoreDamaged; a preflight also BadRequest, AccessForbidden."""
        if preflight:
            # The request's own headers are checked before the bucket is looked up.
            cors.check_preflight(origin, method)
            rules = self.cors_rules(bucket)
            return cors.preflight(
                rules, origin, method, request_headers, resource_type=resource_type
            )
        if not origin or method is None:
            return {}
        return cors.actual(self.cors_rules(bucket), origin, method)

    # ---------------------------------------------------------------- tagging

    def put_bucket_tagging(self, bucket: str, tags: object) -> None:
        """Replace the bucket's tags (a mapping, ``(key, value)`` pairs or
        ``x-amz-tagging``'s URL-encoded form). Raises NoSuchBucket, InvalidTag (S3's tag
        rules, at most 50 tags)."""
        checked = tag_rules_checked(tags)
        self._put_setting(bucket, TAGGING, checked)

    def get_bucket_tagging(self, bucket: str) -> dict[str, str]:
        """The bucket's tags. Raises NoSuchBucket, NoSuchTagSet (none set, or deleted),
        StoreDamaged."""
        found: dict[str, str] | None = self._read_setting(bucket, TAGGING, _tag_dict)
        if found is None:
            raise NoSuchTagSet("The TagSet does not exist", bucket=bucket)
        return found

    def delete_bucket_tagging(self, bucket: str) -> None:
        """Remove the bucket's tags (none is not an error). Raises NoSuchBucket."""
        self._delete_setting(bucket, TAGGING)


def tag_rules_checked(value: object) -> dict[str, str]:
    """Bucket tags as stored. Raises InvalidTag."""
    return tags.check_bucket_tags(tags.normalize(value))


def _tag_dict(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("stored bucket tags are damaged")
    return dict(value)
