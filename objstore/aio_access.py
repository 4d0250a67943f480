"""The asyncio twins of the ACL, object ownership, Block Public Access and
GetObjectAttributes calls of :class:`objstore.client.Client` (a mix-in of
:class:`objstore.aio.AsyncClient`, split from it by size). Same names, arguments and
errors as the sync calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from objstore.types import (
    AccessControlPolicy,
    ObjectAttributes,
    PolicyStatus,
    PublicAccessBlockConfiguration,
)


class AsyncAccessCalls:
    """ACLs, object ownership controls, Block Public Access and object attributes, as
    coroutines."""

    async def _run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def get_object_attributes(
        self,
        bucket: str,
        key: str,
        *,
        object_attributes: Iterable[str],
        version_id: str | None = None,
        max_parts: int | None = None,
        part_number_marker: int | None = None,
    ) -> ObjectAttributes:
        result: ObjectAttributes = await self._run(
            "get_object_attributes",
            bucket,
            key,
            object_attributes=object_attributes,
            version_id=version_id,
            max_parts=max_parts,
            part_number_marker=part_number_marker,
        )
        return result

    async def get_bucket_acl(self, bucket: str) -> AccessControlPolicy:
        result: AccessControlPolicy = await self._run("get_bucket_acl", bucket)
        return result

    async def put_bucket_acl(
        self,
        bucket: str,
        *,
        acl: str | None = None,
        access_control_policy: AccessControlPolicy | None = None,
    ) -> None:
        await self._run(
            "put_bucket_acl", bucket, acl=acl, access_control_policy=access_control_policy
        )

    async def get_object_acl(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> AccessControlPolicy:
        result: AccessControlPolicy = await self._run(
            "get_object_acl", bucket, key, version_id=version_id
        )
        return result

    async def put_object_acl(
        self,
        bucket: str,
        key: str,
        *,
        acl: str | None = None,
        access_control_policy: AccessControlPolicy | None = None,
        version_id: str | None = None,
    ) -> None:
        await self._run(
            "put_object_acl",
            bucket,
            key,
            acl=acl,
            access_control_policy=access_control_policy,
            version_id=version_id,
        )

    async def get_bucket_ownership_controls(self, bucket: str) -> str:
        result: str = await self._run("get_bucket_ownership_controls", bucket)
        return result

    async def put_bucket_ownership_controls(self, bucket: str, object_ownership: str) -> None:
        await self._run("put_bucket_ownership_controls", bucket, object_ownership)

    async def delete_bucket_ownership_controls(self, bucket: str) -> None:
        await self._run("delete_bucket_ownership_controls", bucket)

    async def put_public_access_block(
        self,
        bucket: str,
        public_access_block_configuration: PublicAccessBlockConfiguration | Mapping[str, bool],
    ) -> None:
        await self._run("put_public_access_block", bucket, public_access_block_configuration)

    async def get_public_access_block(self, bucket: str) -> PublicAccessBlockConfiguration:
        result: PublicAccessBlockConfiguration = await self._run("get_public_access_block", bucket)
        return result

    async def delete_public_access_block(self, bucket: str) -> None:
        await self._run("delete_public_access_block", bucket)

    async def get_bucket_policy_status(self, bucket: str) -> PolicyStatus:
        result: PolicyStatus = await self._run("get_bucket_policy_status", bucket)
        return result
