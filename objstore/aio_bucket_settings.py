"""The asyncio twins of the bucket CORS and bucket tagging calls of
:class:`objstore.client.Client` (a mix-in of :class:`objstore.aio.AsyncClient`). Same
names, arguments and errors as the sync calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from objstore.types import CORSRule


class AsyncBucketSettingCalls:
    """Bucket CORS configuration and bucket tags, as coroutines."""

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def put_bucket_cors(
        self, bucket: str, cors_rules: Iterable[CORSRule | Mapping[str, Any]]
    ) -> None:
        await self._run("put_bucket_cors", bucket, cors_rules)

    async def get_bucket_cors(self, bucket: str) -> list[CORSRule]:
        result: list[CORSRule] = await self._run("get_bucket_cors", bucket)
        return result

    async def delete_bucket_cors(self, bucket: str) -> None:
        await self._run("delete_bucket_cors", bucket)

    async def put_bucket_tagging(
        self, bucket: str, tags: Mapping[str, str] | Iterable[tuple[str, str]] | str
    ) -> None:
        await self._run("put_bucket_tagging", bucket, tags)

    async def get_bucket_tagging(self, bucket: str) -> dict[str, str]:
        result: dict[str, str] = await self._run("get_bucket_tagging", bucket)
        return result

    async def delete_bucket_tagging(self, bucket: str) -> None:
        await self._run("delete_bucket_tagging", bucket)
