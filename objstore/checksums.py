"""S3's additional checksums (pure): CRC32, CRC32C, CRC64NVME, SHA1, SHA256.

Values travel as S3's ``x-amz-checksum-*`` headers carry them: the base64 of
the big-endian digest (4 bytes for the CRC32s, 8 for CRC64NVME, 20 and 32 for
the SHAs). Every byte is hashed by compiled code that releases the GIL, so a
checksum runs on a thread of its own beside the ingest pipeline. Measured on
the project machine (docs/performance.md): CRC32 with ISA-L (``isal``,
~14 GiB/s; zlib's ~3.9, awscrt's ~2.8), CRC32C and CRC64NVME with awscrt
(~15-16 GiB/s), SHA1/SHA256 with hashlib.

Multipart objects (S3 User Guide, "Checking object integrity in Amazon S3"):

- ``COMPOSITE``: the algorithm over the concatenated binary part checksums,
  then ``-N`` (N parts). Allowed for CRC32, CRC32C, SHA1, SHA256.
- ``FULL_OBJECT``: the checksum of the whole object, for CRC32, CRC32C and
  CRC64NVME only. It is combined from the part CRCs and sizes with CRC
  arithmetic on integers (:func:`combine`): no byte is read again.

Without a type, CRC64NVME is FULL_OBJECT and the others COMPOSITE, as in S3.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from awscrt import checksums as _crt
from isal import isal_zlib

from objstore.errors import BadDigest, InvalidRequest

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
CRCS = frozenset({"CRC32", "CRC32C", "CRC64NVME"})
COMPOSITE = "COMPOSITE"
FULL_OBJECT = "FULL_OBJECT"
CHECKSUM_TYPES = (COMPOSITE, FULL_OBJECT)
_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


class Hasher(Protocol):
    """An incremental checksum: feed it bytes, then take the binary digest."""

    def update(self, data: bytes | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class _CrcSpec:
    """A reflected CRC with all-ones init and final XOR (all three S3 CRCs are)."""

    width: int
    poly: int  # reflected polynomial
    fn: Callable[[bytes | memoryview, int], int]  # compiled: (data, previous crc) -> crc


def _reflect(value: int, width: int) -> int:
    return int(format(value, f"0{width}b")[::-1], 2)


_CRC: dict[str, _CrcSpec] = {
    "CRC32": _CrcSpec(32, 0xEDB88320, isal_zlib.crc32),
    "CRC32C": _CrcSpec(32, 0x82F63B78, _crt.crc32c),
    # CRC-64/NVME: normal polynomial 0xAD93D23594C93659.
    "CRC64NVME": _CrcSpec(64, _reflect(0xAD93D23594C93659, 64), _crt.crc64nvme),
}


class _Crc:
    __slots__ = ("_fn", "_size", "value")

    def __init__(self, spec: _CrcSpec) -> None:
        self._fn = spec.fn
        self._size = spec.width // 8
        self.value = 0

    def update(self, data: bytes | memoryview, /) -> None:
        self.value = self._fn(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._size, "big")


def new(algorithm: str) -> Hasher:
    """A fresh hasher for ``algorithm`` (one of :data:`ALGORITHMS`)."""
    spec = _CRC.get(algorithm)
    if spec is not None:
        return _Crc(spec)
    return hashlib.sha1() if algorithm == "SHA1" else hashlib.sha256()


def digest(algorithm: str, data: bytes | memoryview) -> bytes:
    """The binary checksum of ``data``."""
    h = new(algorithm)
    h.update(data)
    return h.digest()


def encode(raw: bytes) -> str:
    """The header form (base64) of a binary checksum."""
    return base64.b64encode(raw).decode("ascii")


def header(algorithm: str) -> str:
    """The request/response header that carries ``algorithm``'s value."""
    return f"x-amz-checksum-{algorithm.lower()}"


def check_algorithm(name: object) -> str:
    """The S3 spelling of a checksum algorithm name; raises InvalidRequest."""
    if isinstance(name, str) and name.upper() in _SIZES:
        return name.upper()
    raise InvalidRequest(
        "Value for x-amz-checksum-algorithm header is invalid.", checksum_algorithm=name
    )


def optional_algorithm(name: object) -> str | None:
    """As :func:`check_algorithm`, with None for None."""
    return None if name is None else check_algorithm(name)


def decode(algorithm: str, value: object) -> bytes:
    """The binary checksum a header value carries; raises InvalidRequest when it is not
    base64 of the algorithm's digest size (S3's answer to a malformed value)."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value.strip().encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
        if len(raw) == _SIZES[algorithm]:
            return raw
    raise InvalidRequest(
        f"Value for {header(algorithm)} header is invalid.", checksum_algorithm=algorithm
    )


def parse_supplied(supplied: Mapping[str, str]) -> dict[str, bytes]:
    """``{ALGORITHM: binary}`` from a mapping of algorithm names (any case, or the
    ``x-amz-checksum-*`` header names) to base64 values; raises InvalidRequest
    for an unknown algorithm, a malformed value or more than one algorithm."""
    if not isinstance(supplied, Mapping):
        raise InvalidRequest("checksums must be a mapping of algorithm to base64 value")
    out: dict[str, bytes] = {}
    for name, value in supplied.items():
        alg = name.removeprefix("x-amz-checksum-") if isinstance(name, str) else name
        alg = check_algorithm(alg)
        out[alg] = decode(alg, value)
    if len(out) > 1:
        raise InvalidRequest(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    return out


def verify(computed: Mapping[str, bytes], expected: Mapping[str, bytes]) -> None:
    """Raise BadDigest (S3's wording) when a computed checksum differs from the supplied one."""
    for alg, want in expected.items():
        if computed.get(alg) != want:
            raise BadDigest(
                f"The {alg} you specified did not match the calculated checksum.",
                checksum_algorithm=alg,
            )


def check_type(algorithm: str | None, checksum_type: object) -> str | None:
    """The checksum type of a multipart upload (S3's default when None); raises
    InvalidRequest for an unknown type, a type without an algorithm, or a pair S3
    refuses (FULL_OBJECT with a SHA, COMPOSITE with CRC64NVME)."""
    if checksum_type is None:
        if algorithm is None:
            return None
        return FULL_OBJECT if algorithm == "CRC64NVME" else COMPOSITE
    if checksum_type not in CHECKSUM_TYPES:
        raise InvalidRequest(
            "Value for x-amz-checksum-type header is invalid.", checksum_type=checksum_type
        )
    if algorithm is None:
        raise InvalidRequest(
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
            "header."
        )
    if (checksum_type == FULL_OBJECT and algorithm not in CRCS) or (
        checksum_type == COMPOSITE and algorithm == "CRC64NVME"
    ):
        raise InvalidRequest(
            f"The {checksum_type} checksum type cannot be used with the "
            f"{algorithm.lower()} checksum algorithm."
        )
    return str(checksum_type)


def composite(algorithm: str, part_digests: Iterable[bytes]) -> str:
    """S3's COMPOSITE checksum: the algorithm over the part checksums, ``-N``."""
    parts = list(part_digests)
    return f"{encode(digest(algorithm, b''.join(parts)))}-{len(parts)}"


def full_object(algorithm: str, parts: Iterable[tuple[bytes, int]]) -> str:
    """S3's FULL_OBJECT checksum from ``(part crc, part size)`` pairs, in order."""
    spec = _CRC[algorithm]
    crc = 0  # the CRC of no bytes
    for raw, size in parts:
        crc = combine(algorithm, crc, int.from_bytes(raw, "big"), size)
    return encode(crc.to_bytes(spec.width // 8, "big"))


# --- CRC arithmetic ----------------------------------------------------------------
# A reflected CRC register is a polynomial over GF(2) with x^0 in the top bit. For
# these CRCs (init = final XOR = all ones) crc(A + B) = crc(A) * x^(8 len B) + crc(B)
# modulo P, so joining needs one multiplication by x^(8n) mod P. x^(8n) comes from
# the powers x^(2^k) by square-and-multiply over the bits of n: O(width * log n)
# integer operations, whatever the sizes.


def _multmod(spec: _CrcSpec, a: int, b: int) -> int:
    """a * b modulo P (both reflected)."""
    m = 1 << (spec.width - 1)
    p = 0
    while a:
        if a & m:
            p ^= b
            a ^= m
        m >>= 1
        b = (b >> 1) ^ spec.poly if b & 1 else b >> 1
    return p


@lru_cache(maxsize=16)
def _x2n_table(algorithm: str) -> tuple[int, ...]:
    """x^(2^k) mod P for k = 0..69 (lengths up to 2^64 bytes, in bits)."""
    spec = _CRC[algorithm]
    p = 1 << (spec.width - 2)  # x^1
    out = [p]
    for _ in range(69):
        p = _multmod(spec, p, p)
        out.append(p)
    return tuple(out)


@lru_cache(maxsize=256)
def _shift(algorithm: str, nbytes: int) -> int:
    """x^(8 * nbytes) mod P (cached: parts mostly share one size)."""
    spec = _CRC[algorithm]
    table = _x2n_table(algorithm)
    p = 1 << (spec.width - 1)  # x^0
    n, k = nbytes, 3  # 8 * nbytes = nbytes * 2^3
    while n:
        if n & 1:
            p = _multmod(spec, table[k], p)
        n >>= 1
        k += 1
    return p


def combine(algorithm: str, crc1: int, crc2: int, len2: int) -> int:
    """The CRC of A + B from crc(A), crc(B) and len(B), for a CRC algorithm."""
    if len2 <= 0:
        return crc1
    return _multmod(_CRC[algorithm], _shift(algorithm, len2), crc1) ^ crc2
