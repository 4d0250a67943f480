"""S3 Block Public Access at bucket level: the four settings, kept in the bucket record.

What they do (the rules live where each request is decided):

* ``BlockPublicPolicy``: PutBucketPolicy of a public policy (:mod:`objstore.iam.public`)
  is AccessDenied (``objstore/identity/service.py``).
* ``RestrictPublicBuckets``: a public bucket policy grants nothing to callers outside the
  bucket owner's account, anonymous ones included; its Deny statements still apply to
  everyone (``objstore/identity/authorizer.py``).
* ``BlockPublicAcls``: PutBucketAcl / PutObjectAcl of a public ACL (one granting the
  AllUsers or AuthenticatedUsers group) is AccessDenied rather than the
  AccessControlListNotSupported every ACL granting others gets (ACLs are disabled).
* ``IgnorePublicAcls``: stored and returned; with ACLs disabled there is no public ACL to
  ignore.

A bucket has no configuration until one is put (S3 has given new buckets all four since
April 2023; objstore keeps the behaviour its buckets always had, see docs/gateway.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from objstore.errors import InvalidArgument, NoSuchPublicAccessBlockConfiguration
from objstore.ns.index import Index, bucket_key
from objstore.ns.records import BucketRecord
from objstore.types import PublicAccessBlockConfiguration

# The settings as S3 (and boto3) spell them, in the order the bucket record keeps them.
SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
Flags = tuple[bool, bool, bool, bool]


def as_flags(configuration: object) -> Flags:
    """The four settings of a :class:`PublicAccessBlockConfiguration`, or of a mapping
    of S3's names to booleans (a missing one is off, as S3). Raises InvalidArgument."""
    if isinstance(configuration, PublicAccessBlockConfiguration):
        c = configuration
        return (
            c.block_public_acls,
            c.ignore_public_acls,
            c.block_public_policy,
            c.restrict_public_buckets,
        )
    if not isinstance(configuration, Mapping):
        raise InvalidArgument(
            "the public access block configuration must be a PublicAccessBlockConfiguration "
            "or a mapping of its settings"
        )
    unknown = sorted(str(name) for name in configuration if name not in SETTINGS)
    if unknown:
        raise InvalidArgument(f"unknown public access block setting {unknown[0]!r}")
    values = [configuration.get(name, False) for name in SETTINGS]
    if not all(isinstance(v, bool) for v in values):
        raise InvalidArgument("each public access block setting must be true or false")
    a, b, c_, d = values
    return a, b, c_, d


def as_configuration(flags: Flags) -> PublicAccessBlockConfiguration:
    return PublicAccessBlockConfiguration(*flags)


class PublicAccessOps(Index):
    """Get/Put/DeletePublicAccessBlock."""

    def get_public_access_block(self, bucket: str) -> PublicAccessBlockConfiguration:
        """The bucket's settings. Raises NoSuchBucket, NoSuchPublicAccessBlockConfiguration."""
        with self.meta.begin() as txn:
            flags = self._bucket(txn, bucket).public_access_block
        if flags is None:
            raise NoSuchPublicAccessBlockConfiguration(
                "The public access block configuration was not found", bucket=bucket
            )
        return as_configuration(flags)

    def put_public_access_block(
        self,
        bucket: str,
        public_access_block_configuration: PublicAccessBlockConfiguration | Mapping[str, bool],
    ) -> None:
        """Set the bucket's settings (all four at once). Raises NoSuchBucket,
        InvalidArgument."""
        self._update_bucket(bucket, public_access_block=as_flags(public_access_block_configuration))

    def public_acls_blocked(self, bucket: str) -> bool:
        """Whether the bucket's BlockPublicAcls is on (False without the bucket). Not an
        operation: the gateway reads it to refuse a write carrying a public ACL header
        with S3's 403 AccessDenied instead of 400 AccessControlListNotSupported."""
        with self.meta.begin() as txn:
            raw = txn.get(bucket_key(bucket))
        flags = None if raw is None else BucketRecord.decode(bucket, raw).public_access_block
        return flags is not None and flags[0]

    def delete_public_access_block(self, bucket: str) -> None:
        """Remove the bucket's settings (none is not an error). Raises NoSuchBucket."""
        self._update_bucket(bucket, public_access_block=None)
