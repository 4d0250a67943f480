"""ListObjectVersions and ListMultipartUploads with a delimiter: common prefixes and the
markers of each page, against a model of S3 (pages stitched together equal one page)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import strategies as sst
from conftest import BUCKET, open_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import objstore
from objstore.errors import InvalidArgument

Item = tuple[str, ...]  # ("v", key, version id, is marker) / ("u", key, upload id) / ("p", cp)


def rolled(entries: list[tuple[str, Item]], prefix: str, delimiter: str | None) -> list[Item]:
    """S3's answer over all pages: ``entries`` (key, item) in listing order, under
    ``prefix``, keys holding the delimiter after the prefix folded into one
    ``("p", cp)`` each, where the first of them stood."""
    out: list[Item] = []
    for key, item in entries:
        if not key.startswith(prefix):
            continue
        i = key.find(delimiter, len(prefix)) if delimiter else -1
        got = ("p", key[: i + len(delimiter or "")]) if i >= 0 else item
        if not out or out[-1] != got:
            out.append(got)
    return out


# ------------------------------------------------------------------- versions


def version_items(page: objstore.ListVersionsResult) -> list[Item]:
    rows: list[Item] = [("v", v.key, v.version_id, "") for v in page.versions]
    rows += [("v", m.key, m.version_id, "m") for m in page.delete_markers]
    return rows + [("p", cp) for cp in page.common_prefixes]


def upload_items(page: objstore.ListUploadsResult) -> list[Item]:
    rows: list[Item] = [("u", u.key, u.upload_id) for u in page]
    return rows + [("p", cp) for cp in page.common_prefixes]


def all_pages(
    c: objstore.Client, kind: str, prefix: str, delimiter: str | None, n: int
) -> tuple[list[Item], int]:
    """Every item of ListObjectVersions (``kind`` "v") or ListMultipartUploads ("u") by
    following the next markers; also the number of pages."""
    items: list[Item] = []
    km = im = None
    for pages in range(1, 10_000):
        page: objstore.ListVersionsResult | objstore.ListUploadsResult
        if kind == "v":
            page = c.list_object_versions(
                BUCKET,
                prefix=prefix,
                delimiter=delimiter,
                key_marker=km,
                version_id_marker=im,
                max_keys=n,
            )
            got = version_items(page)
            following = page.next_key_marker, page.next_version_id_marker
        else:
            page = c.list_multipart_uploads(
                BUCKET,
                prefix=prefix,
                delimiter=delimiter,
                key_marker=km,
                upload_id_marker=im,
                max_uploads=n,
            )
            got = upload_items(page)
            following = page.next_key_marker, page.next_upload_id_marker
        assert len(got) <= n
        items += got
        if not page.is_truncated:
            assert following == (None, None)
            return items, pages
        assert got, "a truncated page must make progress"
        km, im = following
        # The markers name the page's last item: an entry, or a common prefix alone.
        if im is None:
            assert ("p", km) in got
        else:
            assert any(it[:3] == (kind, km, im) for it in got)
    raise AssertionError("pagination did not end")


def make_versions(
    c: objstore.Client, keys: list[str], deletes: list[bool]
) -> list[tuple[str, Item]]:
    """Versions (and delete markers) of ``keys``; the listing order of the model."""
    c.put_bucket_versioning(BUCKET, "Enabled")
    hist: dict[str, list[Item]] = {}
    for key, delete in zip(keys, deletes, strict=False):
        if delete and key in hist:
            vid = c.delete_object(BUCKET, key).version_id
            hist[key].insert(0, ("v", key, str(vid), "m"))
        else:
            vid = c.put_object(BUCKET, key, b"x").version_id
            hist.setdefault(key, []).insert(0, ("v", key, str(vid), ""))
    return [(k, it) for k in sorted(hist, key=sst.utf8_order) for it in hist[k]]


def in_order(got: list[Item], want: list[Item]) -> list[Item]:
    # A page gives versions, markers and prefixes as three lists: order by the model.
    assert set(got) <= set(want), set(got) - set(want)
    return sorted(got, key=want.index)


queries = st.lists(st.tuples(sst.prefixes, sst.delimiters, sst.page_sizes), min_size=1, max_size=4)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    keys=st.lists(sst.keys, min_size=0, max_size=14),
    deletes=st.lists(st.booleans(), min_size=14, max_size=14),
    queries=queries,
)
def test_version_pages_equal_one_page_and_the_model(
    keys: list[str], deletes: list[bool], queries: list[tuple[str, str | None, int]]
) -> None:
    with open_store(None) as s:
        s.root.create_bucket(BUCKET)
        entries = make_versions(s.root, keys, deletes)
        for prefix, delimiter, n in queries:
            want = rolled(entries, prefix, delimiter)
            paged, pages = all_pages(s.root, "v", prefix, delimiter, n)
            one, _ = all_pages(s.root, "v", prefix, delimiter, 1000)
            assert len(paged) == len(one) == len(want)
            assert in_order(paged, want) == in_order(one, want) == want
            assert pages == max(1, -(-len(want) // n))
            if n == 1:  # one item a page: the exact order, page by page
                assert paged == want


def test_versions_under_a_common_prefix_count_once(root: objstore.Client) -> None:
    root.put_bucket_versioning(BUCKET, "Enabled")
    for key in ["a/1", "a/2", "a/1", "b", "c/x/y", "c/z", "d"]:
        root.put_object(BUCKET, key, b"v")
    root.delete_object(BUCKET, "b")
    page = root.list_object_versions(BUCKET, delimiter="/")
    assert page.common_prefixes == ("a/", "c/")
    assert [(v.key, v.is_latest) for v in page.versions] == [("b", False), ("d", True)]
    assert [(m.key, m.is_latest) for m in page.delete_markers] == [("b", True)]
    # The prefix narrows, and the delimiter applies after it.
    page = root.list_object_versions(BUCKET, prefix="c/", delimiter="/")
    assert page.common_prefixes == ("c/x/",)
    assert [v.key for v in page.versions] == ["c/z"]
    # A page that ends on a prefix names it as the next key marker, with no version id.
    first = root.list_object_versions(BUCKET, delimiter="/", max_keys=1)
    assert first.common_prefixes == ("a/",) and first.is_truncated
    assert (first.next_key_marker, first.next_version_id_marker) == ("a/", None)
    rest = root.list_object_versions(BUCKET, delimiter="/", key_marker="a/")
    assert rest.common_prefixes == ("c/",)
    assert {v.key for v in rest.versions} == {"b", "d"}


def test_a_key_marker_inside_a_prefix_skips_the_prefix(root: objstore.Client) -> None:
    for key in ["a/1", "a/2", "b"]:
        root.put_object(BUCKET, key, b"v")
    # "a/" sorts before the marker "a/1": S3 leaves it out, as ListObjects' marker does.
    page = root.list_object_versions(BUCKET, delimiter="/", key_marker="a/1")
    assert page.common_prefixes == () and [v.key for v in page.versions] == ["b"]


def test_empty_delimiter_is_no_delimiter(root: objstore.Client) -> None:
    root.put_object(BUCKET, "a/1", b"v")
    page = root.list_object_versions(BUCKET, delimiter="")
    assert [v.key for v in page.versions] == ["a/1"] and page.common_prefixes == ()
    assert [u.key for u in root.list_multipart_uploads(BUCKET, delimiter="")] == []


@pytest.mark.parametrize("bad", ["\ud800", 5])
def test_bad_delimiters(root: objstore.Client, bad: object) -> None:
    with pytest.raises(InvalidArgument):
        root.list_object_versions(BUCKET, delimiter=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        root.list_multipart_uploads(BUCKET, delimiter=bad)  # type: ignore[arg-type]


# -------------------------------------------------------------------- uploads


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(keys=st.lists(sst.keys, min_size=0, max_size=14), queries=queries)
def test_upload_pages_equal_one_page_and_the_model(
    keys: list[str], queries: list[tuple[str, str | None, int]]
) -> None:
    with open_store(None) as s:
        s.root.create_bucket(BUCKET)
        made = [(k, s.root.create_multipart_upload(BUCKET, k)) for k in keys]
        # By key (UTF-8 order), then by upload id (which begins with the initiation time).
        made.sort(key=lambda t: (sst.utf8_order(t[0]), t[1]))
        entries: list[tuple[str, Item]] = [(k, ("u", k, uid)) for k, uid in made]
        for prefix, delimiter, n in queries:
            want = rolled(entries, prefix, delimiter)
            paged, pages = all_pages(s.root, "u", prefix, delimiter, n)
            one, _ = all_pages(s.root, "u", prefix, delimiter, 1000)
            assert len(paged) == len(one) == len(want)
            assert in_order(paged, want) == in_order(one, want) == want
            assert pages == max(1, -(-len(want) // n))
            # Uploads come in order within a page too.
            assert [it for it in paged if it[0] == "u"] == [it for it in want if it[0] == "u"]


def test_upload_markers_and_prefixes(root: objstore.Client) -> None:
    ids = {k: root.create_multipart_upload(BUCKET, k) for k in ["a/1", "a/2", "b", "c/d"]}
    page = root.list_multipart_uploads(BUCKET, delimiter="/")
    assert [u.key for u in page] == ["b"] and page.common_prefixes == ("a/", "c/")
    assert not page.is_truncated
    first = root.list_multipart_uploads(BUCKET, delimiter="/", max_uploads=2)
    assert upload_items(first) == [("u", "b", ids["b"]), ("p", "a/")]
    assert first.is_truncated
    assert (first.next_key_marker, first.next_upload_id_marker) == ("b", ids["b"])
    rest = root.list_multipart_uploads(
        BUCKET, delimiter="/", key_marker="b", upload_id_marker=ids["b"]
    )
    assert upload_items(rest) == [("p", "c/")] and not rest.is_truncated
    # Without a delimiter a page that ends on an upload names it in both markers.
    two = root.list_multipart_uploads(BUCKET, max_uploads=2)
    assert [u.key for u in two] == ["a/1", "a/2"]
    assert (two.next_key_marker, two.next_upload_id_marker) == ("a/2", ids["a/2"])
    assert two[0].upload_id == ids["a/1"] and len(two[1:]) == 1


def test_versions_and_uploads_on_lmdb(tmp_path: Path) -> None:
    """The same model on an on-disk store, with many keys past the long-key cut."""
    rng = random.Random(8)
    keys = ["".join(rng.choice(sst.ALPHABET) for _ in range(rng.randint(1, 5))) for _ in range(40)]
    keys += [sst.LONG_HEAD + "".join(rng.choice("ab/é") for _ in range(3)) for _ in range(20)]
    with open_store(tmp_path / "s") as s:
        s.root.create_bucket(BUCKET)
        entries = make_versions(s.root, keys, [rng.random() < 0.2 for _ in keys])
        made = sorted(
            ((k, s.root.create_multipart_upload(BUCKET, k)) for k in keys[::3]),
            key=lambda t: (sst.utf8_order(t[0]), t[1]),
        )
        uploads: list[tuple[str, Item]] = [(k, ("u", k, uid)) for k, uid in made]
        for prefix in ("", "a", sst.LONG_HEAD):
            for delimiter in (None, "/", "é"):
                for n in (1, 5):
                    want = rolled(entries, prefix, delimiter)
                    got, _ = all_pages(s.root, "v", prefix, delimiter, n)
                    assert in_order(got, want) == want and len(got) == len(want)
                    want = rolled(uploads, prefix, delimiter)
                    got, _ = all_pages(s.root, "u", prefix, delimiter, n)
                    assert in_order(got, want) == want and len(got) == len(want)
