"""What a benchmark run writes to: the embedded store, or any S3 endpoint (``s3target``).

The phases only speak :class:`Target`, so the same PUT, GET and multipart logic measures
the library and an HTTP server alike. A target with a local ``directory`` also gets the
raw-disk baseline and the stored-bytes (dedup) figure; a remote one reports neither.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

import objstore
from objstore.client import Client
from objstore.store import Store

__all__ = ["EmbeddedTarget", "ReadableBody", "Target", "embedded"]


class ReadableBody(Protocol):
    """A body a target uploads: read into a buffer, or read, rewound and read again."""

    def readinto(self, target: memoryview) -> int: ...

    def read(self, size: int = -1) -> bytes: ...

    def seek(self, offset: int, whence: int = 0) -> int: ...

    def tell(self) -> int: ...


class Target(Protocol):
    """The operations the phases run. Raise what the store or the endpoint raises."""

    @property
    def location(self) -> str:
        """What the report names: a store directory or an endpoint URL."""
        ...

    @property
    def directory(self) -> str | None:
        """The local store directory (disk baseline, stored bytes), None when remote."""
        ...

    def create_bucket(self, bucket: str) -> None: ...

    def put_object(self, bucket: str, key: str, body: ReadableBody, size: int) -> None: ...

    def get_object(self, bucket: str, key: str) -> AbstractContextManager[Iterable[bytes]]:
        """The object's bytes as pieces, read as they are iterated."""
        ...

    def create_multipart_upload(self, bucket: str, key: str) -> str:
        """Returns the upload id."""
        ...

    def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, body: ReadableBody, size: int
    ) -> tuple[int, str]:
        """Returns (part number, ETag)."""
        ...

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None: ...

    def clean_up(self, bucket: str) -> None:
        """Abort the uploads and delete every object version in ``bucket``, and the bucket."""
        ...


class EmbeddedTarget:
    """The store's own client, as root (no HTTP)."""

    def __init__(self, store: Store, directory: str) -> None:
        self._store = store
        self._client: Client = store.root
        self._directory = directory

    @property
    def location(self) -> str:
        return self._directory

    @property
    def directory(self) -> str | None:
        return self._directory

    def create_bucket(self, bucket: str) -> None:
        self._client.create_bucket(bucket)

    def put_object(self, bucket: str, key: str, body: ReadableBody, size: int) -> None:
        self._client.put_object(bucket, key, body, content_length=size)

    def get_object(self, bucket: str, key: str) -> AbstractContextManager[Iterable[bytes]]:
        return self._client.get_object(bucket, key)

    def create_multipart_upload(self, bucket: str, key: str) -> str:
        return self._client.create_multipart_upload(bucket, key)

    def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, body: ReadableBody, size: int
    ) -> tuple[int, str]:
        result = self._client.upload_part(bucket, key, upload_id, number, body, content_length=size)
        return result.part_number, result.etag

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        self._client.complete_multipart_upload(bucket, key, upload_id, parts)

    def clean_up(self, bucket: str) -> None:
        """Also collects the garbage, so the store's disk use is as before the run."""
        client = self._client
        while uploads := client.list_multipart_uploads(bucket):
            for upload in uploads:
                client.abort_multipart_upload(bucket, upload.key, upload.upload_id)
        while True:
            page = client.list_object_versions(bucket)
            entries = [(v.key, v.version_id) for v in page.versions]
            entries += [(m.key, m.version_id) for m in page.delete_markers]
            if not entries:
                break
            for start in range(0, len(entries), 1000):
                client.delete_objects(bucket, entries[start : start + 1000])
        client.delete_bucket(bucket)
        self._store.gc()


@contextlib.contextmanager
def embedded(store: str | None) -> Iterator[EmbeddedTarget]:
    """The store at ``store`` (created if missing), or a fresh temporary one in the current
    directory, removed afterwards. Raises InvalidArgument for a store that cannot be opened."""
    if store is not None:
        with objstore.open(store) as opened:
            yield EmbeddedTarget(opened, store)
        return
    path = tempfile.mkdtemp(prefix=".objstore-bench-", dir=os.getcwd())
    try:
        with objstore.open(path) as opened:
            yield EmbeddedTarget(opened, path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
