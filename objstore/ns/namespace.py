"""The namespace: buckets, objects and versions over one metadata store and blobs.

Every method is one S3 operation carried out in (at most) one write
transaction; the pure rules live in :mod:`.versioning`, :mod:`.listing`,
:mod:`.conditional`, :mod:`.ranges`, :mod:`.validation` and :mod:`.uploads`,
the shared index helpers in :mod:`.index`, and the operations in
:mod:`.buckets`, :mod:`.objects`, :mod:`.copying`, :mod:`.tagging`, :mod:`.multipart`,
:mod:`.upload_lists`, :mod:`.lists`, :mod:`.access` (ACLs, object ownership),
:mod:`.attributes`, :mod:`.lock_ops` (Object Lock; its rules in :mod:`.locking`) and
:mod:`.public_access` (Block Public Access) and :mod:`.bucket_settings` (CORS, bucket tags).
Nothing here knows who the caller is: the engine has already decided that.
"""

from __future__ import annotations

from objstore.ns.access import AccessOps
from objstore.ns.attributes import AttributeOps
from objstore.ns.bucket_settings import BucketSettingOps
from objstore.ns.buckets import BucketOps
from objstore.ns.copying import CopyOps
from objstore.ns.index import Limits
from objstore.ns.lists import ListOps
from objstore.ns.lock_ops import LockOps
from objstore.ns.objects import ObjectOps, range_attempts
from objstore.ns.public_access import PublicAccessOps
from objstore.ns.tagging import TaggingOps
from objstore.ns.upload_lists import UploadListOps

__all__ = ["Limits", "Namespace", "range_attempts"]


class Namespace(
    BucketOps,
    UploadListOps,
    TaggingOps,
    CopyOps,
    ObjectOps,
    ListOps,
    AccessOps,
    AttributeOps,
    LockOps,
    PublicAccessOps,
    BucketSettingOps,
):
    """S3 semantics over a :class:`MetadataStore` and a :class:`BlobStore`."""
