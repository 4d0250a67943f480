"""Metadata backends: an ordered, transactional key-value store (see :mod:`.base`)."""

from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.meta.memory import MemoryMetadataStore

__all__ = ["MemoryMetadataStore", "MetadataStore", "ReadTxn", "WriteTxn"]
