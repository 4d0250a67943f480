"""Long-key groups in listing order, with bounded work and memory per page (pure).

Long keys that share their first :data:`keys.CUT` escaped bytes form a *group*:
their encodings differ only in a hash, so the index holds them in hash order,
not key order (:mod:`objstore.ns.keys`). A page that reaches a group reads it
once, keeping only the ``limit`` smallest *items* the page could show (a key,
or a common prefix for all the keys under it), each as its key and raw index
key, never a value. It then seeks each selected item's entries, in key order.

So a page costs one pass over the group plus what it returns, and holds at
most ``limit`` items: no inline body it does not return, and no re-read of the
group for each common prefix (review rev11gen M1, M2).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator

Scan = Callable[[bytes], Iterator[tuple[bytes, bytes]]]
# The page's view of a key: None if it does not show it (before the page's position,
# outside its prefix, under a common prefix already met), else (item, is_prefix).
Classify = Callable[[str], tuple[str, bool] | None]
HASH_LEN = 16


def entries(
    scan: Scan,
    head: bytes,
    long_key_of: Callable[[bytes], str],
    classify: Classify,
    limit: int,
    suffix: int,
    resume: tuple[str, bytes] | None,
) -> Iterator[tuple[str, bytes, bytes]]:
    """Yield ``(key, raw, value)`` for the group whose raw keys are ``head`` + hash +
    ``suffix`` bytes, in (item, raw key) order: for a key item all its entries (those
    of ``resume[0]`` after the suffix ``resume[1]`` only); for a common-prefix item
    one key under it, with an empty value (the page shows none for it).

    ``classify`` is asked again on every pass, so it sees the page's state as it
    was when the pass began; a pass selects ``limit`` items and a new pass starts
    only if the caller consumed them all. Raises nothing itself.
    """
    hlen = len(head)
    width = hlen + HASH_LEN + suffix
    low: str | None = None  # every item up to this one was yielded by an earlier pass
    while True:
        best: list[str] = []  # the smallest items met so far, sorted, at most ``limit``
        where: dict[str, tuple[bool, bytes, str]] = {}  # item -> is_prefix, first raw, key
        last_ek = b""
        for raw, value in scan(head):
            if len(raw) != width or raw[:hlen] != head:
                break
            ek = raw[: width - suffix]
            if ek == last_ek:
                continue  # another entry of the key just classified (its versions)
            last_ek = ek
            key = long_key_of(value)
            c = classify(key)
            if c is None:
                continue
            item, is_prefix = c
            if (low is not None and item <= low) or item in where:
                continue
            if len(best) >= limit:
                if item > best[-1]:
                    continue
                del where[best.pop()]
            bisect.insort(best, item)
            where[item] = (is_prefix, raw, key)
        for item in best:
            is_prefix, first, key = where[item]
            ek = first[: width - suffix]
            if is_prefix:
                # A common prefix shows no value: no seek, and no body read for it.
                yield key, first, b""
                continue
            if suffix and resume is not None and key == resume[0]:
                # Seek past the entries the previous page returned (review rev11gen L3).
                first = max(first, ek + resume[1] + b"\x00")
            for raw, value in scan(first):
                if len(raw) != width or raw[: width - suffix] != ek:
                    break
                yield key, raw, value
        if len(best) < limit:
            return
        low = best[-1]
