"""ACLs disabled (object ownership BucketOwnerEnforced), ownership controls and
GetObjectAttributes through the library (sync and asyncio)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from dataclasses import replace

import pytest
from conftest import BUCKET
from hypothesis import given
from hypothesis import strategies as st

import objstore
from objstore import aio, checksums
from objstore.errors import (
    AccessControlListNotSupported,
    InvalidArgument,
    InvalidBucketAclWithObjectOwnership,
    MalformedACLError,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
    OwnershipControlsNotFoundError,
)
from objstore.errors import NotImplemented as NotImplementedByObjstore
from objstore.ns import acl
from objstore.ns.attributes import part_page
from objstore.ns.records import BucketRecord, VersionRecord
from objstore.types import AccessControlPolicy, Grant


def test_acls_are_the_owners_full_control(root: objstore.Client) -> None:
    account = root.identity.account
    root.put_object(BUCKET, "k", b"x")
    expected = AccessControlPolicy(
        account, account, (Grant(account, "FULL_CONTROL", "CanonicalUser", account),)
    )
    assert root.get_bucket_acl(BUCKET) == expected
    assert root.get_object_acl(BUCKET, "k") == expected
    with pytest.raises(NoSuchKey):
        root.get_object_acl(BUCKET, "missing")
    with pytest.raises(NoSuchBucket):
        root.get_bucket_acl("no-such-bucket")


def test_object_acl_of_versions(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    vid = root.put_object(BUCKET, "k", b"x").version_id
    assert vid is not None
    marker = root.delete_object(BUCKET, "k").version_id
    assert root.get_object_acl(BUCKET, "k", version_id=vid).grants
    root.put_object_acl(BUCKET, "k", acl="bucket-owner-full-control", version_id=vid)
    with pytest.raises(NoSuchKey):
        root.get_object_acl(BUCKET, "k")
    with pytest.raises(MethodNotAllowed):
        root.get_object_acl(BUCKET, "k", version_id=marker)
    with pytest.raises(NoSuchVersion):
        root.put_object_acl(BUCKET, "k", acl="bucket-owner-full-control", version_id="0" * 32)


def test_only_the_owners_full_control_can_be_set(root: objstore.Client) -> None:
    account = root.identity.account
    root.put_object(BUCKET, "k", b"x")
    before = root.head_object(BUCKET, "k")
    mine = root.get_bucket_acl(BUCKET)
    root.put_bucket_acl(BUCKET, acl="bucket-owner-full-control")
    root.put_bucket_acl(BUCKET, access_control_policy=mine)
    root.put_object_acl(BUCKET, "k", access_control_policy=mine)
    assert root.head_object(BUCKET, "k") == before  # nothing changed, mtime neither
    root.put_object_acl(BUCKET, "k", acl="private")  # the owner's full control too
    root.put_bucket_acl(BUCKET, acl="private")
    for canned in sorted(acl.CANNED_ACLS - acl.OWNER_ONLY_ACLS):
        with pytest.raises(AccessControlListNotSupported):
            root.put_bucket_acl(BUCKET, acl=canned)
        with pytest.raises(AccessControlListNotSupported):
            root.put_object_acl(BUCKET, "k", acl=canned)
    refused = (
        AccessControlPolicy(account, account, ()),  # revoking everything
        AccessControlPolicy(account, account, (Grant(account, "READ"),)),
        AccessControlPolicy(account, account, (*mine.grants, Grant("111122223333", "READ"))),
        AccessControlPolicy(account, account, (Grant("http://acs/AllUsers", "READ", "Group"),)),
    )
    for policy in refused:
        with pytest.raises(AccessControlListNotSupported):
            root.put_bucket_acl(BUCKET, access_control_policy=policy)
    with pytest.raises(InvalidArgument):
        root.put_bucket_acl(BUCKET, acl="everyone")
    with pytest.raises(MalformedACLError):
        root.put_bucket_acl(BUCKET)
    with pytest.raises(MalformedACLError):
        root.put_bucket_acl(BUCKET, acl="bucket-owner-full-control", access_control_policy=mine)
    with pytest.raises(MalformedACLError):
        root.put_object_acl(
            BUCKET,
            "k",
            access_control_policy=AccessControlPolicy(account, account, (Grant(account, "ALL"),)),
        )


def test_acl_arguments_of_the_wrong_type_are_refused(root: objstore.Client) -> None:
    """Values of the wrong Python type get InvalidArgument, never a raw TypeError or
    AttributeError, and change nothing."""
    account = root.identity.account
    root.put_object(BUCKET, "k", b"x")
    before = root.head_object(BUCKET, "k")
    odd_acls: list[object] = [["private"], {"private": 1}, 3, b"private"]
    odd_policies: list[object] = [
        "private",
        {"grants": []},
        ["x"],
        AccessControlPolicy(account, account, ({"grantee_id": account},)),  # type: ignore[arg-type]
        AccessControlPolicy(account, account, 7),  # type: ignore[arg-type]
    ]
    for odd in odd_acls:
        with pytest.raises(InvalidArgument):
            root.put_bucket_acl(BUCKET, acl=odd)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            root.put_object_acl(BUCKET, "k", acl=odd)  # type: ignore[arg-type]
    for odd in odd_policies:
        with pytest.raises(InvalidArgument):
            root.put_bucket_acl(BUCKET, access_control_policy=odd)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            root.put_object_acl(BUCKET, "k", access_control_policy=odd)  # type: ignore[arg-type]
    odd_settings: list[object] = [["BucketOwnerEnforced"], {}, 1]
    for setting in odd_settings:
        with pytest.raises(InvalidArgument):
            root.put_bucket_ownership_controls(BUCKET, setting)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            root.create_bucket("odd-owner", object_ownership=setting)  # type: ignore[arg-type]
    assert root.head_object(BUCKET, "k") == before
    assert root.get_bucket_ownership_controls(BUCKET) == "BucketOwnerEnforced"
    assert "odd-owner" not in {b.name for b in root.list_buckets()}


def test_ownership_controls(root: objstore.Client, store: objstore.Store) -> None:
    assert root.get_bucket_ownership_controls(BUCKET) == "BucketOwnerEnforced"
    root.delete_bucket_ownership_controls(BUCKET)
    with pytest.raises(OwnershipControlsNotFoundError) as exc:
        root.get_bucket_ownership_controls(BUCKET)
    assert exc.value.http_status == 404
    # The bucket's other settings survive the change, and the change survives them.
    root.put_bucket_versioning(BUCKET, "Enabled")
    with pytest.raises(OwnershipControlsNotFoundError):
        root.get_bucket_ownership_controls(BUCKET)
    for setting in ("ObjectWriter", "BucketOwnerPreferred"):
        with pytest.raises(NotImplementedByObjstore):
            root.put_bucket_ownership_controls(BUCKET, setting)
    with pytest.raises(InvalidArgument):
        root.put_bucket_ownership_controls(BUCKET, "Nobody")
    root.put_bucket_ownership_controls(BUCKET, "BucketOwnerEnforced")
    assert root.get_bucket_ownership_controls(BUCKET) == "BucketOwnerEnforced"
    assert root.get_bucket_versioning(BUCKET) == "Enabled"
    with pytest.raises(NoSuchBucket):
        root.delete_bucket_ownership_controls("no-such-bucket")
    # A bucket deleted and created again starts with the default.
    root.delete_bucket_ownership_controls(BUCKET)
    root.create_bucket("again", object_ownership="BucketOwnerEnforced")
    root.delete_bucket_ownership_controls("again")
    root.delete_bucket("again")
    root.create_bucket("again")
    assert root.get_bucket_ownership_controls("again") == "BucketOwnerEnforced"
    with pytest.raises(NotImplementedByObjstore):
        root.create_bucket("writer", object_ownership="ObjectWriter")
    assert "writer" not in {b.name for b in root.list_buckets()}


def test_bucket_records_round_trip_their_ownership() -> None:
    """Records written before ownership controls existed read as BucketOwnerEnforced."""
    old = json.dumps({"o": "123456789012", "c": 5, "v": None}).encode()
    assert BucketRecord.decode("b", old).ownership == "BucketOwnerEnforced"
    for setting in ("BucketOwnerEnforced", None):
        rec = BucketRecord("b", "123456789012", 5, "Enabled", setting)
        assert BucketRecord.decode("b", rec.encode()) == rec
    # The default is not written: a record reads the same to code that predates it.
    assert BucketRecord("b", "o", 1).encode() == b'{"o":"o","c":1,"v":null}'


_GRANTEE = st.sampled_from(["id", "uri", "emailAddress"])
_VALUE = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='",='),
    min_size=1,
    max_size=20,
)


@given(st.lists(st.tuples(_GRANTEE, _VALUE, st.booleans()), min_size=1, max_size=4))
def test_grant_headers_parse_every_grantee(items: list[tuple[str, str, bool]]) -> None:
    """A grant header lists grantees (quoted or not); each becomes one grant of the
    header's permission, and only the owner's id alone passes the check."""
    value = ", ".join(f'{k}="{v}"' if quoted else f"{k}={v}" for k, v, quoted in items)
    grants = acl.parse_grant_header("x-amz-grant-read-acp", value)
    kinds = {"id": "CanonicalUser", "uri": "Group", "emailAddress": "AmazonCustomerByEmail"}
    assert [(g.grantee_type, g.grantee_id, g.permission) for g in grants] == [
        (kinds[k], v, "READ_ACP") for k, v, _ in items
    ]
    with pytest.raises(AccessControlListNotSupported):
        acl.check_grants(grants, "123456789012")
    owner = acl.parse_grant_header("x-amz-grant-full-control", value)
    owner_only = all(k == "id" and v == "123456789012" for k, v, _ in items)
    if owner_only:
        acl.check_grants(owner, "123456789012")
    else:
        with pytest.raises(InvalidBucketAclWithObjectOwnership):
            acl.check_grants(owner, "123456789012", new_bucket=True)


def test_grant_header_syntax_is_checked() -> None:
    for value in ("", "id", 'id="a" id="b"', "name=x", 'id="a",'):
        with pytest.raises(InvalidArgument):
            acl.parse_grant_header("x-amz-grant-read", value)
    with pytest.raises(InvalidArgument):
        acl.parse_grant_header("x-amz-grant-everything", 'id="a"')
    acl.check_canned("private", new_bucket=True)
    with pytest.raises(InvalidBucketAclWithObjectOwnership):
        acl.check_canned("public-read", new_bucket=True)


# ------------------------------------------------------------ GetObjectAttributes

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def test_attributes_of_a_single_put(root: objstore.Client) -> None:
    body = b"hello world"
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    put = root.put_object(BUCKET, "k", body, checksums={"SHA256": sha})
    got = root.get_object_attributes(BUCKET, "k", object_attributes=ALL)
    head = root.head_object(BUCKET, "k")
    assert got == objstore.ObjectAttributes(
        version_id=None,
        last_modified=head.last_modified,
        etag=put.etag.strip('"'),
        checksums={"SHA256": sha},
        checksum_type="FULL_OBJECT",
        object_parts=None,
        storage_class="STANDARD",
        object_size=len(body),
    )
    only = root.get_object_attributes(BUCKET, "k", object_attributes=iter(["ObjectSize"]))
    assert (only.object_size, only.etag, only.checksums, only.storage_class) == (
        11,
        None,
        None,
        None,
    )
    plain = root.put_object(BUCKET, "plain", b"x")
    assert plain.etag
    none = root.get_object_attributes(BUCKET, "plain", object_attributes=["Checksum"])
    assert none.checksums is None and none.checksum_type is None


def test_attribute_names_and_counts_are_checked(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"x")
    for names in ([], ["Etag"], ["ETag", "Size"]):
        with pytest.raises(InvalidArgument):
            root.get_object_attributes(BUCKET, "k", object_attributes=names)
    with pytest.raises(InvalidArgument):  # review rev11gen L1: a raw TypeError
        root.get_object_attributes(BUCKET, "k", object_attributes=[["ETag"]])  # type: ignore[list-item]
    for extra in ({"max_parts": -1}, {"part_number_marker": -2}, {"max_parts": "5"}):
        with pytest.raises(InvalidArgument):
            root.get_object_attributes(BUCKET, "k", object_attributes=["ETag"], **extra)  # type: ignore[arg-type]
    assert (
        root.get_object_attributes(BUCKET, "k", object_attributes="ETag,ObjectSize").object_size
        == 1
    )


def test_attributes_of_versions(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    first = root.put_object(BUCKET, "k", b"foo")
    root.put_object(BUCKET, "k", b"longer")
    assert (
        root.get_object_attributes(BUCKET, "k", object_attributes=["ObjectSize"]).object_size == 6
    )
    old = root.get_object_attributes(
        BUCKET, "k", object_attributes=["ObjectSize", "ETag"], version_id=first.version_id
    )
    assert (old.version_id, old.object_size, old.etag) == (
        first.version_id,
        3,
        first.etag.strip('"'),
    )
    marker = root.delete_object(BUCKET, "k").version_id
    with pytest.raises(NoSuchKey) as exc:
        root.get_object_attributes(BUCKET, "k", object_attributes=["ETag"])
    assert exc.value.delete_marker
    with pytest.raises(MethodNotAllowed):
        root.get_object_attributes(BUCKET, "k", object_attributes=["ETag"], version_id=marker)


def crc32c(data: bytes) -> str:
    """The base64 CRC32C S3 reports for ``data``."""
    return checksums.encode(checksums.digest("CRC32C", data))


def test_attributes_of_a_multipart_object(root: objstore.Client) -> None:
    part = 5 * 1024 * 1024
    up = root.create_multipart_upload(BUCKET, "mp", checksum_algorithm="CRC32C")
    done = [
        root.upload_part(BUCKET, "mp", up, n, bytes([n]) * (part if n < 3 else 7))
        for n in (1, 2, 3)
    ]
    result = root.complete_multipart_upload(BUCKET, "mp", up, done)
    got = root.get_object_attributes(
        BUCKET, "mp", object_attributes=ALL, max_parts=2, part_number_marker=1
    )
    assert got.object_size == 2 * part + 7
    assert got.etag == result.etag.strip('"') and got.etag.endswith("-3")
    assert got.checksums == result.checksums and got.checksum_type == "COMPOSITE"
    assert got.object_parts == objstore.ObjectParts(
        total_parts_count=3,
        part_number_marker=1,
        next_part_number_marker=None,
        max_parts=2,
        is_truncated=False,
        # Each part's own checksum, as S3 lists them for an object with a checksum.
        parts=(
            objstore.ObjectPart(2, part, {"CRC32C": crc32c(b"\x02" * part)}),
            objstore.ObjectPart(3, 7, {"CRC32C": crc32c(b"\x03" * 7)}),
        ),
    )
    first = root.get_object_attributes(BUCKET, "mp", object_attributes=ALL, max_parts=1)
    assert first.object_parts is not None
    assert first.object_parts.parts == (
        objstore.ObjectPart(1, part, {"CRC32C": crc32c(b"\x01" * part)}),
    )
    assert (first.object_parts.is_truncated, first.object_parts.next_part_number_marker) == (
        True,
        1,
    )
    capped = root.get_object_attributes(
        BUCKET, "mp", object_attributes=["ObjectParts"], max_parts=5000
    )
    assert capped.object_parts is not None and capped.object_parts.max_parts == 1000


def test_async_twins() -> None:
    async def main() -> None:
        async with aio.open(None) as s:
            c = s.root
            await c.create_bucket(BUCKET, object_ownership="BucketOwnerEnforced")
            await c.put_object(BUCKET, "k", b"abc")
            got = await c.get_object_attributes(BUCKET, "k", object_attributes=["ObjectSize"])
            assert got.object_size == 3
            policy = await c.get_bucket_acl(BUCKET)
            assert policy == await c.get_object_acl(BUCKET, "k")
            await c.put_bucket_acl(BUCKET, access_control_policy=policy)
            await c.put_object_acl(BUCKET, "k", acl="bucket-owner-full-control")
            with pytest.raises(AccessControlListNotSupported):
                await c.put_object_acl(BUCKET, "k", acl="public-read")
            await c.delete_bucket_ownership_controls(BUCKET)
            with pytest.raises(OwnershipControlsNotFoundError):
                await c.get_bucket_ownership_controls(BUCKET)
            await c.put_bucket_ownership_controls(BUCKET, "BucketOwnerEnforced")
            assert await c.get_bucket_ownership_controls(BUCKET) == "BucketOwnerEnforced"

    asyncio.run(main())


@given(
    st.lists(st.tuples(st.integers(1, 10**9), st.integers(1, 50)), max_size=5),
    st.integers(0, 300),
    st.integers(0, 60),
)
def test_part_pages_follow_the_part_list(
    runs: list[tuple[int, int]], marker: int, limit: int
) -> None:
    """A page of parts is the slice of the expanded part list after the marker."""
    sizes = [size for size, count in runs for _ in range(count)]
    expected = [(n, size) for n, size in enumerate(sizes, 1) if n > marker][:limit]
    page, more = part_page(runs, marker, limit)
    assert [(p.part_number, p.size) for p in page] == expected
    assert more == (len([n for n in range(1, len(sizes) + 1) if n > marker]) > limit)


def test_parts_of_objects_completed_before_part_sizes_were_kept(
    root: objstore.Client, store: objstore.Store
) -> None:
    """A record without part sizes (written before they were recorded) gives the count."""
    part = 5 * 1024 * 1024
    up = root.create_multipart_upload(BUCKET, "old")
    done = [root.upload_part(BUCKET, "old", up, n, b"z" * part) for n in (1, 2)]
    root.complete_multipart_upload(BUCKET, "old", up, done)
    with store.namespace.meta.begin_write() as txn:
        for key, raw in list(txn.scan(b"V", b"W")):
            rec = VersionRecord.decode(raw)
            if rec.key == "old":
                txn.put(key, replace(rec, part_sizes=()).encode())
    got = root.get_object_attributes(BUCKET, "old", object_attributes=["ObjectParts"])
    assert got.object_parts is not None
    assert (got.object_parts.total_parts_count, got.object_parts.parts) == (2, ())
