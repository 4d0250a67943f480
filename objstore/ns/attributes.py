"""GetObjectAttributes: the attributes of one version S3 reports without its body.

Everything comes from the version record: ETag, size, the stored additional checksum
and its type, the storage class (objstore has one, ``STANDARD``) and, for an object a
multipart upload made, its parts: their count and sizes (numbered 1..count in the
object's order), and each part's checksum when the object has an additional checksum
(kept beside its body, ``blob.compose.part_sums``, read only here and by part-number
reads). S3 lists parts only for objects with additional checksums; objstore lists every
multipart object's part sizes, as RGW. An object completed before part sizes were
recorded gives only its parts count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from objstore.errors import InvalidArgument
from objstore.ns import validation
from objstore.ns.index import Index, to_datetime
from objstore.types import ObjectAttributes, ObjectPart, ObjectParts

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
    names = list(names)
    if not all(isinstance(n, str) for n in names):
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


def part_page(
    runs: Iterable[tuple[int, int]], marker: int, limit: int
) -> tuple[tuple[ObjectPart, ...], bool]:
    """The parts numbered above ``marker``, at most ``limit``, from the object's part
    sizes as ``((size, count), ...)`` runs in part order (parts are numbered 1..count);
    and whether more follow."""
    page: list[ObjectPart] = []
    first = 1
    for size, count in runs:
        last = first + count - 1
        number = max(first, marker + 1)
        while number <= last:
            if len(page) == limit:
                return tuple(page), True
            page.append(ObjectPart(number, size))
            number += 1
        first = last + 1
    return tuple(page), False


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
            if "ObjectParts" in asked and rec.parts > 1:
                rec = self._with_part_sums(txn, rec)
        parts = None
        if "ObjectParts" in asked and rec.parts:
            # Objects completed before part sizes were recorded have only their count.
            known = sum(count for _, count in rec.part_sizes) == rec.parts
            listed, more = part_page(rec.part_sizes, marker, limit) if known else ((), False)
            parts = ObjectParts(
                total_parts_count=rec.parts,
                part_number_marker=marker,
                next_part_number_marker=listed[-1].part_number if more else None,
                max_parts=limit,
                is_truncated=more,
                parts=tuple(
                    replace(p, checksums=self._part_checksum(rec, p.part_number)) for p in listed
                ),
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
