"""AWS's paging of IAM list calls: ``marker`` and ``max_items`` in, a :class:`Page` out (pure).

A list is an ordered walk of ``(position, item)`` pairs (record keys: lower-cased names);
a marker is the opaque position of the last item a page returned, so the next page
resumes just after it and stays right when entries are added or removed in between.

Markers are authenticated (:class:`Markers`): a MAC under the store's key over the list
they belong to (the call and its filters, e.g. ``path_prefix``) and the position. A marker
names a place only in the list it came from; a forged, altered or garbage one, or one of
another list or other filters, is refused (ValidationError) instead of resuming anywhere.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from objstore.errors import ValidationError
from objstore.identity.names import check_int, check_str
from objstore.identity.results import Page

R = TypeVar("R")
T = TypeVar("T")
MAX_ITEMS = 1000  # AWS's limit on MaxItems
_TAG_BYTES = 16  # of the HMAC-SHA256 tag: 128 bits, as AES-GCM's


def check_max_items(max_items: object) -> int | None:
    """None (everything) or 1-1000. Raises InvalidInput, ValidationError."""
    return None if max_items is None else check_int(max_items, "max_items", 1, MAX_ITEMS)


@dataclass(frozen=True, slots=True)
class Markers:
    """Makes and opens the markers of one list: ``scope`` names the call and its filters,
    ``mac`` is the store's MAC (``SecretBox.mac``)."""

    mac: Callable[[bytes], bytes]
    scope: bytes

    def _tag(self, position: bytes) -> bytes:
        return self.mac(b"objstore iam list marker\x00" + self.scope + b"\x00" + position)[
            :_TAG_BYTES
        ]

    def make(self, position: bytes) -> str:
        """The marker of ``position`` in this list."""
        return base64.urlsafe_b64encode(self._tag(position) + position).decode("ascii")

    def position_of(self, marker: object) -> bytes | None:
        """The position a marker of this list stands for (None for no marker). Raises
        InvalidInput (not a str), ValidationError (not a marker this store gave for this
        list and these filters)."""
        if marker is None:
            return None
        text = check_str(marker, "marker")
        refused = ValidationError("the marker is not one this service gave for this list")
        try:
            raw = base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
        except (binascii.Error, UnicodeError, ValueError):
            raise refused from None
        tag, position = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
        if len(tag) != _TAG_BYTES or not hmac.compare_digest(tag, self._tag(position)):
            raise refused
        return position


def page(
    walk: Iterable[tuple[bytes, R]],
    max_items: int | None,
    keep: Callable[[R], bool],
    result: Callable[[R], T],
    markers: Markers,
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
            return Page(tuple(items), True, markers.make(last))
        items.append(result(entry))
        last = position
    return Page(tuple(items))
