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
from objstore.meta.scan import prefix_end
from objstore.ns import groups, keys

Scan = Callable[[bytes], Iterator[tuple[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[tuple[str, bytes]]  # (key, raw index value)
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
        key.encode("utf-8")  # JSON can carry lone surrogates, which no key holds
        return key, is_prefix
    # RecursionError: json nests arrays as deep as the token is long (review 10c, F1).
    except (ValueError, KeyError, TypeError, UnicodeError, RecursionError):
        raise InvalidArgument("the continuation token is not valid") from None


def ordered(
    scan: Scan,
    base: bytes,
    start: bytes,
    stop: bytes,
    long_key_of: Callable[[bytes], str],
    classify: groups.Classify,
    limit: int,
    *,
    suffix: int = 0,
    resume: tuple[str, bytes] | None = None,
) -> Iterator[tuple[str, bytes, bytes, bool]]:
    """Walk encodings in ``[start, stop)`` yielding ``(key, raw, value, grouped)`` in key order.

    ``scan(k)`` walks raw index keys from ``k``; every raw key is ``base + ekey``
    followed by ``suffix`` bytes (a version's sequence). Short keys decode from
    the encoding itself. A group of long keys that share a truncated head goes
    through :func:`groups.entries` (``grouped`` is True), which yields only the
    ``limit`` first items ``classify`` lets through, one entry per common prefix.
    This is the listing hot loop, so the common case is inlined.
    """
    blen = len(base)
    abs_stop = base + stop
    marker = keys.LONG_MARKER
    it = scan(base + start)
    while True:
        for raw, value in it:
            if raw >= abs_stop:
                return
            ek = raw[blen : len(raw) - suffix] if suffix else raw[blen:]
            if ek[-18:-16] != marker:
                text = ek[:-2]
                if b"\x00" in text:
                    text = text.replace(b"\x00\x01", b"\x00")
                yield text.decode(), raw, value, False
                continue
            head = base + ek[:-16]
            for key, raw2, value2 in groups.entries(
                scan, head, long_key_of, classify, limit, suffix, resume
            ):
                yield key, raw2, value2, True
            end = prefix_end(head)
            if end is None:  # pragma: no cover - a head ends in the marker 00 02
                return
            it = scan(end)  # one seek past the group, which groups.entries has read
            break
        else:
            return


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
    base: bytes,
    long_key_of: Callable[[bytes], str],
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
    # S3: "CommonPrefixes is filtered out from results if it is not lexicographically
    # greater than the StartAfter value" (ListObjectsV2, Delimiter). A key after
    # start_after may roll up into a prefix that sorts before it ("a/" for "a/b").
    floor = None if after is None else after[0]
    if after is not None:
        after_key, is_prefix = after
        skip_prefix = after_key if is_prefix else None
        start = max(start, _resume_point(after_key, is_prefix))
    entries: list[tuple[str, bytes]] = []
    prefixes: list[str] = []
    count = 0
    last: tuple[str, bool] | None = None
    plen = len(prefix)

    # Not a closure: the loop's variables stay fast locals (this is the hot loop).
    view = _ListView(prefix, delimiter, floor, after_key, skip_prefix)

    while True:
        restart: bytes | None = None
        for key, _raw, value, grouped in ordered(
            scan, base, start, stop, long_key_of, view.classify, max_keys + 1
        ):
            if after_key is not None and (
                key <= after_key or (skip_prefix is not None and key.startswith(skip_prefix))
            ):
                continue
            if not key.startswith(prefix):
                continue
            if count == max_keys:
                return Page(entries, prefixes, True, last)
            if delimiter:
                i = key.find(delimiter, plen)
                if i >= 0:
                    cp = key[: i + len(delimiter)]
                    if floor is None or cp > floor:
                        prefixes.append(cp)
                        count += 1
                        last = (cp, True)
                    after_key = skip_prefix = view.after_key = view.skip_prefix = cp
                    if grouped and _inside_group(cp):
                        continue  # the group yields one key per prefix: go on in it
                    # Jump over every key under this common prefix.
                    restart = _resume_point(cp, True)
                    break
            entries.append((key, value))
            count += 1
            last = (key, False)
        if restart is None:
            return Page(entries, prefixes, False, last)
        start = restart


def _inside_group(cp: str) -> bool:
    """Whether the long keys under common prefix ``cp`` all lie in one long-key group.

    Then the group, which yields one key per common prefix, has nothing more under
    ``cp``, and the page goes on inside it rather than re-reading it from its head
    (review rev11gen M1). A shorter prefix holds whole groups: a seek jumps past it.
    """
    return len(keys.escape(cp)) >= keys.CUT


def grouped_page(
    scan: Scan,
    *,
    base: bytes,
    suffix: int,
    long_key_of: Callable[[bytes], str],
    prefix: str,
    delimiter: str | None,
    max_items: int,
    after_key: str | None,
    after_suffix: bytes | None,
) -> Page:
    """One page over an index of several entries per key (versions, uploads).

    Raw keys are ``base + ekey + suffix`` bytes, in (key, suffix) order. The
    markers of ListObjectVersions and ListMultipartUploads are positions: keys
    before ``after_key`` are skipped, and so are the entries of ``after_key``
    itself whose suffix is at most ``after_suffix`` (all of them when it is
    None); the page seeks there rather than reading them. With a delimiter, the
    keys under a common prefix count once, as the prefix; a prefix is returned
    only when it sorts after ``after_key`` (as ListObjects' marker), so a page
    that ended on a common prefix resumes past everything under it when that
    prefix is the next key marker.
    """
    if max_items == 0:
        return Page([], [], False, None)
    start, stop = keys.prefix_bound(prefix)
    resume: tuple[str, bytes] | None = None
    if after_key is not None:
        enc = keys.encode_key(after_key)
        if keys.is_long(enc):
            at = keys.long_group(enc)
            if after_suffix is not None:
                resume = (after_key, after_suffix)
        elif after_suffix is None:
            at = prefix_end(enc) or keys.ABOVE_ALL  # past every entry of after_key
        else:
            # Straight past the entries already returned (review rev11gen L3).
            at = enc + after_suffix + b"\x00"
        start = max(start, at)
    entries: list[tuple[str, bytes]] = []
    prefixes: list[str] = []
    last: tuple[str, bool] | None = None
    done: str | None = None  # the last common prefix met: its keys and those before it are done
    plen = len(prefix)

    view = _GroupedView(prefix, delimiter, after_key, after_suffix)  # as in list_page

    while True:
        restart: bytes | None = None
        for key, raw, value, grouped in ordered(
            scan,
            base,
            start,
            stop,
            long_key_of,
            view.classify,
            max_items + 1,
            suffix=suffix,
            resume=resume,
        ):
            if not key.startswith(prefix):
                continue
            if done is not None and (key <= done or key.startswith(done)):
                continue
            if after_key is not None and (
                key < after_key
                or (
                    key == after_key
                    and (after_suffix is None or raw[len(raw) - suffix :] <= after_suffix)
                )
            ):
                continue
            if delimiter:
                i = key.find(delimiter, plen)
                if i >= 0:
                    cp = key[: i + len(delimiter)]
                    if after_key is None or cp > after_key:
                        if len(entries) + len(prefixes) == max_items:
                            return Page(entries, prefixes, True, last)
                        prefixes.append(cp)
                        last = (cp, True)
                    done = view.done = cp
                    if grouped and _inside_group(cp):
                        continue  # the group yields one key per prefix: go on in it
                    # Jump over every key under this common prefix.
                    restart = _resume_point(cp, True)
                    break
            if len(entries) + len(prefixes) == max_items:
                return Page(entries, prefixes, True, last)
            entries.append((key, value))
            last = (key, False)
        if restart is None:
            return Page(entries, prefixes, False, last)
        start = restart


class _ListView:
    """list_page's loop for one key of a long-key group: None if the page skips it,
    else its item. The loop keeps ``after_key`` and ``skip_prefix`` in step."""

    __slots__ = ("after_key", "delimiter", "floor", "prefix", "skip_prefix")

    def __init__(
        self,
        prefix: str,
        delimiter: str | None,
        floor: str | None,
        after_key: str | None,
        skip_prefix: str | None,
    ) -> None:
        self.prefix = prefix
        self.delimiter = delimiter
        self.floor = floor
        self.after_key = after_key
        self.skip_prefix = skip_prefix

    def classify(self, key: str) -> tuple[str, bool] | None:
        after_key, skip_prefix = self.after_key, self.skip_prefix
        if after_key is not None and (
            key <= after_key or (skip_prefix is not None and key.startswith(skip_prefix))
        ):
            return None
        if not key.startswith(self.prefix):
            return None
        cp = _rolled_up(key, self.prefix, self.delimiter)
        if cp is not None:
            return (cp, True) if self.floor is None or cp > self.floor else None
        return key, False


class _GroupedView:
    """grouped_page's loop for one key of a long-key group (as :class:`_ListView`).
    The loop keeps ``done`` in step."""

    __slots__ = ("after_key", "after_suffix", "delimiter", "done", "prefix")

    def __init__(
        self,
        prefix: str,
        delimiter: str | None,
        after_key: str | None,
        after_suffix: bytes | None,
    ) -> None:
        self.prefix = prefix
        self.delimiter = delimiter
        self.after_key = after_key
        self.after_suffix = after_suffix
        self.done: str | None = None

    def classify(self, key: str) -> tuple[str, bool] | None:
        if not key.startswith(self.prefix):
            return None
        done, after_key = self.done, self.after_key
        if done is not None and (key <= done or key.startswith(done)):
            return None
        if after_key is not None and (
            key < after_key or (key == after_key and self.after_suffix is None)
        ):
            return None
        cp = _rolled_up(key, self.prefix, self.delimiter)
        if cp is not None:
            return (cp, True) if after_key is None or cp > after_key else None
        return key, False


def _rolled_up(key: str, prefix: str, delimiter: str | None) -> str | None:
    """The common prefix ``key`` (which starts with ``prefix``) rolls up into, or None.
    (The short-key page loops inline this: it is their hottest line.)"""
    if delimiter:
        i = key.find(delimiter, len(prefix))
        if i >= 0:
            return key[: i + len(delimiter)]
    return None


def check_max_keys(max_keys: object) -> int:
    """max_keys is an int in 0..1000 (S3 caps larger values at 1000)."""
    if type(max_keys) is not int or max_keys < 0:
        raise InvalidArgument("max_keys must be a non-negative integer")
    return min(max_keys, 1000)
