"""Conditional requests: If-Match, If-None-Match, If-(Un)Modified-Since (pure)."""

from __future__ import annotations

from datetime import datetime

from objstore.errors import InvalidArgument, NoSuchKey, NotModified, PreconditionFailed


def _norm(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def etag_matches(condition: str, etag: str | None) -> bool:
    """Whether an If-Match / If-None-Match value matches ``etag`` (None: no object)."""
    if etag is None:
        return False
    want = _norm(etag)
    return any(part.strip() == "*" or _norm(part) == want for part in condition.split(","))


def check_read(
    etag: str,
    last_modified: datetime,
    *,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None = None,
    if_unmodified_since: datetime | None = None,
) -> None:
    """Apply RFC 7232 order for reads: raise PreconditionFailed (412) or NotModified (304)."""
    mtime = last_modified.replace(microsecond=0)
    if if_match is not None:
        if not etag_matches(if_match, etag):
            raise PreconditionFailed("If-Match did not match", condition="If-Match")
    elif if_unmodified_since is not None and mtime > if_unmodified_since:
        raise PreconditionFailed("modified since", condition="If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, etag):
            raise NotModified("If-None-Match matched", etag=etag)
    elif if_modified_since is not None and mtime <= if_modified_since:
        raise NotModified("not modified since", etag=etag)


def check_write(
    current_etag: str | None, *, if_match: str | None, if_none_match: str | None
) -> None:
    """Conditional writes: ``if_none_match="*"`` creates only; ``if_match`` compares and swaps.

    ``current_etag`` is None when the key has no current object. Raises
    PreconditionFailed, NoSuchKey (``if_match`` on a missing key, as S3 does) or
    InvalidArgument (an ``if_none_match`` other than ``*``).
    """
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise InvalidArgument("if_none_match on a write accepts only '*'")
        if current_etag is not None:
            raise PreconditionFailed("the key already exists", condition="If-None-Match")
    if if_match is not None:
        if current_etag is None:
            raise NoSuchKey("if_match given but the key does not exist")
        if not etag_matches(if_match, current_etag):
            raise PreconditionFailed("If-Match did not match", condition="If-Match")
