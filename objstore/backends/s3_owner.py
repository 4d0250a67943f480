"""The owner mark of an S3 chunk prefix: ``<prefix>/objstore-owner.json``
(:class:`~objstore.blob.chunkstore.ChunkOwner`, for :class:`~objstore.backends.s3.S3ChunkStore`).

Functions of the obstore client, run inside the chunk store's retrying ``_call``.
"""

from __future__ import annotations

from collections.abc import Callable

import obstore
from obstore.exceptions import BaseError, NotSupportedError, PreconditionError
from obstore.store import S3Store

from objstore.backends.s3_client import missing_bucket, status_code
from objstore.blob.chunkstore import (
    MAX_OWNER_BYTES,
    OWNER_NAME,
    OwnerMark,
    decode_owner,
    encode_owner,
)


def fetch(store: S3Store) -> bytes | None:
    """The mark's bytes; None when there is none. An oversized mark is not read: its
    stand-in bytes decode as unreadable."""
    got = _fetch_tagged(store)
    return None if got is None else got[0]


def _fetch_tagged(store: S3Store) -> tuple[bytes, str | None] | None:
    """The mark's bytes and ETag (None if the backend gives none); None when absent."""
    try:
        got = obstore.get(store, OWNER_NAME)
    except FileNotFoundError as exc:
        if missing_bucket(exc):
            raise
        return None
    etag = got.meta.get("e_tag")
    if int(got.meta["size"]) > MAX_OWNER_BYTES:
        return b"\0" * (MAX_OWNER_BYTES + 1), etag
    return bytes(got.bytes()), etag


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


def replace_if(store: S3Store, mark: OwnerMark, expected: OwnerMark, where: str) -> bool:
    """Replace the mark by ``mark`` only if it is ``expected``: a PUT with ``If-Match`` on
    the ETag read, so that a rewrite landing late (an open that timed out, its PUT held
    in the network) never replaces a mark written meanwhile (break-it review, M1); False
    when the mark is another (or gone). ``where`` names the mark in StoreDamaged.

    The ETag is sent as given, then unquoted (Ceph RGW 16 compares the bare value). A
    backend that ignores ``If-Match`` or refuses it (501) gets look-then-PUT: a write
    landing between the look and the PUT is then overwritten (docs/scale-out.md)."""
    got = _fetch_tagged(store)
    if got is None or decode_owner(got[0], where) != expected:
        return False
    raw, etag = got
    body = encode_owner(mark)
    for tag in () if etag is None else dict.fromkeys((etag, etag.strip('"'))):
        try:
            obstore.put(store, OWNER_NAME, body, mode={"e_tag": tag}, use_multipart=False)
            return True
        except PreconditionError:
            continue
        except NotSupportedError:
            break
        except BaseError as exc:
            status, code = status_code(exc)
            if status != 501 and code != "NotImplemented":
                raise
            break
    else:
        if etag is not None:  # refused for every spelling: changed, unless its ETag is the same
            now = _fetch_tagged(store)
            if now is None or now[1] != etag:
                return False
    if fetch(store) != raw:  # look-then-PUT
        return False
    replace(store, body)
    return True


def replace(store: S3Store, body: bytes) -> None:
    """Write the mark whatever is there (one PUT: readers see the old mark or this one)."""
    obstore.put(store, OWNER_NAME, body, use_multipart=False)
