"""The multipart-upload calls of :class:`objstore.aio.AsyncClient` (a mix-in by job),
the asyncio twins of :mod:`objstore.client_multipart`'s."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from objstore.ns.integrity import Supplied
from objstore.types import ListPartsResult, ListUploadsResult, PutObjectResult, UploadPartResult


class AsyncMultipartCalls:
    """Multipart uploads, as coroutines (the thread hops come from AsyncClient)."""

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def _upload(self, method: str, body: object, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        tagging: Mapping[str, str] | str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: datetime | str | None = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> str:
        result: str = await self._run(
            "create_multipart_upload",
            bucket,
            key,
            metadata=metadata,
            content_type=content_type,
            checksum_algorithm=checksum_algorithm,
            checksum_type=checksum_type,
            tagging=tagging,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
            object_lock_mode=object_lock_mode,
            object_lock_retain_until_date=object_lock_retain_until_date,
            object_lock_legal_hold_status=object_lock_legal_hold_status,
        )
        return result

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: object,
        *,
        content_length: int | None = None,
        checksum_algorithm: str | None = None,
        checksums: Supplied = None,
        content_md5: str | None = None,
    ) -> UploadPartResult:
        """As :meth:`Client.upload_part`; ``body`` as in :meth:`put_object`."""
        result: UploadPartResult = await self._upload(
            "upload_part",
            body,
            bucket,
            key,
            upload_id,
            part_number,
            content_length=content_length,
            checksum_algorithm=checksum_algorithm,
            checksums=checksums,
            content_md5=content_md5,
        )
        return result

    async def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        src_bucket: str,
        src_key: str,
        *,
        src_version_id: str | None = None,
        src_range: tuple[int, int] | str | None = None,
    ) -> UploadPartResult:
        result: UploadPartResult = await self._run(
            "upload_part_copy",
            bucket,
            key,
            upload_id,
            part_number,
            src_bucket,
            src_key,
            src_version_id=src_version_id,
            src_range=src_range,
        )
        return result

    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Iterable[tuple[int, str] | UploadPartResult | Mapping[str, Any]],
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        checksums: Mapping[str, str] | None = None,
    ) -> PutObjectResult:
        result: PutObjectResult = await self._run(
            "complete_multipart_upload",
            bucket,
            key,
            upload_id,
            listed_items(parts),
            if_match=if_match,
            if_none_match=if_none_match,
            checksums=checksums,
        )
        return result

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self._run("abort_multipart_upload", bucket, key, upload_id)

    async def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        max_parts: int = 1000,
        part_number_marker: int = 0,
    ) -> ListPartsResult:
        result: ListPartsResult = await self._run(
            "list_parts",
            bucket,
            key,
            upload_id,
            max_parts=max_parts,
            part_number_marker=part_number_marker,
        )
        return result

    async def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int = 1000,
    ) -> ListUploadsResult:
        result: ListUploadsResult = await self._run(
            "list_multipart_uploads",
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker,
            max_uploads=max_uploads,
        )
        return result


def listed_items(items: object) -> object:
    """Collect an iterable of items here, so no generator runs in the worker thread;
    a string or a non-iterable is handed on whole for the client to reject (a
    string listed would become one item per character)."""
    if isinstance(items, Iterable) and not isinstance(items, str | bytes):
        return list(items)
    return items
