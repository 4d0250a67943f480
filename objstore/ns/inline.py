"""Bodies kept inside their version records (objects up to the inline threshold), checked
against the record's CRC32 of them (its BLAKE3 checksum, for records written before that
field) before anyone is given their bytes.

A chunk is checked against its id on every read; an inline body lives in the metadata,
and LMDB keeps no checksums of its own, so without this check a flipped bit in
``data.mdb`` was served as the object and fsck called the store healthy (review 10b, R4).
The CRC32 of 4 KiB costs about a microsecond.
"""

from __future__ import annotations

import zlib

import blake3

from objstore.errors import DataCorruption
from objstore.ns.records import VersionRecord

__all__ = ["inline_body", "inline_problem"]


# blake3 releases the GIL for an input of 2,048 bytes or more: on a 4 KiB GET that was a
# thread switch per call, and four GET threads went from ~54 to ~86 us of CPU each. Fed
# in slices below that size it keeps the GIL (~6 us for 4 KiB instead of ~2 plus the
# switch); inline bodies are at most a few KiB, so this is a handful of updates.
_SLICE = 2047


def _matches(rec: VersionRecord, body: bytes) -> bool:
    if rec.inline_crc is not None:
        # Written with the body since session 18: ~1 us for 4 KiB, and zlib keeps the
        # GIL below 5 KiB.
        return zlib.crc32(body) == rec.inline_crc
    # Older records: every record with an inline body stores the body's BLAKE3 as 64 hex
    # digits (PUT and copy alike); anything else in that field is itself damage.
    if len(body) < _SLICE:
        return blake3.blake3(body).hexdigest() == rec.checksum
    h = blake3.blake3()
    view = memoryview(body)
    for at in range(0, len(body), _SLICE):
        h.update(view[at : at + _SLICE])
    return h.hexdigest() == rec.checksum


def inline_body(rec: VersionRecord) -> bytes:
    """The inline body of ``rec`` (which has one), verified.

    Raises DataCorruption when its bytes do not match the record's checksum.
    """
    body = rec.inline
    assert body is not None
    if not _matches(rec, body):
        raise DataCorruption(
            f"the stored body of {rec.key!r} (version {rec.version_id or 'null'}) no longer "
            "matches its checksum: the metadata file is damaged",
            key=rec.key,
        )
    return body


def inline_problem(key: bytes, rec: VersionRecord) -> str | None:
    """For fsck: what is wrong with the inline body of ``rec``, stored under the metadata
    key ``key`` (``V <bucket> 00 ...``), or None (no inline body, or a sound one)."""
    if rec.inline is None or _matches(rec, rec.inline):
        return None
    bucket = key[1 : key.index(b"\0", 1)].decode("utf-8", "replace")
    return (
        f"object {bucket}/{rec.key} (version {rec.version_id or 'null'}): its stored body "
        "does not match its checksum (damaged metadata)"
    )
