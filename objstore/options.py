"""Type checks of ``objstore.open()``'s options (split from ``store.py`` by job)."""

from __future__ import annotations

import os

from objstore.blob.chunkstore import ChunkStore
from objstore.errors import InvalidArgument
from objstore.meta.base import MetadataStore
from objstore.ns.namespace import Limits


def check_options(
    *,
    path: object,
    authorizer: object,
    etag_mode: object,
    chunking: object,
    chunk_size: object,
    inline_threshold: object,
    limits: object,
    clock: object,
    audit: object,
    chunk_store: object,
    metadata_store: object,
) -> None:
    """Type-check ``open()``'s options: a wrong type is InvalidArgument, not a TypeError later."""

    def bad(name: str, want: str, got: object) -> InvalidArgument:
        return InvalidArgument(f"{name} must be {want}, not {type(got).__name__}", argument=name)

    if path is not None:
        if not isinstance(path, str | os.PathLike):
            raise bad("path", "a str, an os.PathLike or None", path)
        if not isinstance(os.fspath(path), str):
            raise bad("path", "a text path", os.fspath(path))
    if not isinstance(etag_mode, str):
        raise bad("etag_mode", "'md5' or 'blake3'", etag_mode)
    if not isinstance(chunking, str):
        raise bad("chunking", "'fixed' or 'cdc'", chunking)
    for name, value in (("chunk_size", chunk_size), ("inline_threshold", inline_threshold)):
        if value is not None and (type(value) is not int or value < 0):
            raise InvalidArgument(f"{name} must be a non-negative int, not {value!r}")
    if inline_threshold is None:
        raise bad("inline_threshold", "an int", inline_threshold)
    if limits is not None and not isinstance(limits, Limits):
        raise bad("limits", "an objstore.Limits", limits)
    if not callable(clock):
        raise bad("clock", "a callable returning nanoseconds", clock)
    if audit is not None and not callable(audit):
        raise bad("audit", "a callable taking an AuditEvent", audit)
    if authorizer is not None and not callable(getattr(authorizer, "authorize", None)):
        raise bad("authorizer", "an Authorizer", authorizer)
    if chunk_store is not None and not isinstance(chunk_store, ChunkStore):
        raise bad("chunks", "a URL or a ChunkStore", chunk_store)
    if metadata_store is not None and not isinstance(metadata_store, MetadataStore):
        raise bad("metadata", "a URL or a MetadataStore", metadata_store)
