"""Multipart uploads: record encodings and S3's completion rules (pure).

Records (prefixes from :mod:`objstore.keyspace`):

- ``U bucket 00 ekey upload-id`` -> :class:`UploadRecord` (key, metadata,
  content type). The 16-byte upload id starts with the initiation time in
  nanoseconds (big-endian), so one key's uploads sort by initiation, as S3
  lists them, and a stale-upload sweep reads keys only.
- ``T upload-id part-number`` -> :class:`PartRecord` (the part's body, size,
  time and digests, and its S3 checksum when the upload has an algorithm).

Both records gained fields later (tags, system headers, checksum algorithm and
type; the part checksum as an optional trailer): older records decode with
empty defaults.

ETags: a part's ETag is the hex MD5 of its bytes, as S3's. The object's is
the MD5 of the concatenated binary part MD5s, then ``-N`` (N parts). With
``etag_mode="blake3"`` every MD5 above is replaced by BLAKE3 (32-byte
digests): part ETag = BLAKE3 of the part, object ETag = BLAKE3 of the
concatenated part BLAKE3 digests + ``-N``. The object's ``checksum`` is
always that BLAKE3 form (a composite body's whole-object BLAKE3 would need
its bytes hashed, which completion never does).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import blake3

from objstore import checksums
from objstore.errors import (
    EntityTooLarge,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
)
from objstore.ns.locking import NO_LOCK, Lock
from objstore.ns.records import decode_lock, encode_lock

_PART = struct.Struct("<16sQqB16s32s")  # data id, size, mtime_ns, has md5, md5, blake3
_HEX32 = re.compile(r"[0-9a-f]{32}")


def new_upload_id(now_ns: int) -> bytes:
    """16 bytes: initiation time (ns, big-endian) + 8 random bytes."""
    return now_ns.to_bytes(8, "big") + os.urandom(8)


def parse_upload_id(upload_id: object) -> bytes | None:
    """The stored form of a public upload id, or None if it cannot be one."""
    if not isinstance(upload_id, str) or not _HEX32.fullmatch(upload_id):
        return None
    return bytes.fromhex(upload_id)


def initiated_ns(uid: bytes) -> int:
    return int.from_bytes(uid[:8], "big")


def part_key_suffix(part_number: int) -> bytes:
    return part_number.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """What ``create_multipart_upload`` fixed for the object to be."""

    key: str
    metadata: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    # The Object Lock the object gets (x-amz-object-lock-* of the initiation).
    lock: Lock = NO_LOCK

    def encode(self) -> bytes:
        d: dict[str, Any] = {"k": self.key}
        if self.metadata:
            d["m"] = self.metadata
        if self.content_type is not None:
            d["t"] = self.content_type
        if self.tags:
            d["g"] = self.tags
        if self.headers:
            d["h"] = self.headers
        if self.checksum_algorithm is not None:
            d["a"] = self.checksum_algorithm
            d["y"] = self.checksum_type
        encode_lock(d, self.lock)
        return json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, raw: bytes) -> UploadRecord:
        d = json.loads(raw)
        return cls(
            key=d["k"],
            metadata=d.get("m", {}),
            content_type=d.get("t"),
            tags=d.get("g", {}),
            headers=d.get("h", {}),
            checksum_algorithm=d.get("a"),
            checksum_type=d.get("y"),
            lock=decode_lock(d),
        )


@dataclass(frozen=True, slots=True)
class CompletionRecord:
    """What a completion made, kept a while so that a client retrying a completion
    whose answer it lost gets the same answer (S3 does) instead of NoSuchUpload."""

    bucket: str
    key: str
    version_id: str
    data_id: bytes
    parts: bytes  # parts_digest() of the part list the completion was given
    done_ns: int

    def encode(self) -> bytes:
        d = {
            "b": self.bucket,
            "k": self.key,
            "v": self.version_id,
            "d": self.data_id.hex(),
            "p": self.parts.hex(),
            "t": self.done_ns,
        }
        return json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, raw: bytes) -> CompletionRecord:
        d = json.loads(raw)
        return cls(d["b"], d["k"], d["v"], bytes.fromhex(d["d"]), bytes.fromhex(d["p"]), d["t"])


def parts_digest(listed: list[tuple[int, str]]) -> bytes:
    """A digest of a completion's part list (ETags with or without their quotes)."""
    text = "\n".join(f"{number} {etag.strip().strip(chr(34))}" for number, etag in listed)
    return hashlib.sha256(text.encode()).digest()[:16]


@dataclass(frozen=True, slots=True)
class PartRecord:
    """One uploaded part: the body holding its bytes and their digests."""

    data_id: bytes
    size: int
    mtime_ns: int
    md5: bytes | None
    blake3: bytes
    # The part's S3 checksum (algorithm, binary digest), when the upload names one.
    checksum: tuple[str, bytes] | None = None

    def encode(self) -> bytes:
        fixed = _PART.pack(
            self.data_id,
            self.size,
            self.mtime_ns,
            self.md5 is not None,
            self.md5 or bytes(16),
            self.blake3,
        )
        if self.checksum is None:
            return fixed
        alg, raw = self.checksum
        return fixed + bytes((checksums.ALGORITHMS.index(alg) + 1,)) + raw

    @classmethod
    def decode(cls, raw: bytes) -> PartRecord:
        data_id, size, mtime, has_md5, md5, b3 = _PART.unpack_from(raw)
        checksum = None
        if len(raw) > _PART.size:  # the optional checksum trailer
            checksum = (checksums.ALGORITHMS[raw[_PART.size] - 1], raw[_PART.size + 1 :])
        return cls(data_id, size, mtime, md5 if has_md5 else None, b3, checksum)

    def checksums(self) -> dict[str, str]:
        """The part's S3 checksum as ``{algorithm: base64}`` (empty without one)."""
        if self.checksum is None:
            return {}
        return {self.checksum[0]: checksums.encode(self.checksum[1])}

    def etag(self) -> str:
        """The part's ETag: MD5 (or, without one, BLAKE3) of its bytes, quoted."""
        return f'"{(self.md5 if self.md5 is not None else self.blake3).hex()}"'


def check_part_number(part_number: object, max_parts: int) -> int:
    """Raises InvalidArgument unless ``part_number`` is an int in 1..max_parts."""
    if type(part_number) is not int or not 1 <= part_number <= max_parts:
        raise InvalidArgument(
            f"part number must be an integer between 1 and {max_parts}", part_number=part_number
        )
    return part_number


def bare_etag(etag: str) -> str:
    """An ETag without its quotes, lower case (clients pass either form)."""
    return etag.strip().strip('"').lower()


def normalize_parts(parts: object) -> list[tuple[int, str]]:
    """``(part number, etag)`` pairs from pairs, UploadPartResult-like objects or
    boto3-style ``{"PartNumber": n, "ETag": e}`` mappings.

    Raises InvalidArgument for anything else, InvalidRequest for an empty list.
    """
    if isinstance(parts, str | bytes) or not isinstance(parts, Iterable):
        raise InvalidArgument("parts must be a list of (part_number, etag) pairs")
    out: list[tuple[int, str]] = []
    for entry in parts:
        if isinstance(entry, tuple) and len(entry) == 2:
            number, etag = entry
        elif isinstance(entry, Mapping) and "PartNumber" in entry and "ETag" in entry:
            number, etag = entry["PartNumber"], entry["ETag"]
        elif hasattr(entry, "part_number") and hasattr(entry, "etag"):
            number, etag = entry.part_number, entry.etag
        else:
            raise InvalidArgument(f"cannot read a part from {entry!r}")
        if type(number) is not int or not isinstance(etag, str):
            raise InvalidArgument(f"a part is (int part number, str etag), not {entry!r}")
        out.append((number, etag))
    if not out:
        raise InvalidRequest("a multipart upload must be completed with at least one part")
    return out


_PART_CHECKSUM_NAMES = {f"Checksum{alg}": alg for alg in checksums.ALGORITHMS}


def part_checksums(parts: object) -> dict[int, dict[str, str]]:
    """The part checksums a completion lists, by part number: from boto3-style
    mappings (``"ChecksumCRC32": value`` ...) and UploadPartResult-like objects
    (``.checksums``). Malformed entries are left to :func:`normalize_parts`."""
    out: dict[int, dict[str, str]] = {}
    if isinstance(parts, str | bytes) or not isinstance(parts, Iterable):
        return out
    for entry in parts:
        found: dict[str, str] = {}
        number: object = None
        if isinstance(entry, Mapping):
            number = entry.get("PartNumber")
            found = {
                alg: entry[name] for name, alg in _PART_CHECKSUM_NAMES.items() if name in entry
            }
        elif hasattr(entry, "part_number") and isinstance(getattr(entry, "checksums", None), dict):
            number, found = entry.part_number, dict(entry.checksums)
        if found and type(number) is int:
            out[number] = found
    return out


def check_part_checksums(
    chosen: list[tuple[int, PartRecord]],
    listed: Mapping[int, Mapping[str, str]],
    up: UploadRecord,
) -> None:
    """S3's completion rules for part checksums: a listed one must match the stored one
    (InvalidPart); a COMPOSITE upload must list every part's (InvalidRequest)."""
    alg = up.checksum_algorithm
    for number, rec in chosen:
        given = listed.get(number, {})
        for name, value in given.items():
            stored = rec.checksum
            if stored is None or stored[0] != name or checksums.encode(stored[1]) != value:
                raise InvalidPart(
                    f"part {number}: the {name} checksum does not match the uploaded part",
                    part_number=number,
                )
        if alg is not None and up.checksum_type == checksums.COMPOSITE and alg not in given:
            raise InvalidRequest(
                f"The upload was created using a {alg.lower()} checksum. The complete request "
                f"must include the checksum for each part. It was missing for part {number} "
                "in the request."
            )


def object_checksum(chosen: list[PartRecord], up: UploadRecord) -> dict[str, str]:
    """The completed object's checksum (``{algorithm: value}``), or {} when the upload
    has no algorithm or a part has no checksum of it."""
    alg = up.checksum_algorithm
    if alg is None or any(p.checksum is None or p.checksum[0] != alg for p in chosen):
        return {}
    digests = [p.checksum[1] for p in chosen if p.checksum is not None]
    if up.checksum_type == checksums.FULL_OBJECT:
        sizes = [p.size for p in chosen]
        return {alg: checksums.full_object(alg, zip(digests, sizes, strict=True))}
    return {alg: checksums.composite(alg, digests)}


def joined_part_digests(chosen: list[PartRecord], whole: Mapping[str, str]) -> bytes:
    """The parts' binary checksums joined in part order, kept on the completed object
    when it has a checksum (``whole``, from :func:`object_checksum`), else empty."""
    if not whole:
        return b""
    return b"".join(p.checksum[1] for p in chosen if p.checksum is not None)


def check_completion(
    listed: list[tuple[int, str]],
    stored: Mapping[int, PartRecord],
    *,
    min_part_size: int,
    max_object_size: int,
    consecutive: bool = False,
) -> list[PartRecord]:
    """The parts to join, in order; S3's checks in S3's order.

    Raises InvalidPartOrder (numbers not strictly ascending; with ``consecutive``,
    as an upload with a FULL_OBJECT checksum needs, numbers not 1, 2, 3, ...),
    InvalidPart (a part not uploaded, or its ETag differs), EntityTooSmall (a part
    but the last under ``min_part_size``), EntityTooLarge (the total is over
    ``max_object_size``).
    """
    numbers = [n for n, _ in listed]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        raise InvalidPartOrder(
            "The list of parts was not in ascending order. Parts must be ordered by part number."
        )
    # A FULL_OBJECT checksum is the CRC of the whole body, combined from the parts' CRCs:
    # S3 accepts it only for parts numbered from 1 without a gap.
    if consecutive and numbers != list(range(1, len(numbers) + 1)):
        raise InvalidPartOrder(
            "An upload with a FULL_OBJECT checksum must be completed with parts numbered "
            "consecutively from 1."
        )
    chosen: list[PartRecord] = []
    for number, etag in listed:
        rec = stored.get(number)
        if rec is None or bare_etag(rec.etag()) != bare_etag(etag):
            raise InvalidPart(
                f"part {number} was not uploaded or its ETag does not match", part_number=number
            )
        chosen.append(rec)
    for number, rec in zip(numbers[:-1], chosen[:-1], strict=True):
        if rec.size < min_part_size:
            raise EntityTooSmall(
                f"part {number} is {rec.size} bytes; every part but the last must be at "
                f"least {min_part_size}",
                part_number=number,
                min_size_allowed=min_part_size,
            )
    total = sum(r.size for r in chosen)
    if total > max_object_size:
        raise EntityTooLarge(
            f"the parts add up to {total} bytes, over the limit of {max_object_size}",
            max_size=max_object_size,
        )
    return chosen


def multipart_etag(parts: list[PartRecord], md5_mode: bool) -> str:
    """S3's multipart ETag (or its BLAKE3 equivalent, see the module docstring)."""
    if md5_mode and all(p.md5 is not None for p in parts):
        digest = hashlib.md5(b"".join(p.md5 or b"" for p in parts)).hexdigest()
    else:
        digest = blake3.blake3(b"".join(p.blake3 for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def multipart_checksum(parts: list[PartRecord]) -> str:
    """BLAKE3 of the concatenated part BLAKE3 digests, then ``-N``."""
    return f"{blake3.blake3(b''.join(p.blake3 for p in parts)).hexdigest()}-{len(parts)}"


def known_digests(etag: str, checksum: str, md5_mode: bool) -> tuple[bytes | None, bytes] | None:
    """A single-part body's ``(md5, blake3)`` from its ETag and checksum, or None
    when they are not plain digests of its bytes (multipart ``-N`` forms, or an
    ETag made in the other etag mode): then the bytes must be hashed."""
    b3 = checksum.lower()
    if len(b3) != 64 or "-" in b3:
        return None
    if not md5_mode:
        return None, bytes.fromhex(b3)
    md5 = bare_etag(etag)
    if not _HEX32.fullmatch(md5):
        return None
    return bytes.fromhex(md5), bytes.fromhex(b3)


def copy_range(src_range: object, size: int) -> tuple[int, int]:
    """``(first, length)`` of a part copy's source range (S3's ``bytes=first-last``).

    ``None`` copies the whole source. Raises InvalidArgument for a malformed
    range, InvalidRange when it ends past the source.
    """
    if src_range is None:
        return 0, size
    first: object
    last: object
    if isinstance(src_range, tuple) and len(src_range) == 2:
        first, last = src_range
    elif isinstance(src_range, str):
        m = re.fullmatch(r"bytes=([0-9]{1,19})-([0-9]{1,19})", src_range.strip(), re.ASCII)
        if m is None:
            raise InvalidArgument(
                "src_range must be 'bytes=first-last' (zero-based, inclusive)", range=src_range
            )
        first, last = int(m.group(1)), int(m.group(2))
    else:
        raise InvalidArgument("src_range must be (first, last) or 'bytes=first-last'")
    if type(first) is not int or type(last) is not int or first < 0 or last < first:
        raise InvalidArgument("src_range must satisfy 0 <= first <= last", range=src_range)
    if last >= size:
        raise InvalidRange(
            f"range {first}-{last} is outside the {size}-byte source", range=src_range
        )
    return first, last - first + 1
