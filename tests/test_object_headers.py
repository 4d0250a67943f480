"""System metadata S3 stores with an object (Cache-Control, Content-Disposition,
Content-Encoding, Content-Language, Expires) and the parts count of multipart objects."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import BUCKET, open_store

import objstore
from objstore import aio
from objstore.errors import InvalidArgument

HEADERS = {
    "cache_control": "max-age=3600, public",
    "content_disposition": 'attachment; filename="r\u00e9sum\u00e9.pdf"',
    "content_encoding": "gzip",
    "content_language": "en-GB",
    "expires": "Thu, 01 Dec 2039 16:00:00 GMT",
}


def _headers(info: objstore.ObjectInfo | objstore.ObjectBody) -> dict[str, object]:
    return {name: getattr(info, name) for name in HEADERS}


@pytest.fixture
def root(store: objstore.Store) -> objstore.Client:
    store.root.create_bucket(BUCKET)
    return store.root


def test_put_stores_and_returns_them(root: objstore.Client) -> None:
    root.put_object(BUCKET, "k", b"x", **HEADERS)  # type: ignore[arg-type]
    assert _headers(root.head_object(BUCKET, "k")) == HEADERS
    with root.get_object(BUCKET, "k") as body:
        assert _headers(body) == HEADERS
    with root.get_object(BUCKET, "k", range=(0, 0)) as part:
        assert _headers(part) == HEADERS
    root.put_object(BUCKET, "bare", b"x")
    assert _headers(root.head_object(BUCKET, "bare")) == dict.fromkeys(HEADERS)


def test_expires_from_a_datetime(root: objstore.Client) -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    root.put_object(BUCKET, "k", b"x", expires=when)
    assert root.head_object(BUCKET, "k").expires == "Wed, 02 Jan 2030 01:04:05 GMT"
    with pytest.raises(InvalidArgument):
        root.put_object(BUCKET, "k", b"x", expires=datetime(2030, 1, 1))  # naive
    assert root.head_object(BUCKET, "k").expires == "Wed, 02 Jan 2030 01:04:05 GMT"


@pytest.mark.parametrize("bad", ["a\nb", "x" * 1025, 5, "\ud800"])
def test_invalid_values_are_refused(root: objstore.Client, bad: object) -> None:
    for name in HEADERS:
        with pytest.raises(InvalidArgument):
            root.put_object(BUCKET, "k", b"x", **{name: bad})  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            root.create_multipart_upload(BUCKET, "k", **{name: bad})  # type: ignore[arg-type]


def test_copy_keeps_or_replaces_them_with_the_metadata(root: objstore.Client) -> None:
    root.put_object(BUCKET, "src", b"x", metadata={"m": "1"}, **HEADERS)  # type: ignore[arg-type]
    root.copy_object(BUCKET, "src", BUCKET, "kept", cache_control="ignored with COPY")
    assert _headers(root.head_object(BUCKET, "kept")) == HEADERS
    root.copy_object(
        BUCKET, "src", BUCKET, "new", metadata_directive="REPLACE", content_language="fr"
    )
    new = root.head_object(BUCKET, "new")
    assert _headers(new) == {**dict.fromkeys(HEADERS), "content_language": "fr"}
    assert new.metadata == {}


def test_multipart_objects_carry_them_and_a_parts_count(root: objstore.Client) -> None:
    uid = root.create_multipart_upload(BUCKET, "mp", **HEADERS)  # type: ignore[arg-type]
    p1 = root.upload_part(BUCKET, "mp", uid, 1, b"a" * (5 << 20))
    p2 = root.upload_part(BUCKET, "mp", uid, 2, b"b")
    root.complete_multipart_upload(BUCKET, "mp", uid, [p1, p2])
    info = root.head_object(BUCKET, "mp")
    assert _headers(info) == HEADERS
    assert info.parts_count == 2
    with root.get_object(BUCKET, "mp", range=(0, 9)) as body:
        assert body.parts_count == 2
    root.put_object(BUCKET, "single", b"x")
    assert root.head_object(BUCKET, "single").parts_count == 0


def test_they_survive_reopening(tmp_path: object) -> None:
    path = f"{tmp_path}/s"
    with open_store(path) as s:
        s.root.create_bucket(BUCKET)
        s.root.put_object(BUCKET, "k", b"x", tagging={"a": "1"}, **HEADERS)  # type: ignore[arg-type]
    with open_store(path) as s:
        info = s.root.head_object(BUCKET, "k")
        assert _headers(info) == HEADERS
        assert info.tag_count == 1
        assert info.last_modified <= datetime.now(UTC)


def test_async_twin() -> None:
    async def main() -> None:
        async with aio.open(None) as s:
            await s.root.create_bucket(BUCKET)
            await s.root.put_object(BUCKET, "k", b"x", **HEADERS)  # type: ignore[arg-type]
            assert _headers(await s.root.head_object(BUCKET, "k")) == HEADERS
            uid = await s.root.create_multipart_upload(BUCKET, "m", content_encoding="br")
            part = await s.root.upload_part(BUCKET, "m", uid, 1, b"x")
            await s.root.complete_multipart_upload(BUCKET, "m", uid, [part])
            assert (await s.root.head_object(BUCKET, "m")).content_encoding == "br"

    asyncio.run(main())
