"""What every sub-command shares: opening the store named by ``--store``, BUCKET/KEY paths.

Only commands that exist to create something (``mb``, and the ``demo`` and ``bench``
commands, which work in a store of their own) may create a store. Every other command
refuses a directory that holds no store, so a mistyped ``--store`` is an error instead
of a new, empty store that answers "no such bucket" or lists nothing.
"""

from __future__ import annotations

import argparse
import os

import objstore
from objstore.errors import InvalidArgument
from objstore.store import Store

__all__ = ["CliError", "add_backend_flags", "is_store", "open_from", "split_path"]

# What open() lays out in a store directory; a directory holding either is a store
# (perhaps a damaged one, which open() itself must then refuse).
_STORE_ENTRIES = ("meta", "chunks")


class CliError(Exception):
    """A command-line mistake: printed (escaped) as one ``objstore: message`` line, status 1.

    Messages hold names raw; :func:`objstore.cli.main` escapes the whole line once."""


def is_store(path: str) -> bool:
    """Whether ``path`` is a directory that holds (or held) an objstore store."""
    return any(os.path.isdir(os.path.join(path, entry)) for entry in _STORE_ENTRIES)


def check_can_create(path: str) -> None:
    """Refuse to lay a new store into a directory that holds other things. Raises CliError."""
    if is_store(path) or not os.path.exists(path):
        return
    if not os.path.isdir(path):
        raise CliError(f"--store {path} is not a directory")
    if os.listdir(path):
        raise CliError(
            f"--store {path} is a non-empty directory that holds no store; "
            "refusing to create one there"
        )


def add_backend_flags(parser: argparse.ArgumentParser, *, dest_prefix: str = "") -> None:
    """``--metadata URL`` and ``--chunks URL`` (defaults: ``$OBJSTORE_METADATA``,
    ``$OBJSTORE_CHUNKS``); a sub-command's own copies use ``dest_prefix`` and SUPPRESS
    so that they only override the global ones when given."""
    sub = bool(dest_prefix)
    for name, forms in (
        ("metadata", "postgresql://user@host:port/db, lmdb:///dir or memory:"),
        ("chunks", "s3://bucket/prefix?endpoint=http://host:port, file:///dir or memory:"),
    ):
        parser.add_argument(
            f"--{name}",
            dest=f"{dest_prefix}{name}",
            metavar="URL",
            default=argparse.SUPPRESS if sub else None,
            help=f"{name} backend: {forms} (default: $OBJSTORE_{name.upper()}, else the "
            "--store directory)",
        )


def backends(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    """(path, metadata URL, chunks URL) the command line names. Without URLs the path is
    ``--store`` (or its default); with both URLs it is ``--store`` only when given."""
    metadata = getattr(args, "metadata", None) or os.environ.get("OBJSTORE_METADATA") or None
    chunks = getattr(args, "chunks", None) or os.environ.get("OBJSTORE_CHUNKS") or None
    path: str | None = args.store
    if metadata is not None and chunks is not None:
        path = getattr(args, "explicit_store", None)
    return path, metadata, chunks


def open_from(
    args: argparse.Namespace, *, create: bool = False, accept_chunk_loss: bool = False
) -> Store:
    """Open the store named by ``--store`` (or ``--metadata`` / ``--chunks``). Raises
    CliError when it does not exist (unless ``create``), and what
    :func:`objstore.open` raises (``accept_chunk_loss``: as there)."""
    where, metadata, chunks = backends(args)
    if metadata is not None or chunks is not None:
        if create and where is not None:
            check_can_create(where)
        # The backends say whether a store is there: refuse to start one unless asked.
        return objstore.open(
            where,
            metadata=metadata,
            chunks=chunks,
            create=create,
            accept_chunk_loss=accept_chunk_loss,
        )
    path: str = args.store
    if create:
        check_can_create(path)
    elif not is_store(path):
        raise CliError(
            f"no store at {path} (check --store or $OBJSTORE_DIR; "
            f"'objstore --store {path} mb BUCKET' creates one)"
        )
    return objstore.open(path, accept_chunk_loss=accept_chunk_loss)


def split_path(path: str, *, key_required: bool) -> tuple[str, str]:
    """``bucket/key`` (an optional ``s3://`` in front) -> (bucket, key).

    Raises InvalidArgument when the bucket (or a required key) is missing."""
    path = path.removeprefix("s3://")
    bucket, _, key = path.partition("/")
    if not bucket or (key_required and not key):
        want = "BUCKET/KEY" if key_required else "BUCKET[/PREFIX]"
        raise InvalidArgument(f"expected {want}, got '{path}'")
    return bucket, key
