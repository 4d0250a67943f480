"""The owner mark of an S3 chunk prefix: ``<prefix>/objstore-owner.json``
(:class:`~objstore.blob.chunkstore.ChunkOwner`, for :class:`~objstore.backends.s3.S3ChunkStore`).

Functions of the obstore client, run inside the chunk store's retrying ``_call``.
"""

from __future__ import annotations

from collections.abc import Callable

import obstore
from obstore.store import S3Store

from objstore.backends.s3_client import missing_bucket
from objstore.blob.chunkstore import MAX_OWNER_BYTES, OWNER_NAME


def fetch(store: S3Store) -> bytes | None:
    """The mark's bytes; None when there is none. An oversized mark is not read: its
    stand-in bytes decode as unreadable."""
    try:
        got = obstore.get(store, OWNER_NAME)
    except FileNotFoundError as exc:
        if missing_bucket(exc):
            raise
        return None
    if int(got.meta["size"]) > MAX_OWNER_BYTES:
        return b"\0" * (MAX_OWNER_BYTES + 1)
    return bytes(got.bytes())


def claim(store: S3Store, body: bytes, create: Callable[[S3Store], bool]) -> None:
    """Write the mark unless there is one. ``create`` PUTs it with ``If-None-Match: *``
    (False: something was there, or the backend refused the condition)."""
    # Look first: a backend that ignores If-None-Match must not overwrite a mark.
    if fetch(store) is not None:
        return
    if create(store):
        return
    if fetch(store) is None:  # the backend refused the condition: look-then-PUT
        replace(store, body)


def replace(store: S3Store, body: bytes) -> None:
    """Write the mark whatever is there (one PUT: readers see the old mark or this one)."""
    obstore.put(store, OWNER_NAME, body, use_multipart=False)
