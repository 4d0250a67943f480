"""Conditional requests: If-Match, If-None-Match, If-(Un)Modified-Since (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from objstore import errors
from objstore.errors import InvalidArgument, NoSuchKey, NotModified, PreconditionFailed


def _norm(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def etag_matches(condition: str, etag: str | None) -> bool:
    """Whether an If-Match / If-None-Match value matches ``etag`` (None: no object).

    Raises InvalidArgument when ``condition`` is not a string.
    """
    if not isinstance(condition, str):
        raise InvalidArgument("an ETag condition must be a string")
    if etag is None:
        return False
    want = _norm(etag)
    return any(part.strip() == "*" or _norm(part) == want for part in condition.split(","))


def _aware(value: datetime | None, name: str) -> datetime | None:
    """A comparable time: naive datetimes are UTC (HTTP dates are GMT, as boto3 assumes)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{name} must be a datetime")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def check_read(
    etag: str,
    last_modified: datetime,
    *,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | None = None,
    if_unmodified_since: datetime | None = None,
) -> None:
    """Apply RFC 7232 order for reads: raise PreconditionFailed (412) or NotModified (304).

    Raises InvalidArgument when a time condition is not a datetime.
    """
    if (
        if_match is None
        and if_none_match is None
        and if_modified_since is None
        and if_unmodified_since is None
    ):
        return  # most reads name no condition
    mtime = last_modified.replace(microsecond=0)
    if_modified_since = _aware(if_modified_since, "if_modified_since")
    if_unmodified_since = _aware(if_unmodified_since, "if_unmodified_since")
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
    PreconditionFailed, NoSuchKey (``if_match`` on a missing key, as S3 does),
    NotImplemented (an ``if_none_match`` other than ``*``: S3 answers 501 to an ETag
    there) or InvalidArgument (a condition that is not a string).
    """
    if if_none_match is not None:
        if not isinstance(if_none_match, str):
            raise InvalidArgument("if_none_match must be a string")
        if if_none_match.strip() != "*":
            raise errors.NotImplemented(
                "A header you provided implies functionality that is not implemented",
                Header="If-None-Match",
            )
        if current_etag is not None:
            raise PreconditionFailed("the key already exists", condition="If-None-Match")
    if if_match is not None:
        if current_etag is None:
            raise NoSuchKey("if_match given but the key does not exist")
        if not etag_matches(if_match, current_etag):
            raise PreconditionFailed("If-Match did not match", condition="If-Match")
