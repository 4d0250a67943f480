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

The chunk store carries the owner's id too, and the metadata records which
location it was bound to (``objstore/blob/owner.py``), because each store's gc
deletes every chunk its own metadata does not name: two stores on one chunk
location, or one store on two, would lose data.
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
# The store's format: what a version must understand to open (and so write) it. Opening
# raises an older store's format to this one, and a version that finds a newer format
# refuses the store (StoreDamaged) rather than write records it does not know to keep.
#   1: the first.
#   2: IAM bucket and trust policies carry the unique ids of the users and roles they name
#      (``identity/bindings.py``). A version before that saved them unbound and they were
#      read by name, so a user or role deleted and created again under the name was
#      granted: it must not write such a store.
FORMAT = 2
_IDENTITY_KEY = keyspace.CONFIG + b"store"


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


def make_root(root: str) -> None:
    """Create the store's directory private to its owner (0700) when it is new or empty.

    Chunk files and ``data.mdb`` hold every object's bytes in the clear, and files made
    under the usual umask 022 are world-readable: a private directory keeps other local
    users out of all of them (review rev11a, L3). The directory of an existing store is
    left as its owner set it (``chmod`` it to share the store)."""
    os.makedirs(root, mode=0o700, exist_ok=True)
    if not os.listdir(root):
        os.chmod(root, 0o700)


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


def holds_records(txn: ReadTxn) -> bool:
    """Whether the metadata holds anything beside its configuration (any data at all)."""
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
    ``LmdbMetadataStore(create=...)``). A store of an older format is raised to
    :data:`FORMAT` (both copies), so older versions refuse it from then on.
    Raises StoreDamaged when the metadata lacks the marker's identity, holds
    another store's, or is empty while chunks exist, or either copy names a
    newer format; InvalidArgument when there is no store yet and not ``create``.
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
            if not holds_records(txn) and has_chunks():
                raise StoreDamaged(
                    f"the store at {where} holds chunks but no metadata; refusing to "
                    "open it as a new, empty store (restore the metadata, or name the "
                    "right one)"
                )
            if not create and not holds_records(txn):
                raise InvalidArgument(f"there is no store at {where} (nothing to open)")
            inner = StoreIdentity(uuid.uuid4().hex, FORMAT)
            txn.put(_IDENTITY_KEY, inner.encode())
        elif marker is not None and marker.store_id != inner.store_id:
            raise StoreDamaged(
                f"the metadata at {where} belongs to store {inner.store_id}, "
                f"not {marker.store_id} named by {MARKER_NAME}; refusing to open it",
                store_id=marker.store_id,
            )
        elif inner.format < FORMAT:
            inner = StoreIdentity(inner.store_id, FORMAT)
            txn.put(_IDENTITY_KEY, inner.encode())
    if marker != inner and root is not None:
        # After the commit: a crash in between leaves the metadata's copy, from
        # which the marker is written again on the next open (an older version
        # reading the old marker still finds the newer format in the metadata).
        write_marker(root, inner)
    return inner
