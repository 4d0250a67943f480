"""GetObjectTagging answers ``x-amz-version-id`` of the version whose tags it returned,
also when the request named none (review rev11c F1): AWS documents it as "the versionId
of the object for which you got the tagging information"."""

from __future__ import annotations

from pathlib import Path

from tests.gateway.s3_support import served_store


def test_get_object_tagging_answers_the_version_read(tmp_path: Path) -> None:
    with served_store(tmp_path) as gw:
        s3 = gw.client()
        s3.create_bucket(Bucket="bkt")
        s3.put_object(Bucket="bkt", Key="k", Body=b"0", Tagging="a=0")
        # Never versioned: no version id, as S3; "null" named is echoed.
        assert "VersionId" not in s3.get_object_tagging(Bucket="bkt", Key="k")
        named = s3.get_object_tagging(Bucket="bkt", Key="k", VersionId="null")
        assert named["VersionId"] == "null"
        s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Enabled"})
        vid = s3.put_object(Bucket="bkt", Key="k", Body=b"1", Tagging="a=1")["VersionId"]
        current = s3.get_object_tagging(Bucket="bkt", Key="k")
        assert current["VersionId"] == vid
        assert current["TagSet"] == [{"Key": "a", "Value": "1"}]
        older = s3.get_object_tagging(Bucket="bkt", Key="k", VersionId="null")
        assert older["VersionId"] == "null"
        assert older["TagSet"] == [{"Key": "a", "Value": "0"}]
        # Suspended: the current version is the null one.
        s3.put_bucket_versioning(Bucket="bkt", VersioningConfiguration={"Status": "Suspended"})
        s3.put_object(Bucket="bkt", Key="k", Body=b"2", Tagging="a=2")
        current = s3.get_object_tagging(Bucket="bkt", Key="k")
        assert current["VersionId"] == "null"
        assert current["TagSet"] == [{"Key": "a", "Value": "2"}]
