"""Listing rules: prefix, delimiter, pagination, in UTF-8 byte order (pure).

The caller injects ``scan(start) -> iterator of (ekey, value)`` over one
bucket's index (the bucket prefix already stripped) inside one short read
transaction per page; this module decides what a page holds. Python compares
``str`` by code point, which is exactly UTF-8 byte order.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from objstore.errors import InvalidArgument
from objstore.ns import keys

Scan = Callable[[bytes], Iterator[tuple[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class Entry:
    """A listed key with its raw index value."""

    key: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Entry]
    common_prefixes: list[str]
    is_truncated: bool
    last: tuple[str, bool] | None  # (key or prefix, is_prefix) of the last item returned


def encode_token(key: str, is_prefix: bool) -> str:
    raw = json.dumps({"k": key, "p": is_prefix}, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, bool]:
    """Raises InvalidArgument for a token this store did not issue."""
    try:
        pad = "=" * (-len(token) % 4)
        d = json.loads(base64.urlsafe_b64decode(token + pad))
        key, is_prefix = d["k"], d["p"]
        if not isinstance(key, str) or not isinstance(is_prefix, bool):
            raise ValueError
        return key, is_prefix
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidArgument("the continuation token is not valid") from None


def ordered(
    scan: Scan, start: bytes, stop: bytes, key_of: Callable[[bytes, bytes], str]
) -> Iterator[tuple[str, bytes, bytes]]:
    """Walk ``[start, stop)`` yielding ``(key, ekey, value)`` in true key order.

    Long keys that share a truncated head are read as a group and sorted by
    their full key (from the value); everything else is already in order.
    """
    it = scan(start)
    pending: tuple[bytes, bytes] | None = None
    while True:
        if pending is not None:
            ek, value = pending
            pending = None
        else:
            nxt = next(it, None)
            if nxt is None:
                return
            ek, value = nxt
        if ek >= stop:
            return
        if not keys.is_long(ek):
            yield key_of(ek, value), ek, value
            continue
        head = keys.long_group(ek)
        group = [(key_of(ek, value), ek, value)]
        for ek2, value2 in it:
            if ek2[: len(head)] == head and keys.is_long(ek2) and len(ek2) == len(ek):
                group.append((key_of(ek2, value2), ek2, value2))
            else:
                pending = (ek2, value2)
                break
        group.sort(key=lambda t: t[0])
        yield from group


def _resume_point(key: str, is_prefix: bool) -> bytes:
    """Where a scan resumes after ``key`` (or after everything under prefix ``key``)."""
    if is_prefix:
        start, stop = keys.prefix_bound(key)
        # A prefix too long to bound exactly resumes at its long-key group's head.
        return stop if len(keys.escape(key)) < keys.CUT else start
    enc = keys.encode_key(key)
    # A long key resumes at its group's head (the group is re-sorted and filtered).
    return keys.long_group(enc) if keys.is_long(enc) else enc + b"\x00"


def list_page(
    scan: Scan,
    *,
    key_of: Callable[[bytes, bytes], str],
    prefix: str,
    delimiter: str | None,
    max_keys: int,
    after: tuple[str, bool] | None,
) -> Page:
    """One page of ListObjectsV2 over an index of one entry per key.

    ``after`` is where the previous page ended: a key (resume strictly after
    it) or a common prefix (resume after everything under it).
    """
    if max_keys == 0:
        return Page([], [], False, None)
    start, stop = keys.prefix_bound(prefix)
    after_key: str | None = None
    skip_prefix: str | None = None
    if after is not None:
        after_key, is_prefix = after
        skip_prefix = after_key if is_prefix else None
        start = max(start, _resume_point(after_key, is_prefix))
    entries: list[Entry] = []
    prefixes: list[str] = []
    count = 0
    last: tuple[str, bool] | None = None
    plen = len(prefix)
    while True:
        restart: bytes | None = None
        for key, _ek, value in ordered(scan, start, stop, key_of):
            if after_key is not None and key <= after_key:
                continue
            if skip_prefix is not None and key.startswith(skip_prefix):
                continue
            if not key.startswith(prefix):
                continue
            if count == max_keys:
                return Page(entries, prefixes, True, last)
            if delimiter:
                i = key.find(delimiter, plen)
                if i >= 0:
                    cp = key[: i + len(delimiter)]
                    prefixes.append(cp)
                    count += 1
                    last = (cp, True)
                    # Jump over every key under this common prefix.
                    after_key = skip_prefix = cp
                    restart = _resume_point(cp, True)
                    break
            entries.append(Entry(key, value))
            count += 1
            last = (key, False)
        if restart is None:
            return Page(entries, prefixes, False, last)
        start = restart


def check_max_keys(max_keys: object) -> int:
    """max_keys is an int in 0..1000 (S3 caps larger values at 1000)."""
    if type(max_keys) is not int or max_keys < 0:
        raise InvalidArgument("max_keys must be a non-negative integer")
    return min(max_keys, 1000)
