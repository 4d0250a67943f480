"""objstore: an embeddable object store with S3 semantics and AWS IAM policies.

>>> import objstore
>>> with objstore.open(None) as store:          # None: in memory
...     store.root.create_bucket("demo")
...     store.root.put_object("demo", "hello.txt", b"hi").size
2
"""

from objstore import errors
from objstore.authz import (
    AuthorizationRequest,
    Authorizer,
    DenyAllAuthorizer,
    Identity,
    RootOnlyAuthorizer,
    Verdict,
)
from objstore.body import ObjectBody
from objstore.client import Client
from objstore.identity.authorizer import IamAuthorizer
from objstore.identity.facade import IamClient
from objstore.ns.namespace import Limits
from objstore.store import Store
from objstore.store import open_store as open
from objstore.types import (
    AccessControlPolicy,
    BucketInfo,
    CORSRule,
    DeletedObject,
    DeleteError,
    DeleteMarkerEntry,
    DeleteResult,
    Grant,
    ListObjectsResult,
    ListPartsResult,
    ListUploadsResult,
    ListVersionsResult,
    ObjectAttributes,
    ObjectInfo,
    ObjectLockConfiguration,
    ObjectLockRetention,
    ObjectPart,
    ObjectParts,
    ObjectSummary,
    ObjectTags,
    ObjectVersion,
    PartInfo,
    PolicyStatus,
    PublicAccessBlockConfiguration,
    PutObjectResult,
    UploadInfo,
    UploadPartResult,
)

__all__ = [
    "AccessControlPolicy",
    "AuthorizationRequest",
    "Authorizer",
    "BucketInfo",
    "CORSRule",
    "Client",
    "DeleteError",
    "DeleteMarkerEntry",
    "DeleteResult",
    "DeletedObject",
    "DenyAllAuthorizer",
    "Grant",
    "IamAuthorizer",
    "IamClient",
    "Identity",
    "Limits",
    "ListObjectsResult",
    "ListPartsResult",
    "ListUploadsResult",
    "ListVersionsResult",
    "ObjectAttributes",
    "ObjectBody",
    "ObjectInfo",
    "ObjectLockConfiguration",
    "ObjectLockRetention",
    "ObjectPart",
    "ObjectParts",
    "ObjectSummary",
    "ObjectTags",
    "ObjectVersion",
    "PartInfo",
    "PolicyStatus",
    "PublicAccessBlockConfiguration",
    "PutObjectResult",
    "RootOnlyAuthorizer",
    "Store",
    "UploadInfo",
    "UploadPartResult",
    "Verdict",
    "errors",
    "open",
]
