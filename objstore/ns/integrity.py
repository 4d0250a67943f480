"""What a write asks to be computed and checked: S3 checksums and Content-MD5 (pure).

A write names at most one checksum algorithm (``checksum_algorithm``, or the
one of the value it supplies). The value may come before the body (a mapping,
as the ``x-amz-checksum-*`` header) or after it (a callable, evaluated once
the body's last byte is in and before the commit: HTTP trailers). Ingest
computes the digests on the way (:mod:`objstore.blob.ingest`); :meth:`Integrity.verify`
then compares them, so a mismatch stores nothing. Errors as S3 gives them:
a malformed value is InvalidRequest, a malformed Content-MD5 InvalidDigest,
a mismatch BadDigest.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from objstore import checksums
from objstore.blob.ingest import MD5
from objstore.errors import BadDigest, InvalidDigest, InvalidRequest

Supplied = Mapping[str, str] | Callable[[], Mapping[str, str]] | None


@dataclass(frozen=True, slots=True)
class Integrity:
    """The digests one write computes, and the values they must match."""

    algorithm: str | None = None
    expected: Mapping[str, bytes] | None = None
    later: Callable[[], Mapping[str, str]] | None = None
    content_md5: bytes | None = None

    def algorithms(self) -> tuple[str, ...]:
        """The extra digests ingest must compute."""
        out = () if self.algorithm is None else (self.algorithm,)
        return out + ((MD5,) if self.content_md5 is not None else ())

    def verify(self, computed: Mapping[str, bytes]) -> dict[str, str]:
        """Check the body's digests; return the checksum to store (algorithm -> base64).

        Raises BadDigest (a mismatch), InvalidRequest (a malformed or foreign
        trailing value, or a callable that fails).
        """
        if self.content_md5 is not None and computed.get(MD5) != self.content_md5:
            raise BadDigest("The Content-MD5 you specified did not match what we received.")
        expected = self.expected
        if self.later is not None:
            try:
                supplied = self.later()
            except Exception as exc:  # the caller's callable: its failure is a bad request
                raise InvalidRequest(f"the trailing checksum could not be read: {exc}") from exc
            expected = checksums.parse_supplied(supplied or {})
            _same_algorithm(self.algorithm, expected)
        if expected:
            checksums.verify(computed, expected)
        if self.algorithm is None:
            return {}
        return {self.algorithm: checksums.encode(computed[self.algorithm])}


def _same_algorithm(algorithm: str | None, supplied: Mapping[str, bytes]) -> None:
    for alg in supplied:
        if algorithm is not None and alg != algorithm:
            raise InvalidRequest(
                f"Checksum Type mismatch occurred, expected checksum Type: "
                f"{algorithm.lower()}, actual checksum Type: {alg.lower()}"
            )


def integrity(
    checksum_algorithm: object = None,
    supplied: object = None,
    content_md5: object = None,
    *,
    required: str | None = None,
) -> Integrity:
    """Validate a write's integrity parameters before any byte is read.

    ``required``: the algorithm a multipart upload fixed for its parts (a part
    naming another is InvalidRequest). Raises InvalidRequest, InvalidDigest.
    """
    algorithm = (
        None if checksum_algorithm is None else checksums.check_algorithm(checksum_algorithm)
    )
    expected: dict[str, bytes] | None = None
    later = None
    if callable(supplied):
        later = supplied
        if algorithm is None and required is None:
            raise InvalidRequest("a trailing checksum needs checksum_algorithm to be named")
    elif supplied is not None:
        if not isinstance(supplied, Mapping):
            raise InvalidRequest("checksums must be a mapping of algorithm to base64 value")
        expected = checksums.parse_supplied(supplied)
        _same_algorithm(algorithm, expected)
        if algorithm is None and expected:
            algorithm = next(iter(expected))
    if required is not None:
        _same_algorithm(required, {algorithm: b""} if algorithm else {})
        algorithm = required
    return Integrity(algorithm, expected, later, _content_md5(content_md5))


def _content_md5(value: object) -> bytes | None:
    if value is None:
        return None
    raw = b""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value.strip().encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
    if len(raw) != 16:
        raise InvalidDigest("The Content-MD5 you specified was invalid.")
    return raw
