"""The store's identity, kept twice: a small file beside the metadata and a record in it.

``objstore.json`` (store uuid + format version) is written when a store is
created, and the same identity is recorded inside the metadata store. Opening
compares the two, so metadata that vanished, was cut to nothing or was swapped
for another store's is refused (StoreDamaged) instead of opening as a new,
empty store, whose first gc would delete every chunk file. A store created
before the marker existed (metadata with chunk references, no marker) is
adopted: both copies are written on its next open.

A store without a path (its metadata and chunks on shared backends, opened by
several nodes) has no file to keep: its identity lives in the metadata only,
and the rule that protects it is the second one: metadata holding no records
beside chunks that exist (a wrong or emptied database over a live bucket of
chunks) is refused rather than started empty.

The chunk store carries the owner's id too (:func:`bind_chunks`), because each
store's gc deletes every chunk its own metadata does not name: two stores on
one chunk location (two new databases on one empty prefix, a database reopened
on another store's prefix) would delete each other's data. Opening claims an
unmarked chunk store (create-if-absent, so of two first opens racing for one
location exactly one wins) and records the claim in the metadata; a chunk store
marked by another store is refused, and so is an unmarked one under metadata
that recorded a claim (a mistyped prefix, or the mark removed), which would
otherwise take writes that the right location never sees. A store made before
the mark existed adopts its own ``path/chunks``; a location it names by URL it
claims only once the user has written the mark.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from objstore import keyspace
from objstore.errors import InvalidArgument, StoreDamaged
from objstore.meta.base import MetadataStore, ReadTxn

MARKER_NAME = "objstore.json"
FORMAT = 1
_IDENTITY_KEY = keyspace.CONFIG + b"store"
_CHUNKS_KEY = keyspace.CONFIG + b"chunks-owner"  # the store id its chunk store was marked with


@dataclass(frozen=True, slots=True)
class StoreIdentity:
    """Who a store is: a random uuid fixed at creation, and its on-disk format."""

    store_id: str
    format: int

    def encode(self) -> bytes:
        return json.dumps({"store_id": self.store_id, "format": self.format}).encode()

    @staticmethod
    def decode(raw: bytes, where: str) -> StoreIdentity:
        try:
            d = json.loads(raw)
            ident = StoreIdentity(d["store_id"], d["format"])
            if not isinstance(ident.store_id, str) or type(ident.format) is not int:
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            raise StoreDamaged(f"the store identity in {where} is unreadable") from None
        if ident.format > FORMAT:
            raise StoreDamaged(
                f"{where} was written by a newer objstore (format {ident.format})",
                format=ident.format,
            )
        return ident


def read_marker(root: str) -> StoreIdentity | None:
    """The identity in ``root/objstore.json``; None when there is none."""
    path = os.path.join(root, MARKER_NAME)
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 16)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a directory, a symlink loop, no permission ...
        raise StoreDamaged(f"the store identity {path} cannot be read: {exc.strerror}") from None
    return StoreIdentity.decode(raw, path)


def write_marker(root: str, ident: StoreIdentity) -> None:
    """Write the marker durably (temp file, fsync, rename, fsync the directory)."""
    path = os.path.join(root, MARKER_NAME)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as f:
        f.write(ident.encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _holds_records(txn: ReadTxn) -> bool:
    return any(not key.startswith(keyspace.CONFIG) for key, _ in txn.scan(b""))


def establish(
    root: str | None,
    meta: MetadataStore,
    marker: StoreIdentity | None,
    *,
    has_chunks: Callable[[], bool],
    where: str | None = None,
    create: bool = True,
) -> StoreIdentity:
    """Check (or, for a new store, create) the identity of the store at ``root``
    (None: a store without a directory, named ``where`` in messages).

    ``marker`` is what :func:`read_marker` found. ``meta`` must already be
    open (not created anew when the marker exists, see
    ``LmdbMetadataStore(create=...)``). Raises StoreDamaged when the metadata
    lacks the marker's identity, holds another store's, or is empty while
    chunks exist; InvalidArgument when there is no store yet and not ``create``.
    """
    where = root if where is None else where
    with meta.begin_write() as txn:
        raw = txn.get(_IDENTITY_KEY)
        inner = None if raw is None else StoreIdentity.decode(raw, "the metadata")
        if inner is None:
            if marker is not None:
                raise StoreDamaged(
                    f"the metadata of the store at {where} is missing or was replaced "
                    f"(it does not carry the identity {marker.store_id} of {MARKER_NAME}); "
                    "refusing to open it",
                    store_id=marker.store_id,
                )
            if not _holds_records(txn) and has_chunks():
                raise StoreDamaged(
                    f"the store at {where} holds chunks but no metadata; refusing to "
                    "open it as a new, empty store (restore the metadata, or name the "
                    "right one)"
                )
            if not create and not _holds_records(txn):
                raise InvalidArgument(f"there is no store at {where} (nothing to open)")
            inner = StoreIdentity(uuid.uuid4().hex, FORMAT)
            txn.put(_IDENTITY_KEY, inner.encode())
        elif marker is not None and marker != inner:
            raise StoreDamaged(
                f"the metadata at {where} belongs to store {inner.store_id}, "
                f"not {marker.store_id} named by {MARKER_NAME}; refusing to open it",
                store_id=marker.store_id,
            )
    if marker is None and root is not None:
        # After the commit: a crash in between leaves the metadata's copy, from
        # which the marker is written again on the next open.
        write_marker(root, inner)
    return inner


def bind_chunks(
    meta: MetadataStore,
    ident: StoreIdentity,
    *,
    read_owner: Callable[[], str | None],
    claim_owner: Callable[[str], str],
    structural: bool,
    where: str,
) -> None:
    """Check that the chunk store (``where`` in messages) is this store's, claiming it
    if no store has yet. Raises StoreDamaged when another store owns it, when it is
    unmarked although the metadata recorded that it was claimed, or when it is unmarked
    and the metadata already holds records but never claimed a chunk store (a store
    made before the mark existed) and the location was named explicitly.

    ``structural``: the chunk store is the one inside the store's own directory
    (``path/chunks``), bound to it by ``objstore.json``: such a location is adopted
    without question. A location named by URL or object is not: nothing can tell an old
    store's own prefix from another old store's (contents may overlap through
    deduplication, and any sample can be steered), so the user confirms it by writing
    the mark, as the message says."""
    owner = read_owner()
    if owner is None:
        with meta.begin() as rtxn:
            recorded = rtxn.get(_CHUNKS_KEY)
            populated = _holds_records(rtxn)
        mark = f'objstore-owner.json holding {{"store_id": "{ident.store_id}"}}'
        if recorded is not None:
            raise StoreDamaged(
                f"the chunk store {where} does not carry the mark of store {ident.store_id}, "
                "which this store's metadata recorded when it claimed its chunk store: it is "
                "another location (a mistyped prefix or directory?) or its mark was removed; "
                "refusing to open it (if it truly is this store's chunk store, restore its "
                f"{mark})",
                store_id=ident.store_id,
            )
        if populated and not structural:
            raise StoreDamaged(
                f"the metadata of store {ident.store_id} holds data but never claimed a "
                f"chunk store, and {where} carries no owner mark: objstore cannot tell "
                "whether it is this store's chunk store or another's (whose chunks this "
                "store's gc would delete); refusing to claim it. If it is this store's, "
                f"write its {mark} and open again",
                store_id=ident.store_id,
            )
        owner = claim_owner(ident.store_id)
    if owner != ident.store_id:
        raise StoreDamaged(
            f"the chunk store {where} belongs to store {owner}, not to store "
            f"{ident.store_id} whose metadata this is; two stores sharing one chunk store "
            "would delete each other's chunks, so refusing to open it (give each store a "
            "prefix or directory of its own)",
            store_id=ident.store_id,
        )
    with meta.begin() as rtxn:
        recorded = rtxn.get(_CHUNKS_KEY)
    if recorded is None:
        # After the claim: a crash in between leaves a mark whose owner is this store,
        # recorded again on the next open.
        with meta.begin_write() as txn:
            txn.put(_CHUNKS_KEY, ident.store_id.encode())
