"""Which object versions an authorization decision read, and the check that an operation
acts on exactly those.

A policy with ``s3:ExistingObjectTag/*`` is decided on the tags of the version the engine
read before it asked (the latest one when the request names none); the operation then
resolves the version again, in its own transaction. A write in between would let the
caller read, copy or retag a version whose tags were never checked: a caller allowed to
read only ``public=yes`` objects, polling a key being overwritten with a ``public=no``
version, got the secret body (review rev11a, H3).

So the engine pins what the decision read, ``(bucket, key, version asked) -> (version id,
sequence number)`` of the version found, for the duration of the operation, and
``Index._resolve`` (the one place a read finds its version) compares: a different version
raises :class:`DecisionStale` before anything is read or written, and the engine decides
again on what is there now. The sequence number tells apart two "null" versions of an
unversioned bucket, which share their version id. The pins live in a context variable
because the operation runs synchronously inside the engine's call, in the same context,
and every one of the namespace's reads goes through ``_resolve``: no operation has to
remember to pass them on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# (bucket, key, version id the request named or None) -> (version id, seq) of the version
# the decision read, or None when it found none (no such key, a delete marker).
PinKey = tuple[str, str, str | None]
Stamp = tuple[str, int]
Pins = dict[PinKey, Stamp | None]

_PINNED: ContextVar[Pins | None] = ContextVar("objstore_decided_versions", default=None)


class DecisionStale(Exception):
    """The version an operation found is not the one its authorization read (internal:
    the engine decides again; never reaches a caller)."""


@contextmanager
def acting_on(pins: Pins) -> Iterator[None]:
    """Run the operation with ``pins`` checked by every version lookup."""
    token = _PINNED.set(pins)
    try:
        yield
    finally:
        _PINNED.reset(token)


def check(bucket: str, key: str, version_id: str | None, found_id: str, found_seq: int) -> None:
    """Raise DecisionStale when the decision read another version (or none) for this
    lookup than the one found (``found_id``, ``found_seq``); nothing when it read none
    for it at all. Called by every version lookup: costs one context read when no
    decision pinned anything."""
    pins = _PINNED.get()
    if not pins:
        return
    where = (bucket, key, version_id)
    if where in pins and pins[where] != (found_id, found_seq):
        raise DecisionStale(f"{bucket}/{key}: the version changed after it was authorized")
