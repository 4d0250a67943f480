"""The managed transfers of :class:`objstore.client.Client` (a mix-in by job): a local
file up or down, made only of other client calls, each authorized as its own operation
(:data:`objstore.actions.COMPOSITE_METHODS`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, cast

from objstore import transfer
from objstore.types import ObjectInfo, PutObjectResult

if TYPE_CHECKING:
    from objstore.client import Client


class TransferCalls:
    """upload_file and download_file (:mod:`objstore.transfer` does the work)."""

    def upload_file(
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
        """Upload a local file: one PUT below 16 MiB, else a multipart upload of
        ``part_size`` parts (default 16 MiB, grown to fit 10,000 parts) sent by
        ``concurrency`` threads (default 4). ``callback(n)`` gets the bytes sent
        since its previous call, as boto3's ``Callback``. A failed multipart
        upload is aborted. Each step is authorized as its own operation.

        Raises what :meth:`put_object` and the multipart calls raise, and
        InvalidArgument (the file cannot be read, bad ``part_size`` or
        ``concurrency``).
        """
        return transfer.upload_file(
            cast("Client", self),
            path,
            bucket,
            key,
            metadata=metadata,
            content_type=content_type,
            part_size=part_size,
            concurrency=concurrency,
            callback=callback,
        )

    def download_file(
        self,
        bucket: str,
        key: str,
        path: str | os.PathLike[str],
        *,
        version_id: str | None = None,
        concurrency: int | None = None,
        callback: Callable[[int], object] | None = None,
    ) -> ObjectInfo:
        """Download an object (or one version) to ``path``; returns what was fetched.

        Written to a temporary file beside ``path`` and renamed over it when
        whole: a failure leaves no partial file. Objects over 16 MiB come as
        parallel ranged GETs pinned to one version and ETag. ``callback(n)`` as
        in :meth:`upload_file`. Raises what :meth:`get_object` raises
        (PreconditionFailed if the object changes meanwhile), InvalidArgument
        (``path`` is a directory or cannot be written).
        """
        return transfer.download_file(
            cast("Client", self),
            bucket,
            key,
            path,
            version_id=version_id,
            concurrency=concurrency,
            callback=callback,
        )
