"""Binary encodings of bucket and version records (pure).

A version record starts with a fixed header so listing can read size, time
and ETag without decoding the rest; the variable tail is JSON. Fields added
later (tags, additional checksums, system headers, part sizes, Object Lock, part
checksums) are optional tail entries, so records written before them decode with empty defaults.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from objstore.ns.locking import NO_LOCK, DefaultRetention, Lock

_HDR = struct.Struct("<BQQqHHI")  # flags, seq, size, mtime_ns, len etag, len vid, len tail
_SUM = struct.Struct("<QQqHH")  # seq, size, mtime_ns, len etag, len key
_F_MARKER = 1
_F_INLINE = 2


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One version of one key: an object or a delete marker."""

    key: str
    version_id: str
    seq: int
    mtime_ns: int
    is_marker: bool = False
    size: int = 0
    etag: str = ""
    checksum: str = ""
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    inline: bytes | None = None
    data_id: bytes | None = None
    parts: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    # S3's additional checksums: algorithm ("CRC32", ...) -> base64 value, and its type.
    checksums: dict[str, str] = field(default_factory=dict)
    checksum_type: str | None = None
    # A multipart object's part checksums of its ``checksums`` algorithm: the binary
    # digests joined in part order (all one size), so that a GET of one part can answer
    # that part's checksum as S3 does. Kept in the tail by records written before perf6b;
    # since then under the body's own key (blob.compose.set_part_sums), fetched into this
    # field only by a read of one part (Index._with_part_sums), and empty in the tail.
    part_checksums: bytes = b""
    # System metadata (validation.SYSTEM_HEADERS names, e.g. "cache_control") -> value.
    headers: dict[str, str] = field(default_factory=dict)
    # A multipart object's part sizes, run-length encoded: ((size, count), ...) in part
    # order. Empty for single PUTs, and for multipart objects completed before they
    # were recorded (GET by part number then knows only the count).
    part_sizes: tuple[tuple[int, int], ...] = ()
    # Object Lock: retention and legal hold (:mod:`.locking`); records before it have none.
    lock: Lock = NO_LOCK
    # CRC32 of ``inline``, checked by every read of it (:mod:`.inline`); records before
    # it have none and are checked against ``checksum`` (BLAKE3) instead.
    inline_crc: int | None = None

    def encode(self) -> bytes:
        tail: dict[str, Any] = {"k": self.key}
        if not self.is_marker:
            tail["c"] = self.checksum
            if self.content_type is not None:
                tail["t"] = self.content_type
            if self.metadata:
                tail["m"] = self.metadata
            if self.data_id is not None:
                tail["d"] = self.data_id.hex()
            if self.parts:
                tail["p"] = self.parts
            if self.tags:
                tail["g"] = self.tags
            if self.checksums:
                tail["x"] = self.checksums
            if self.checksum_type is not None:
                tail["y"] = self.checksum_type
            if self.part_checksums:
                tail["z"] = base64.b64encode(self.part_checksums).decode("ascii")
            if self.headers:
                tail["h"] = self.headers
            if self.part_sizes:
                tail["q"] = self.part_sizes
            encode_lock(tail, self.lock)
            if self.inline_crc is not None:
                tail["ic"] = self.inline_crc
        tail_b = json.dumps(tail, separators=(",", ":"), ensure_ascii=False).encode()
        etag_b = self.etag.encode()
        vid_b = self.version_id.encode()
        flags = (_F_MARKER if self.is_marker else 0) | (_F_INLINE if self.inline is not None else 0)
        head = _HDR.pack(
            flags, self.seq, self.size, self.mtime_ns, len(etag_b), len(vid_b), len(tail_b)
        )
        return b"".join((head, etag_b, vid_b, tail_b, self.inline or b""))

    @classmethod
    def decode(cls, raw: bytes) -> VersionRecord:
        flags, seq, size, mtime, le, lv, lt = _HDR.unpack_from(raw)
        p = _HDR.size
        etag = raw[p : p + le].decode()
        p += le
        vid = raw[p : p + lv].decode()
        p += lv
        tail = json.loads(raw[p : p + lt].decode())  # str: json skips sniffing the encoding
        p += lt
        data_id = tail.get("d")
        sums = tail.get("z")
        runs = tail.get("q")
        # Every GET and HEAD decodes one: built field by field (see _built), in the
        # order of the class's fields.
        return _built(
            (
                tail["k"],
                vid,
                seq,
                mtime,
                bool(flags & _F_MARKER),
                size,
                etag,
                tail.get("c", ""),
                tail.get("t"),
                tail.get("m", {}),
                raw[p:] if flags & _F_INLINE else None,
                bytes.fromhex(data_id) if data_id else None,
                tail.get("p", 0),
                tail.get("g", {}),
                tail.get("x", {}),
                tail.get("y"),
                base64.b64decode(sums) if sums else b"",
                tail.get("h", {}),
                tuple((size, count) for size, count in runs) if runs else (),
                decode_lock(tail),
                tail.get("ic"),
            )
        )

    def stamped(self, version_id: str, seq: int, mtime_ns: int, lock: Lock) -> VersionRecord:
        """This record as the version a write made of it: ``dataclasses.replace`` of
        those four fields, without its cost (a PUT makes one)."""
        values = [get(self) for get in _GETTERS]
        values[1:4] = (version_id, seq, mtime_ns)
        values[_LOCK] = lock
        return _built(values)

    def summary(self) -> bytes:
        """The compact form kept in the "latest" index for fast listing."""
        etag_b = self.etag.encode()
        key_b = self.key.encode()
        return (
            _SUM.pack(self.seq, self.size, self.mtime_ns, len(etag_b), len(key_b)) + etag_b + key_b
        )


_FIELDS = tuple(f.name for f in fields(VersionRecord))
# A frozen dataclass's __init__ sets each field through object.__setattr__ (3 us for
# VersionRecord's 21); its slots' own descriptors do the same in half the time. Used
# only with all 21 values, so no default and no invariant is skipped (the class has
# no __post_init__; tests/ns/test_records.py holds the result equal to __init__'s).
_SETTERS = tuple(VersionRecord.__dict__[name].__set__ for name in _FIELDS)
_GETTERS = tuple(VersionRecord.__dict__[name].__get__ for name in _FIELDS)
_LOCK = _FIELDS.index("lock")
assert _FIELDS[1:4] == ("version_id", "seq", "mtime_ns")
_new = object.__new__


def _built(values: Iterable[object]) -> VersionRecord:
    rec: VersionRecord = _new(VersionRecord)
    for put, value in zip(_SETTERS, values, strict=True):
        put(rec, value)
    return rec


def encode_lock(tail: dict[str, Any], lock: Lock) -> None:
    """Add a version's (or an upload's) lock to its JSON tail; nothing when it has none."""
    if lock.mode is not None:
        tail["lr"] = [lock.mode, lock.until_ms]
    if lock.legal_hold is not None:
        tail["lh"] = lock.legal_hold


def decode_lock(tail: dict[str, Any]) -> Lock:
    """The lock of a JSON tail (:data:`NO_LOCK` for records written before Object Lock)."""
    retention = tail.get("lr")
    hold = tail.get("lh")
    if retention is None and hold is None:
        return NO_LOCK
    mode, until = retention if retention is not None else (None, None)
    return Lock(mode, until, hold)


def decode_summary(raw: bytes) -> tuple[int, int, int, str, str]:
    """``(seq, size, mtime_ns, etag, key)`` from :meth:`VersionRecord.summary` bytes."""
    seq, size, mtime, le, lk = _SUM.unpack_from(raw)
    p = _SUM.size
    return seq, size, mtime, raw[p : p + le].decode(), raw[p + le : p + le + lk].decode()


def version_key(raw: bytes) -> str:
    """The key of an encoded :class:`VersionRecord`, read from its tail alone: a listing
    pass over a long-key group needs only that, not the record or its inline body."""
    _flags, _seq, _size, _mtime, le, lv, lt = _HDR.unpack_from(raw)
    p = _HDR.size + le + lv
    key: str = json.loads(raw[p : p + lt].decode())["k"]
    return key


# A bucket's object ownership when nothing else was set (S3's default since April 2023).
DEFAULT_OWNERSHIP = "BucketOwnerEnforced"


@dataclass(frozen=True, slots=True)
class BucketRecord:
    """A bucket: its owner, creation time, versioning state, object ownership, Object Lock
    and Block Public Access settings."""

    name: str
    owner: str
    created_ns: int
    versioning: str | None = None  # None (never enabled), "Enabled", "Suspended"
    # Object ownership controls; None once deleted (DeleteBucketOwnershipControls).
    ownership: str | None = DEFAULT_OWNERSHIP
    # Object Lock: enabled (for good), and the default retention of new versions.
    object_lock: bool = False
    default_retention: DefaultRetention | None = None
    # Block Public Access: (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
    # RestrictPublicBuckets), or None when the bucket has no configuration (the default).
    public_access_block: tuple[bool, bool, bool, bool] | None = None

    def encode(self) -> bytes:
        d: dict[str, Any] = {"o": self.owner, "c": self.created_ns, "v": self.versioning}
        if self.ownership != DEFAULT_OWNERSHIP:
            d["w"] = self.ownership  # records written before it have the default
        if self.object_lock:
            rule = self.default_retention
            d["lk"] = {} if rule is None else {"m": rule.mode, "d": rule.days, "y": rule.years}
        if self.public_access_block is not None:
            d["pab"] = [int(flag) for flag in self.public_access_block]
        return json.dumps(d, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, name: str, raw: bytes) -> BucketRecord:
        # Every request decodes its bucket's record (twice: the engine asks for the owner);
        # the result is immutable and a pure function of (name, raw), so it is kept.
        if type(raw) is not bytes:
            raw = bytes(raw)  # a backend's memoryview: hashable only as bytes
        found = _DECODED.get((name, raw))
        if found is not None:
            return found
        d = json.loads(raw.decode())
        rec = cls(
            name=name,
            owner=d["o"],
            created_ns=d["c"],
            versioning=d["v"],
            ownership=d.get("w", DEFAULT_OWNERSHIP),
            object_lock="lk" in d,
            default_retention=(
                DefaultRetention(d["lk"]["m"], d["lk"].get("d"), d["lk"].get("y"))
                if d.get("lk")
                else None
            ),
            public_access_block=_flags(d.get("pab")),
        )
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[(name, raw)] = rec
        return rec


_DECODED: dict[tuple[str, bytes], BucketRecord] = {}
_DECODED_MAX = 1024


def _flags(raw: Any) -> tuple[bool, bool, bool, bool] | None:
    if raw is None:
        return None
    a, b, c, d = (bool(flag) for flag in raw)
    return a, b, c, d
