"""Object tagging: put, get and delete the tag set of one version (one transaction each).

Tags live in the version record (:mod:`.records`), so they are versioned with
the object, survive copies (``tagging_directive="COPY"``) and cost a listing
nothing. Changing them rewrites that one record in place: the version keeps
its id, ETag and Last-Modified, as in S3.
"""

from __future__ import annotations

from dataclasses import replace

from objstore import keyspace
from objstore.meta.base import WriteTxn
from objstore.ns import keys, validation, versioning
from objstore.ns import tags as tag_rules
from objstore.ns.index import bucket_prefix
from objstore.ns.objects import ObjectOps
from objstore.types import ObjectTags


class TaggingOps(ObjectOps):
    """Object tagging operations."""

    def get_object_tagging(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectTags:
        """The version's tags, with the id of the version read (the current one when
        ``version_id`` is None). Raises NoSuchBucket, NoSuchKey, NoSuchVersion,
        MethodNotAllowed (a delete marker), InvalidArgument."""
        validation.check_key(key)
        with self.meta.begin() as txn:
            b = self._bucket(txn, bucket)
            rec = self._resolve(txn, bucket, key, version_id)
            return ObjectTags(rec.tags, self._public_vid(b, rec))

    def put_object_tagging(
        self, bucket: str, key: str, tags: object, *, version_id: str | None = None
    ) -> str | None:
        """Replace the version's tag set; returns its version id (None in a never-versioned
        bucket). Raises what :meth:`get_object_tagging` raises, BadRequest (over 10
        tags), InvalidTag."""
        return self._set_tags(bucket, key, version_id, tag_rules.check_tags(tags))

    def delete_object_tagging(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> str | None:
        """Remove every tag of the version; returns its version id as
        :meth:`put_object_tagging`, and raises what it raises."""
        return self._set_tags(bucket, key, version_id, {})

    def _set_tags(
        self, bucket: str, key: str, version_id: str | None, new: dict[str, str]
    ) -> str | None:
        validation.check_key(key)
        ek = keys.encode_key(key)

        def write(txn: WriteTxn) -> str | None:
            b = self._bucket(txn, bucket)
            rec = self._resolve(txn, bucket, key, version_id)
            vkey = bucket_prefix(keyspace.VERSION, bucket) + ek + versioning.inv_seq(rec.seq)
            txn.put(vkey, replace(rec, tags=new).encode())
            return self._public_vid(b, rec)

        return self.writer.run(write)
