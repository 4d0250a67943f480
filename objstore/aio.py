"""The asyncio twin of :class:`objstore.client.Client`.

The core is synchronous (LMDB write transactions belong to their thread), so
each call runs the *whole* operation in one worker-thread hop: no lock or
transaction ever spans two threads, and the event loop never blocks on disk.
Method names and arguments are identical to the sync client.

Cancellation: a thread cannot be stopped, so cancelling a call cancels its
:class:`~objstore.cancel.CancelToken` and then *waits for the thread*. A write
still reading its body, or not yet at its commit point, stops there and keeps
nothing; one that already passed its commit point completes, and its write
stands (as an HTTP PUT whose response was lost). Either way ``CancelledError``
reaches the caller only once the call has finished, so a later acknowledged
write can never be overwritten by the late commit of an earlier, cancelled one.
A body that blocks in ``read`` delays the cancellation until that read returns.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

from objstore import transfer
from objstore.aio_access import AsyncAccessCalls
from objstore.aio_bucket_settings import AsyncBucketSettingCalls
from objstore.aio_locking import AsyncLockCalls
from objstore.aio_multipart import AsyncMultipartCalls, listed_items
from objstore.aiobridge import (
    AsyncObjectBody,
    bridge_pool,
    bridged,
    in_pool,
    in_thread,
    open_body,
)
from objstore.body import ObjectBody
from objstore.client import Client
from objstore.identity.facade import IamClient
from objstore.identity.sts_facade import StsClient
from objstore.ns.integrity import Supplied
from objstore.ns.ranges import RangeSpec
from objstore.store import Store
from objstore.types import (
    BucketInfo,
    DeletedObject,
    DeleteError,
    DeleteResult,
    ListObjectsResult,
    ListVersionsResult,
    ObjectInfo,
    ObjectTags,
    PutObjectResult,
)


class AsyncClient(AsyncMultipartCalls, AsyncAccessCalls, AsyncBucketSettingCalls, AsyncLockCalls):
    """Same methods as :class:`Client`, as coroutines; same errors (more in the mix-ins)."""

    #: ``get_object`` reads a body of at most this many bytes whole in the call that
    #: opens it, so reading it needs no further thread hop (a failure is still raised
    #: by the read that meets it).
    PRELOAD_BYTES = 256 * 1024

    def __init__(self, client: Client) -> None:
        self._client = client
        self.identity = client.identity

    # Made on first use (cached_property: still assignable, as a test does): the gateway
    # builds a client per request, and few requests need them.
    @functools.cached_property
    def iam(self) -> AsyncIamClient:
        """``client.iam`` as coroutines (:class:`AsyncIamClient`)."""
        return AsyncIamClient(self._client.iam)

    @functools.cached_property
    def sts(self) -> AsyncIamClient:
        """``client.sts`` as coroutines (:class:`AsyncIamClient`)."""
        return AsyncIamClient(self._client.sts)

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return await in_thread(getattr(self._client, method), *args, **kwargs)

    async def _upload(self, method: str, body: object, *args: Any, **kwargs: Any) -> Any:
        """Run an upload whose body may be async (see :func:`objstore.aiobridge.bridged`)."""
        sync_body, is_async = bridged(body)
        fn = getattr(self._client, method)
        if not is_async:
            return await in_thread(fn, *args, sync_body, **kwargs)
        # Not on the default executor: the worker waits for reads that
        # aiofiles runs there, and uploads filling it would wait forever.
        return await in_pool(bridge_pool(), fn, *args, sync_body, **kwargs)

    async def put_bucket_policy(self, bucket: str, policy: str) -> None:
        await self._run("put_bucket_policy", bucket, policy)

    async def get_bucket_policy(self, bucket: str) -> str:
        result: str = await self._run("get_bucket_policy", bucket)
        return result

    async def delete_bucket_policy(self, bucket: str) -> None:
        await self._run("delete_bucket_policy", bucket)

    async def create_bucket(
        self,
        bucket: str,
        *,
        object_ownership: str | None = None,
        object_lock_enabled: bool = False,
    ) -> None:
        await self._run(
            "create_bucket",
            bucket,
            object_ownership=object_ownership,
            object_lock_enabled=object_lock_enabled,
        )

    async def head_bucket(self, bucket: str) -> BucketInfo:
        result: BucketInfo = await self._run("head_bucket", bucket)
        return result

    async def delete_bucket(self, bucket: str) -> None:
        await self._run("delete_bucket", bucket)

    async def list_buckets(self) -> list[BucketInfo]:
        result: list[BucketInfo] = await self._run("list_buckets")
        return result

    async def put_bucket_versioning(self, bucket: str, status: str) -> None:
        await self._run("put_bucket_versioning", bucket, status)

    async def get_bucket_versioning(self, bucket: str) -> str | None:
        result: str | None = await self._run("get_bucket_versioning", bucket)
        return result

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: object,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        content_length: int | None = None,
        tagging: Mapping[str, str] | str | None = None,
        checksum_algorithm: str | None = None,
        checksums: Supplied = None,
        content_md5: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: datetime | str | None = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> PutObjectResult:
        """As :meth:`Client.put_object`; ``body`` may also be an async iterable of
        bytes or an ``aiofiles`` file, streamed from the loop to the worker thread.
        A ``checksums`` callable runs on that thread once the body has ended."""
        result: PutObjectResult = await self._upload(
            "put_object",
            body,
            bucket,
            key,
            metadata=metadata,
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
            content_length=content_length,
            tagging=tagging,
            checksum_algorithm=checksum_algorithm,
            checksums=checksums,
            content_md5=content_md5,
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

    async def put_objects(
        self, bucket: str, items: Iterable[tuple[str, object]]
    ) -> list[PutObjectResult]:
        result: list[PutObjectResult] = await self._run("put_objects", bucket, listed_items(items))
        return result

    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        range: RangeSpec = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        if_unmodified_since: datetime | None = None,
        checksum_mode: bool = False,
        part_number: int | None = None,
    ) -> AsyncObjectBody:
        body: ObjectBody = await in_thread(
            open_body,
            self._client.get_object,
            self.PRELOAD_BYTES,
            bucket,
            key,
            version_id=version_id,
            range=range,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            checksum_mode=checksum_mode,
            part_number=part_number,
        )
        return AsyncObjectBody(body, preloaded=body.size <= self.PRELOAD_BYTES)

    async def head_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        checksum_mode: bool = False,
        part_number: int | None = None,
    ) -> ObjectInfo:
        result: ObjectInfo = await self._run(
            "head_object",
            bucket,
            key,
            version_id=version_id,
            checksum_mode=checksum_mode,
            part_number=part_number,
        )
        return result

    async def delete_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        bypass_governance_retention: bool = False,
    ) -> DeleteResult:
        result: DeleteResult = await self._run(
            "delete_object",
            bucket,
            key,
            version_id=version_id,
            bypass_governance_retention=bypass_governance_retention,
        )
        return result

    async def delete_objects(
        self,
        bucket: str,
        keys: Iterable[str | tuple[str, str | None] | Mapping[str, str]],
        *,
        bypass_governance_retention: bool = False,
    ) -> list[DeletedObject | DeleteError]:
        result: list[DeletedObject | DeleteError] = await self._run(
            "delete_objects",
            bucket,
            listed_items(keys),
            bypass_governance_retention=bypass_governance_retention,
        )
        return result

    async def generate_presigned_url(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        version_id: str | None = None,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
    ) -> str:
        """See :meth:`objstore.client_presign.PresignCalls.generate_presigned_url` (it
        reads the key's sealed secret from the metadata: one worker-thread hop)."""
        result: str = await in_thread(
            self._client.generate_presigned_url,
            method,
            bucket,
            key,
            expires_in=expires_in,
            version_id=version_id,
            endpoint_url=endpoint_url,
            region=region,
        )
        return result

    async def copy_object(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        *,
        src_version_id: str | None = None,
        metadata_directive: str = "COPY",
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        tagging_directive: str = "COPY",
        tagging: Mapping[str, str] | str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: datetime | str | None = None,
        object_lock_mode: str | None = None,
        object_lock_retain_until_date: datetime | str | None = None,
        object_lock_legal_hold_status: str | None = None,
    ) -> PutObjectResult:
        result: PutObjectResult = await self._run(
            "copy_object",
            src_bucket,
            src_key,
            bucket,
            key,
            src_version_id=src_version_id,
            metadata_directive=metadata_directive,
            metadata=metadata,
            content_type=content_type,
            if_match=if_match,
            if_none_match=if_none_match,
            tagging_directive=tagging_directive,
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

    async def put_object_tagging(
        self,
        bucket: str,
        key: str,
        tags: Mapping[str, str] | str,
        *,
        version_id: str | None = None,
    ) -> str | None:
        result: str | None = await self._run(
            "put_object_tagging", bucket, key, tags, version_id=version_id
        )
        return result

    async def get_object_tagging(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectTags:
        result: ObjectTags = await self._run(
            "get_object_tagging", bucket, key, version_id=version_id
        )
        return result

    async def delete_object_tagging(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> str | None:
        result: str | None = await self._run(
            "delete_object_tagging", bucket, key, version_id=version_id
        )
        return result

    async def upload_file(
        self,
        path: str | os.PathLike[str],
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        part_size: int | None = None,
        concurrency: int | None = None,
        callback: Callable[[int], object] | None = None,
    ) -> PutObjectResult:
        """As :meth:`Client.upload_file`; the file is read with ``aiofiles`` and
        parts are uploaded as concurrent tasks."""
        return await transfer.upload_file_async(
            self,
            path,
            bucket,
            key,
            metadata=metadata,
            content_type=content_type,
            part_size=part_size,
            concurrency=concurrency,
            callback=callback,
        )

    async def download_file(
        self,
        bucket: str,
        key: str,
        path: str | os.PathLike[str],
        *,
        version_id: str | None = None,
        concurrency: int | None = None,
        callback: Callable[[int], object] | None = None,
    ) -> ObjectInfo:
        """As :meth:`Client.download_file`; the file is written with ``aiofiles``."""
        return await transfer.download_file_async(
            self,
            bucket,
            key,
            path,
            version_id=version_id,
            concurrency=concurrency,
            callback=callback,
        )

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListObjectsResult:
        result: ListObjectsResult = await self._run(
            "list_objects",
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            max_keys=max_keys,
            continuation_token=continuation_token,
            start_after=start_after,
        )
        return result

    async def list_object_versions(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        key_marker: str | None = None,
        version_id_marker: str | None = None,
        max_keys: int = 1000,
    ) -> ListVersionsResult:
        result: ListVersionsResult = await self._run(
            "list_object_versions",
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            version_id_marker=version_id_marker,
            max_keys=max_keys,
        )
        return result


class AsyncIamClient:
    """``client.iam`` (or ``client.sts``) as coroutines: every public method of the sync
    facade, same arguments, same results and errors, each run in one worker-thread hop."""

    def __init__(self, iam: IamClient | StsClient) -> None:
        self._iam = iam

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not callable(getattr(type(self._iam), name, None)):
            raise AttributeError(name)
        method = getattr(self._iam, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        call.__name__ = name
        return call


class AsyncStore:
    """An open store for asyncio code: ``async with objstore.aio.open(path) as store``."""

    def __init__(self, store: Store) -> None:
        self.sync = store
        self.root = AsyncClient(store.root)

    async def client(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        *,
        source_ip: str | None = None,
        secure_transport: bool = True,
    ) -> AsyncClient:
        """As :meth:`Store.client` (authentication runs in a worker thread)."""
        client = await asyncio.to_thread(
            self.sync.client,
            access_key_id,
            secret_access_key,
            session_token,
            source_ip=source_ip,
            secure_transport=secure_transport,
        )
        return AsyncClient(client)

    def client_for(self, identity: Any) -> AsyncClient:
        return AsyncClient(self.sync.client_for(identity))

    async def cors(
        self,
        bucket: str,
        origin: str | None,
        method: str | None,
        *,
        preflight: bool = False,
        request_headers: str | None = None,
        resource_type: str = "OBJECT",
    ) -> dict[str, str]:
        """The CORS headers S3 answers a request from ``origin`` with, for anyone (no
        authentication, as S3): :meth:`Namespace.cors_answer
        <objstore.ns.bucket_settings.BucketSettingOps.cors_answer>` (``store.namespace``
        for synchronous code), in a worker thread. Raises NoSuchBucket; a preflight also
        BadRequest, AccessForbidden."""
        result: dict[str, str] = await in_thread(
            self.sync.namespace.cors_answer,
            bucket,
            origin,
            method,
            preflight=preflight,
            request_headers=request_headers,
            resource_type=resource_type,
        )
        return result

    async def public_acls_blocked(self, bucket: str) -> bool:
        """Whether the bucket's BlockPublicAcls is on (:meth:`Namespace.public_acls_blocked
        <objstore.ns.public_access.PublicAccessOps.public_acls_blocked>`; no authorization:
        the gateway's answer to a public ACL header depends on it, as S3's does)."""
        blocked: bool = await in_thread(self.sync.namespace.public_acls_blocked, bucket)
        return blocked

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> AsyncStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def open(path: Any, **kwargs: Any) -> AsyncStore:
    """Open a store for asyncio use; arguments as :func:`objstore.open`."""
    from objstore.store import open_store

    return AsyncStore(open_store(path, **kwargs))
