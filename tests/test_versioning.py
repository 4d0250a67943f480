"""The versioning table of the S3 reference, row by row, through the public API."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BUCKET, read_all

import objstore
from objstore.errors import (
    InvalidArgument,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
)


def versions(root: objstore.Client, key: str | None = None) -> list[tuple[str, str, bool, bool]]:
    """``(key, version_id, is_marker, is_latest)`` of every version, in listing order."""
    page = root.list_object_versions(BUCKET)
    assert not page.is_truncated
    rows = [(v.key, v.version_id, False, v.is_latest, v.last_modified) for v in page.versions]
    rows += [(m.key, m.version_id, True, m.is_latest, m.last_modified) for m in page.delete_markers]
    # Versions and markers come as two lists; rebuild the single order: by key, newest first.
    order = {vid: i for i, vid in enumerate(_listing_order(root))}
    rows.sort(key=lambda r: order[(r[0], r[1])])
    return [(k, vid, mk, latest) for k, vid, mk, latest, _ in rows if key is None or k == key]


def _listing_order(root: objstore.Client) -> list[tuple[str, str]]:
    """The combined order, read one entry per page (each page holds exactly one)."""
    out: list[tuple[str, str]] = []
    km: str | None = None
    vm: str | None = None
    while True:
        page = root.list_object_versions(BUCKET, key_marker=km, version_id_marker=vm, max_keys=1)
        entries = [(v.key, v.version_id) for v in page.versions]
        entries += [(m.key, m.version_id) for m in page.delete_markers]
        assert len(entries) <= 1
        out.extend(entries)
        if not page.is_truncated:
            return out
        km, vm = page.next_key_marker, page.next_version_id_marker


def body(root: objstore.Client, key: str, version_id: str | None = None) -> bytes:
    return read_all(root.get_object(BUCKET, key, version_id=version_id))


def assert_no_such_key(root: objstore.Client, key: str, *, delete_marker: bool) -> None:
    with pytest.raises(NoSuchKey) as exc:
        root.get_object(BUCKET, key)
    assert exc.value.delete_marker is delete_marker
    with pytest.raises(NoSuchKey) as exc:
        root.head_object(BUCKET, key)
    assert exc.value.delete_marker is delete_marker


# ------------------------------------------------------------ bucket state


def test_new_bucket_has_never_had_versioning(root: objstore.Client) -> None:
    assert root.get_bucket_versioning(BUCKET) is None


def test_versioning_moves_between_enabled_and_suspended(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    assert root.get_bucket_versioning(BUCKET) == "Enabled"
    root.put_bucket_versioning(BUCKET, "Suspended")
    assert root.get_bucket_versioning(BUCKET) == "Suspended"
    root.put_bucket_versioning(BUCKET, "Enabled")
    assert root.get_bucket_versioning(BUCKET) == "Enabled"


@pytest.mark.parametrize("status", [None, "", "Disabled", "enabled", "Off", 1])
def test_versioning_cannot_return_to_never_enabled(root: objstore.Client, status: object) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    with pytest.raises(InvalidArgument):
        root.put_bucket_versioning(BUCKET, status)  # type: ignore[arg-type]
    assert root.get_bucket_versioning(BUCKET) == "Enabled"


def test_invalid_status_on_a_never_versioned_bucket_changes_nothing(root: objstore.Client) -> None:
    with pytest.raises(InvalidArgument):
        root.put_bucket_versioning(BUCKET, "Disabled")
    assert root.get_bucket_versioning(BUCKET) is None


def test_versioning_of_a_missing_bucket(store: objstore.Store) -> None:
    with pytest.raises(NoSuchBucket):
        store.root.put_bucket_versioning("nobucket", "Enabled")
    with pytest.raises(NoSuchBucket):
        store.root.get_bucket_versioning("nobucket")


def test_versioning_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with objstore.open(path) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_bucket_versioning(BUCKET, "Enabled")
        vid = s.root.put_object(BUCKET, "k", b"1").version_id
    with objstore.open(path) as s:
        assert s.root.get_bucket_versioning(BUCKET) == "Enabled"
        assert s.root.head_object(BUCKET, "k").version_id == vid


# --------------------------------------------------------- never enabled


def test_never_enabled_put_overwrites_with_null_version(root: objstore.Client) -> None:
    r1 = root.put_object(BUCKET, "k", b"one")
    r2 = root.put_object(BUCKET, "k", b"two")
    # A bucket that never had versioning reports no version ids at all.
    assert r1.version_id is None and r2.version_id is None
    assert body(root, "k") == b"two"
    assert root.head_object(BUCKET, "k").version_id is None
    assert versions(root) == [("k", "null", False, True)]


def test_never_enabled_delete_removes_the_object(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"one")
    r = root.delete_object(BUCKET, "k")
    assert r.delete_marker is False and r.version_id is None
    assert_no_such_key(root, "k", delete_marker=False)
    assert versions(root) == []
    # Deleting what is absent succeeds too (S3 answers 204).
    r = root.delete_object(BUCKET, "k")
    assert r.delete_marker is False
    r = root.delete_object(BUCKET, "never-existed")
    assert r.delete_marker is False
    assert versions(root) == []


def test_never_enabled_null_version_is_addressable(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"one")
    assert body(root, "k", "null") == b"one"
    assert root.head_object(BUCKET, "k", version_id="null").size == 3
    root.delete_object(BUCKET, "k", version_id="null")
    assert_no_such_key(root, "k", delete_marker=False)


def test_get_of_a_missing_key(root: objstore.Client) -> None:
    assert_no_such_key(root, "nope", delete_marker=False)


# -------------------------------------------------------------- Enabled


def test_enabled_put_creates_unique_versions(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    vids = [root.put_object(BUCKET, "k", str(i).encode()).version_id for i in range(5)]
    assert all(v is not None and v != "null" for v in vids)
    assert len(set(vids)) == 5
    assert body(root, "k") == b"4"
    assert root.head_object(BUCKET, "k").version_id == vids[-1]
    for i, vid in enumerate(vids):
        assert body(root, "k", vid) == str(i).encode()
        with root.get_object(BUCKET, "k", version_id=vid) as b:
            assert b.version_id == vid
    # Newest first; only the newest is latest.
    assert versions(root) == [("k", v, False, v == vids[-1]) for v in reversed(vids)]


def test_version_ids_are_unique_across_keys(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    vids = [root.put_object(BUCKET, k, b"x").version_id for k in ("a", "b", "c", "a")]
    assert len(set(vids)) == 4


def test_enabled_delete_adds_a_marker(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    r = root.delete_object(BUCKET, "k")
    assert r.delete_marker is True
    assert r.version_id not in (None, "null", v1)
    assert_no_such_key(root, "k", delete_marker=True)
    # The object version is still there.
    assert body(root, "k", v1) == b"one"
    assert versions(root) == [("k", r.version_id, True, True), ("k", v1, False, False)]
    assert root.list_objects(BUCKET).contents == ()


def test_enabled_delete_of_absent_key_still_adds_a_marker(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    r1 = root.delete_object(BUCKET, "ghost")
    r2 = root.delete_object(BUCKET, "ghost")
    assert r1.delete_marker and r2.delete_marker and r1.version_id != r2.version_id
    assert versions(root) == [
        ("ghost", r2.version_id, True, True),
        ("ghost", r1.version_id, True, False),
    ]
    assert_no_such_key(root, "ghost", delete_marker=True)


def test_marker_version_id_is_method_not_allowed(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    root.put_object(BUCKET, "k", b"one")
    marker = root.delete_object(BUCKET, "k").version_id
    assert marker is not None
    with pytest.raises(MethodNotAllowed):
        root.get_object(BUCKET, "k", version_id=marker)
    with pytest.raises(MethodNotAllowed):
        root.head_object(BUCKET, "k", version_id=marker)


def test_unknown_version_id_is_no_such_version(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    assert v1 is not None
    other = root.put_object(BUCKET, "other", b"x").version_id
    assert other is not None
    for vid in ("0" * 32, "f" * 32, other, "null"):
        with pytest.raises(NoSuchVersion):
            root.get_object(BUCKET, "k", version_id=vid)
        with pytest.raises(NoSuchVersion):
            root.head_object(BUCKET, "k", version_id=vid)
    # A version of a key that has no versions at all.
    with pytest.raises(NoSuchVersion):
        root.get_object(BUCKET, "absent", version_id=v1)


@pytest.mark.parametrize("vid", ["", "xyz", "NULL", "0" * 31, "g" * 32, "0" * 33])
def test_malformed_version_id_is_invalid_argument(root: objstore.Client, vid: str) -> None:
    root.put_object(BUCKET, "k", b"one")
    with pytest.raises(InvalidArgument):
        root.get_object(BUCKET, "k", version_id=vid)
    with pytest.raises(InvalidArgument):
        root.delete_object(BUCKET, "k", version_id=vid)
    assert body(root, "k") == b"one"


def test_delete_version_removes_it_for_good(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    v2 = root.put_object(BUCKET, "k", b"two").version_id
    r = root.delete_object(BUCKET, "k", version_id=v2)
    assert r.version_id == v2 and r.delete_marker is False
    # The previous version becomes current again.
    assert body(root, "k") == b"one"
    assert root.head_object(BUCKET, "k").version_id == v1
    with pytest.raises(NoSuchVersion):
        root.get_object(BUCKET, "k", version_id=v2)
    assert versions(root) == [("k", v1, False, True)]
    assert [o.key for o in root.list_objects(BUCKET).contents] == ["k"]
    # Deleting a version that is already gone succeeds and changes nothing.
    root.delete_object(BUCKET, "k", version_id=v2)
    assert versions(root) == [("k", v1, False, True)]
    root.delete_object(BUCKET, "k", version_id=v1)
    assert versions(root) == []
    assert_no_such_key(root, "k", delete_marker=False)


def test_delete_noncurrent_version_keeps_current(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    v2 = root.put_object(BUCKET, "k", b"two").version_id
    root.delete_object(BUCKET, "k", version_id=v1)
    assert body(root, "k") == b"two"
    assert versions(root) == [("k", v2, False, True)]


def test_removing_the_newest_marker_restores_the_object(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    m1 = root.delete_object(BUCKET, "k").version_id
    m2 = root.delete_object(BUCKET, "k").version_id
    assert_no_such_key(root, "k", delete_marker=True)
    r = root.delete_object(BUCKET, "k", version_id=m2)
    assert r.delete_marker is True and r.version_id == m2
    # The older marker is now newest: still deleted.
    assert_no_such_key(root, "k", delete_marker=True)
    root.delete_object(BUCKET, "k", version_id=m1)
    assert body(root, "k") == b"one"
    assert root.head_object(BUCKET, "k").version_id == v1
    assert [o.key for o in root.list_objects(BUCKET).contents] == ["k"]
    assert versions(root) == [("k", v1, False, True)]


def test_removing_an_older_marker_keeps_the_key_deleted(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    root.put_object(BUCKET, "k", b"one")
    m1 = root.delete_object(BUCKET, "k").version_id
    root.put_object(BUCKET, "k", b"two")
    m2 = root.delete_object(BUCKET, "k").version_id
    root.delete_object(BUCKET, "k", version_id=m1)
    assert_no_such_key(root, "k", delete_marker=True)
    root.delete_object(BUCKET, "k", version_id=m2)
    assert body(root, "k") == b"two"


def test_put_after_marker_makes_key_current_again(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    root.put_object(BUCKET, "k", b"one")
    m = root.delete_object(BUCKET, "k").version_id
    v2 = root.put_object(BUCKET, "k", b"two").version_id
    assert body(root, "k") == b"two"
    assert [(vid, mk, latest) for _, vid, mk, latest in versions(root)][:2] == [
        (v2, False, True),
        (m, True, False),
    ]


def test_enabling_keeps_the_existing_null_version(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"old")
    root.put_bucket_versioning(BUCKET, "Enabled")
    # Once versioning has been enabled the null version reports its id.
    assert root.head_object(BUCKET, "k").version_id == "null"
    v1 = root.put_object(BUCKET, "k", b"new").version_id
    assert v1 != "null"
    assert body(root, "k", "null") == b"old"
    assert body(root, "k") == b"new"
    assert versions(root) == [("k", v1, False, True), ("k", "null", False, False)]
    # A delete marker does not replace the null version under Enabled.
    m = root.delete_object(BUCKET, "k").version_id
    assert m != "null"
    assert body(root, "k", "null") == b"old"


# ------------------------------------------------------------ Suspended


def test_suspended_put_writes_the_null_version(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    root.put_bucket_versioning(BUCKET, "Suspended")
    r = root.put_object(BUCKET, "k", b"two")
    assert r.version_id == "null"
    assert versions(root) == [("k", "null", False, True), ("k", v1, False, False)]
    # A second PUT replaces only the null version.
    r = root.put_object(BUCKET, "k", b"three")
    assert r.version_id == "null"
    assert versions(root) == [("k", "null", False, True), ("k", v1, False, False)]
    assert body(root, "k") == b"three"
    assert body(root, "k", "null") == b"three"
    assert body(root, "k", v1) == b"one"


def test_suspended_put_replaces_a_noncurrent_null_version(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"null-original")
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"v1").version_id
    root.put_bucket_versioning(BUCKET, "Suspended")
    root.put_object(BUCKET, "k", b"null-new")
    # The old null version (below v1) is gone; the new one is on top.
    assert versions(root) == [("k", "null", False, True), ("k", v1, False, False)]
    assert body(root, "k", "null") == b"null-new"


def test_suspended_delete_replaces_null_version_with_null_marker(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    root.put_bucket_versioning(BUCKET, "Suspended")
    root.put_object(BUCKET, "k", b"null-data")
    r = root.delete_object(BUCKET, "k")
    assert r.delete_marker is True and r.version_id == "null"
    assert versions(root) == [("k", "null", True, True), ("k", v1, False, False)]
    assert_no_such_key(root, "k", delete_marker=True)
    with pytest.raises(MethodNotAllowed):
        root.get_object(BUCKET, "k", version_id="null")
    # A second delete replaces the null marker with a new null marker: still one.
    root.delete_object(BUCKET, "k")
    assert versions(root) == [("k", "null", True, True), ("k", v1, False, False)]
    # Removing the null marker brings v1 back.
    root.delete_object(BUCKET, "k", version_id="null")
    assert body(root, "k") == b"one"


def test_suspended_delete_keeps_versioned_versions(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    root.put_bucket_versioning(BUCKET, "Suspended")
    r = root.delete_object(BUCKET, "k")
    assert r.version_id == "null" and r.delete_marker
    assert versions(root) == [("k", "null", True, True), ("k", v1, False, False)]
    assert body(root, "k", v1) == b"one"


def test_suspended_put_replaces_a_null_marker(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Suspended")
    root.delete_object(BUCKET, "k")
    assert versions(root) == [("k", "null", True, True)]
    assert root.put_object(BUCKET, "k", b"back").version_id == "null"
    assert versions(root) == [("k", "null", False, True)]
    assert body(root, "k") == b"back"


def test_suspended_get_and_head_as_enabled(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    root.put_bucket_versioning(BUCKET, "Suspended")
    assert body(root, "k") == b"one"
    assert root.head_object(BUCKET, "k").version_id == v1
    with pytest.raises(NoSuchVersion):
        root.get_object(BUCKET, "k", version_id="null")


def test_reenabling_keeps_the_null_version_below_new_ones(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Suspended")
    root.put_object(BUCKET, "k", b"null")
    root.put_bucket_versioning(BUCKET, "Enabled")
    v2 = root.put_object(BUCKET, "k", b"v2").version_id
    assert versions(root) == [("k", v2, False, True), ("k", "null", False, False)]
    root.delete_object(BUCKET, "k", version_id=v2)
    assert body(root, "k") == b"null"


# ------------------------------------------------------------- buckets


def test_bucket_with_only_markers_or_old_versions_is_not_empty(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    v1 = root.put_object(BUCKET, "k", b"one").version_id
    m = root.delete_object(BUCKET, "k").version_id
    assert root.list_objects(BUCKET).contents == ()
    with pytest.raises(objstore.errors.BucketNotEmpty):
        root.delete_bucket(BUCKET)
    root.delete_object(BUCKET, "k", version_id=v1)
    with pytest.raises(objstore.errors.BucketNotEmpty):
        root.delete_bucket(BUCKET)
    root.delete_object(BUCKET, "k", version_id=m)
    root.delete_bucket(BUCKET)
    assert root.list_buckets() == []


def test_versions_of_several_keys_are_listed_by_key(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    vb1 = root.put_object(BUCKET, "b", b"1").version_id
    va1 = root.put_object(BUCKET, "a", b"1").version_id
    vb2 = root.put_object(BUCKET, "b", b"2").version_id
    ma = root.delete_object(BUCKET, "a").version_id
    assert versions(root) == [
        ("a", ma, True, True),
        ("a", va1, False, False),
        ("b", vb2, False, True),
        ("b", vb1, False, False),
    ]
