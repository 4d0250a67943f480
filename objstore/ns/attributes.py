"""GetObjectAttributes: the attributes of one version S3 reports without its body.

Everything comes from the version record: ETag, size, the stored additional checksum
and its type, the storage class (objstore has one, ``STANDARD``) and, for an object a
multipart upload made, its parts count. The record keeps the count of parts only, not
each part's size and checksum, so ``ObjectParts`` lists no ``Part`` (S3 lists them only
for objects with additional checksums; it too gives just the count otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable

from objstore.errors import InvalidArgument
from objstore.ns import validation
from objstore.ns.index import Index, to_datetime
from objstore.types import ObjectAttributes, ObjectParts

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")
MAX_PARTS = 1000
STORAGE_CLASS = "STANDARD"


def check_attributes(names: object) -> frozenset[str]:
    """The attribute names asked for. Raises InvalidArgument (none, or one S3 does not
    know)."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    if not isinstance(names, Iterable):
        raise InvalidArgument("object_attributes must be a list of attribute names")
    asked = frozenset(names)
    unknown = sorted(str(n) for n in asked if n not in ATTRIBUTES)
    if unknown:
        raise InvalidArgument(
            "Invalid attribute name specified.",
            ArgumentName="x-amz-object-attributes",
            ArgumentValue=unknown[0],
        )
    if not asked:
        raise InvalidArgument(
            "x-amz-object-attributes must name at least one attribute",
            ArgumentName="x-amz-object-attributes",
        )
    return asked


def _count(value: object, name: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(f"{name} must be a non-negative integer", ArgumentName=name)
    return value


class AttributeOps(Index):
    """GetObjectAttributes."""

    def get_object_attributes(
        self,
        bucket: str,
        key: str,
        *,
        object_attributes: Iterable[str],
        version_id: str | None = None,
        max_parts: int | None = None,
        part_number_marker: int | None = None,
    ) -> ObjectAttributes:
        """The attributes asked for of the newest version (or ``version_id``).

        Raises NoSuchBucket, NoSuchKey (with ``delete_marker``), NoSuchVersion,
        MethodNotAllowed (a delete marker's version id), InvalidArgument (an unknown
        attribute, a negative ``max_parts`` / ``part_number_marker``).
        """
        asked = check_attributes(object_attributes)
        limit = min(_count(max_parts, "max_parts", MAX_PARTS), MAX_PARTS)
        marker = _count(part_number_marker, "part_number_marker", 0)
        validation.check_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            rec = self._resolve(txn, bucket, key, version_id)
        parts = None
        if "ObjectParts" in asked and rec.parts:
            parts = ObjectParts(
                total_parts_count=rec.parts,
                part_number_marker=marker,
                next_part_number_marker=None,
                max_parts=limit,
                is_truncated=False,
            )
        checksummed = "Checksum" in asked and bool(rec.checksums)
        return ObjectAttributes(
            version_id=self._public_vid(b, rec),
            last_modified=to_datetime(rec.mtime_ns),
            etag=rec.etag.strip('"') if "ETag" in asked else None,
            checksums=dict(rec.checksums) if checksummed else None,
            checksum_type=rec.checksum_type if checksummed else None,
            object_parts=parts,
            storage_class=STORAGE_CLASS if "StorageClass" in asked else None,
            object_size=rec.size if "ObjectSize" in asked else None,
        )
