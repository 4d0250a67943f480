"""The asyncio twins of the Object Lock calls of :class:`objstore.client.Client`
(:mod:`objstore.client_locking`; a mix-in of :class:`objstore.aio.AsyncClient`). Same
names, arguments and errors as the sync calls."""

from __future__ import annotations

from typing import Any

from objstore.types import ObjectLockConfiguration, ObjectLockRetention


class AsyncLockCalls:
    """Object Lock, as coroutines (the thread hop comes from AsyncClient)."""

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def put_object_lock_configuration(
        self, bucket: str, configuration: ObjectLockConfiguration | None = None
    ) -> None:
        await self._run("put_object_lock_configuration", bucket, configuration)

    async def get_object_lock_configuration(self, bucket: str) -> ObjectLockConfiguration:
        result: ObjectLockConfiguration = await self._run("get_object_lock_configuration", bucket)
        return result

    async def put_object_retention(
        self,
        bucket: str,
        key: str,
        retention: ObjectLockRetention | None,
        *,
        version_id: str | None = None,
        bypass_governance_retention: bool = False,
    ) -> None:
        await self._run(
            "put_object_retention",
            bucket,
            key,
            retention,
            version_id=version_id,
            bypass_governance_retention=bypass_governance_retention,
        )

    async def get_object_retention(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectLockRetention:
        result: ObjectLockRetention = await self._run(
            "get_object_retention", bucket, key, version_id=version_id
        )
        return result

    async def put_object_legal_hold(
        self, bucket: str, key: str, legal_hold: str, *, version_id: str | None = None
    ) -> None:
        await self._run("put_object_legal_hold", bucket, key, legal_hold, version_id=version_id)

    async def get_object_legal_hold(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> str:
        result: str = await self._run("get_object_legal_hold", bucket, key, version_id=version_id)
        return result
