"""Whether a store is still bound to the chunk location its node opened it with.

A rebind elsewhere (``accept_chunk_loss``: :mod:`objstore.blob.owner`) changes the
record below; a node still open on the old location must then neither commit
references to chunks it wrote there nor flag records for what only that location lacks.
One read of one key, in the transaction that would write.
"""

from __future__ import annotations

from objstore import keyspace
from objstore.errors import StoreDamaged
from objstore.meta.base import ReadTxn

CHUNKS_KEY = keyspace.CONFIG + b"chunks-owner"  # the mark its chunk store was bound to

__all__ = ["CHUNKS_KEY", "check_bound", "still_bound"]


def still_bound(txn: ReadTxn, record: bytes | None) -> bool:
    """Whether the store is bound as ``record`` (:attr:`Binding.record`) says; True for None."""
    return record is None or txn.get(CHUNKS_KEY) == record


def check_bound(txn: ReadTxn, record: bytes | None) -> None:
    """In a write transaction committing references to chunks: raise StoreDamaged
    unless the store is still bound as it was when this node opened it (``record``,
    :attr:`Binding.record`; nothing to check for None). One read of one key: a rebind
    elsewhere (:func:`_rebind`) fences this node's writes to the location it left."""
    if not still_bound(txn, record):
        raise StoreDamaged(
            "this store was rebound to another chunk location (accept_chunk_loss) after "
            "this node opened it: what it writes to its chunk location is no longer the "
            "store's, so nothing was stored; open the store again with its current "
            "chunk location"
        )
