"""Order-preserving encoding of S3 keys into metadata keys (pure).

S3 keys are up to 1024 bytes; LMDB keys at most 511. An encoded key ``ekey``
is the key's UTF-8 bytes with NUL escaped (``00`` -> ``00 01``) and, if short
enough, a terminator ``00 00``. Byte order of encodings equals byte order of
keys, because the terminator sorts below every continuation.

A key whose escaped form exceeds :data:`CUT` bytes is *long*: it is encoded
as its first ``CUT`` bytes, the marker ``00 02`` and 16 bytes of its BLAKE3
hash (for uniqueness). Long keys still sort correctly against every other key
except other long keys that share the same first ``CUT`` bytes; those form a
contiguous *group* that listing sorts by the full key (kept in the record).

Prefix bounds come from :func:`objstore.meta.scan.prefix_end`, like every
other prefix walk in the package.
"""

from __future__ import annotations

import blake3

from objstore.meta.scan import prefix_end

CUT = 400  # escaped bytes kept in a long key's encoding; fits LMDB's 511 with room for the rest
TERMINATOR = b"\x00\x00"
LONG_MARKER = b"\x00\x02"
LONG_LEN = CUT + len(LONG_MARKER) + 16
# Above every encoding: neither UTF-8 nor the NUL escape ever produces the
# byte ff. Only the empty prefix needs it (it has no byte to increment).
ABOVE_ALL = bytes((0xFF,))
SEP = b"\x00"  # between bucket name and ekey (bucket names contain no NUL)


def escape(key: str) -> bytes:
    """UTF-8 bytes of ``key`` with NUL escaped (order-preserving, no terminator)."""
    raw = key.encode("utf-8")
    return raw.replace(b"\x00", b"\x00\x01") if b"\x00" in raw else raw


def unescape(raw: bytes) -> str:
    return (raw.replace(b"\x00\x01", b"\x00") if b"\x00" in raw else raw).decode("utf-8")


def _cut_point(esc: bytes) -> int:
    # Never split an escape pair: a dangling 00 would sort like a terminator.
    # A 00 byte is always the first byte of a pair (00 01), so step back one.
    return CUT - 1 if esc[CUT - 1] == 0 else CUT


def encode_key(key: str) -> bytes:
    """The metadata encoding of an S3 key (see the module docstring)."""
    esc = escape(key)
    if len(esc) <= CUT:
        return esc + TERMINATOR
    return esc[: _cut_point(esc)] + LONG_MARKER + blake3.blake3(esc).digest()[:16]


def is_long(ekey: bytes) -> bool:
    """Whether ``ekey`` is a truncated long-key encoding.

    A short encoding cannot hold ``00 02`` anywhere (its only NULs are escape
    pairs and the terminator), so the marker's position alone decides.
    """
    return ekey[-18:-16] == LONG_MARKER


def long_group(ekey: bytes) -> bytes:
    """The shared head of a long key's group (everything before the hash)."""
    return ekey[:-16]


def decode_key(ekey: bytes) -> str | None:
    """The S3 key of a short encoding, or None for a long one (read the record)."""
    if is_long(ekey):
        return None
    return unescape(ekey[:-2])


def prefix_bound(prefix: str) -> tuple[bytes, bytes]:
    """``(start, stop)`` bounds of the encodings of all keys starting with ``prefix``.

    For a prefix longer than a long key's cut, the bounds cover a superset;
    callers filter on the decoded key.
    """
    esc = escape(prefix)
    if len(esc) >= CUT:
        # Every key with this prefix is long and shares the same cut.
        esc = esc[: _cut_point(esc)]
    end = prefix_end(esc)
    return esc, ABOVE_ALL if end is None else end


def after_prefix(prefix: str) -> bytes:
    """An encoding just past every key starting with ``prefix`` (for delimiter skips)."""
    return prefix_bound(prefix)[1]
