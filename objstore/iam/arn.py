"""Amazon Resource Names: parsing, validation and part-wise matching.

An ARN has six colon-separated parts, ``arn:partition:service:region:account:resource``.
Only the first five colons separate parts: the resource may itself contain ``:`` and ``/``
(``arn:aws:lambda:us-east-1:111122223333:function:f:1``).

Matching as the ``Arn*`` condition operators and the ``Resource`` element do it: each of the
six parts is matched on its own, case-sensitively, with ``*`` / ``?`` wildcards that cannot
cross into the next part (the resource part, being last, can contain colons, and a wildcard
there matches them). ``ArnEquals`` and ``ArnLike``
behave identically in AWS, both honouring wildcards. A pattern that does not have all six
parts (``"*"`` alone, ``"arn:aws:s3"``) matches nothing: AWS requires every part to be
present, even if it is only a wildcard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from objstore.iam.glob import Glob, Wild

__all__ = ["Arn", "ArnPattern", "arn_like", "is_valid_arn", "split_arn"]

_PARTS = 6


def split_arn(text: str) -> tuple[str, str, str, str, str, str] | None:
    """Split into the six parts (``"arn"`` first), or None if there are fewer than six."""
    pieces = text.split(":", _PARTS - 1)
    if len(pieces) != _PARTS:
        return None
    return (pieces[0], pieces[1], pieces[2], pieces[3], pieces[4], pieces[5])


@dataclass(frozen=True, slots=True)
class Arn:
    """A parsed ARN. Wildcards are kept as text (policy ARNs may contain them)."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @staticmethod
    def parse(text: str) -> Arn:
        """Parse ``arn:partition:service:region:account:resource``.

        Region and account may be empty (S3 and IAM ARNs leave them out); partition,
        service and resource may not. Raises ValueError naming what is wrong.
        """
        if not isinstance(text, str):
            raise ValueError(f"ARN must be a string, not {type(text).__name__}")
        parts = split_arn(text)
        if parts is None:
            raise ValueError(
                f"malformed ARN {text!r}: expected arn:partition:service:region:account:resource"
            )
        prefix, partition, service, region, account, resource = parts
        if prefix != "arn":
            raise ValueError(f"malformed ARN {text!r}: must start with 'arn:'")
        if not partition:
            raise ValueError(f"malformed ARN {text!r}: empty partition")
        if not service:
            raise ValueError(f"malformed ARN {text!r}: empty service")
        if not resource:
            raise ValueError(f"malformed ARN {text!r}: empty resource")
        return Arn(partition, service, region, account, resource)

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def is_valid_arn(text: str) -> bool:
    """Whether ``text`` parses as an ARN (see :meth:`Arn.parse`). Never raises."""
    try:
        Arn.parse(text)
    except ValueError:
        return False
    return True


def _split_parts(parts: Sequence[str | Wild]) -> list[list[str | Wild]] | None:
    """Split pattern pieces at the first five ':' of their literal text."""
    groups: list[list[str | Wild]] = [[]]
    for part in parts:
        if isinstance(part, Wild) or len(groups) == _PARTS:
            groups[-1].append(part)
            continue
        pieces = part.split(":", _PARTS - len(groups))
        groups[-1].append(pieces[0])
        for piece in pieces[1:]:
            groups.append([piece])
    if len(groups) != _PARTS:
        return None
    return groups


@dataclass(frozen=True, slots=True)
class ArnPattern:
    """A compiled ``ArnLike`` pattern: six part globs, or nothing if the pattern is malformed.

    ``literal`` is set when no part has a wildcard: then the match is plain equality of
    the whole string (part-wise equality of six parts is exactly string equality). When
    only the resource part has wildcards, one whole-string glob (the literal first five
    parts, colons included, then the resource part's pattern) is the same test, and faster.
    """

    source: str
    literal: str | None
    globs: tuple[Glob, ...] | None  # six globs; None when the pattern cannot match anything
    _whole: Glob | None = field(default=None, repr=False, compare=False)

    @staticmethod
    def compile(pattern: str) -> ArnPattern:
        """Compile pattern text where ``*`` and ``?`` are wildcards. Never raises for a str."""
        return ArnPattern.from_parts(Glob.compile(pattern).parts)

    @staticmethod
    def from_parts(parts: Sequence[str | Wild]) -> ArnPattern:
        """Compile from literal pieces and wildcard markers (after variable substitution).

        ``*`` and ``?`` characters inside literal pieces stay literal; ``:`` inside literal
        pieces separates ARN parts wherever it came from.
        """
        source = "".join(p.value if isinstance(p, Wild) else p for p in parts)
        groups = _split_parts(parts)
        if groups is None:
            return ArnPattern(source, None, None)
        globs = tuple(Glob.from_parts(g) for g in groups)
        if all(g.is_literal for g in globs):
            literal = ":".join(g.literal or "" for g in globs)
            return ArnPattern(source, literal, globs)
        whole = None
        if all(g.is_literal for g in globs[:-1]):
            head = "".join(f"{g.literal}:" for g in globs[:-1])
            whole = Glob.from_parts([head, *groups[-1]])
        return ArnPattern(source, None, globs, whole)

    @property
    def can_match(self) -> bool:
        """False when the pattern lacks one of the six parts and so matches nothing."""
        return self.globs is not None

    def match(self, value: str) -> bool:
        """Whether ``value`` (an ARN string) matches part by part. Never raises for a str."""
        if self.literal is not None:
            return value == self.literal
        if self._whole is not None:
            return self._whole.match(value)
        globs = self.globs
        if globs is None:
            return False
        pieces = value.split(":", _PARTS - 1)
        if len(pieces) != _PARTS:
            return False
        return all(g.match(p) for g, p in zip(globs, pieces, strict=True))


def arn_like(pattern: str, value: str) -> bool:
    """``ArnLike`` for one pattern and one value: each of the six parts globbed separately.

    Compiles the pattern on every call; compile an :class:`ArnPattern` once for hot paths.
    Never raises for str arguments.
    """
    return ArnPattern.compile(pattern).match(value)
