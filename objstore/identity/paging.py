"""AWS's paging of IAM list calls: ``marker`` and ``max_items`` in, a :class:`Page` out (pure).

A list is an ordered walk of ``(position, item)`` pairs (record keys: lower-cased names);
a marker is the opaque position of the last item a page returned, so the next page
resumes just after it and stays right when entries are added or removed in between.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import TypeVar

from objstore.errors import ValidationError
from objstore.identity.names import check_int, check_str
from objstore.identity.results import Page

R = TypeVar("R")
T = TypeVar("T")
MAX_ITEMS = 1000  # AWS's limit on MaxItems


def check_max_items(max_items: object) -> int | None:
    """None (everything) or 1-1000. Raises InvalidInput, ValidationError."""
    return None if max_items is None else check_int(max_items, "max_items", 1, MAX_ITEMS)


def position_of(marker: object) -> bytes | None:
    """The position a marker of :func:`page` stands for. Raises InvalidInput (not a str),
    ValidationError (not a marker this store gave)."""
    if marker is None:
        return None
    text = check_str(marker, "marker")
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationError("the marker is not one this service gave") from None
    if not raw.startswith(b"m:"):
        raise ValidationError("the marker is not one this service gave")
    return raw[2:]


def page(
    walk: Iterable[tuple[bytes, R]],
    max_items: int | None,
    keep: Callable[[R], bool],
    result: Callable[[R], T],
) -> Page[T]:
    """The first ``max_items`` kept entries of ``walk`` (all when None) as results, with
    the marker of the last one when more follow. Reads at most one kept entry past the
    page."""
    items: list[T] = []
    last = b""
    for position, entry in walk:
        if not keep(entry):
            continue
        if max_items is not None and len(items) == max_items:
            return Page(tuple(items), True, base64.urlsafe_b64encode(b"m:" + last).decode())
        items.append(result(entry))
        last = position
    return Page(tuple(items))
