"""Names, keys and metadata are validated exactly as S3 does (objstore.ns.validation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import BUCKET, read_all
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import objstore
from objstore.errors import (
    InvalidArgument,
    InvalidBucketName,
    KeyTooLongError,
    MetadataTooLarge,
    NoSuchBucket,
)
from objstore.ns import validation

GOOD_BUCKETS = [
    "abc",
    "a" * 63,
    "0" * 3,
    "my-bucket",
    "my.bucket.name",
    "docexamplebucket1",
    "log-delivery-march-2020",
    "a-b",
    "a.b",
    "1bucket",
    "bucket1",
    "xn-bucket",  # only "xn--" is reserved
    "sthree",  # only "sthree-" is reserved
    "amzn-s3-demo",  # only "amzn-s3-demo-" is reserved
    "bucket-s3alias1",  # reserved suffixes only at the very end
    "mrap",
    "a.mrapx",
    "1.2.3",  # three numbers are not an IPv4 address
    "1.2.3.4.5",
    "192.168.5.4a",
    "a192.168.5.4",
]

BAD_BUCKETS = [
    ("", "empty"),
    ("ab", "too short"),
    ("a" * 64, "too long"),
    ("Bucket", "uppercase"),
    ("my_bucket", "underscore"),
    ("my bucket", "space"),
    ("bück", "non-ASCII"),
    ("-bucket", "starts with '-'"),
    ("bucket-", "ends with '-'"),
    (".bucket", "starts with '.'"),
    ("bucket.", "ends with '.'"),
    ("my..bucket", "two adjacent periods"),
    ("my-.bucket", "dash next to period"),
    ("my.-bucket", "period next to dash"),
    ("192.168.5.4", "IPv4 address"),
    ("1.2.3.4", "IPv4 address"),
    ("255.255.255.255", "IPv4 address"),
    ("0.0.0.0", "IPv4 address"),
    ("192.168.05.004", "IP-shaped with leading zeros"),
    ("999.999.999.999", "IP-shaped"),
    ("xn--bucket", "reserved prefix xn--"),
    ("sthree-bucket", "reserved prefix sthree-"),
    ("sthree-configurator", "reserved prefix sthree-configurator"),
    ("amzn-s3-demo-bucket", "reserved prefix amzn-s3-demo-"),
    ("bucket-s3alias", "reserved suffix -s3alias"),
    ("bucket--ol-s3", "reserved suffix --ol-s3"),
    ("bucket.mrap", "reserved suffix .mrap"),
    ("bucket--x-s3", "reserved suffix --x-s3"),
    ("bucket--table-s3", "reserved suffix --table-s3"),
    ("bucket/x", "slash"),
    ("buc!ket", "punctuation"),
]


@pytest.mark.parametrize("name", GOOD_BUCKETS)
def test_valid_bucket_names(name: str) -> None:
    assert validation.check_bucket_name(name) == name


@pytest.mark.parametrize(("name", "why"), BAD_BUCKETS)
def test_invalid_bucket_names(name: str, why: str) -> None:
    with pytest.raises(InvalidBucketName):
        validation.check_bucket_name(name)


@pytest.mark.parametrize("name", [None, 123, b"bucket"])
def test_bucket_name_must_be_a_string(name: object) -> None:
    with pytest.raises(InvalidBucketName):
        validation.check_bucket_name(name)


_bucket_names = st.one_of(
    st.text(st.sampled_from("abcz019.-"), min_size=3, max_size=63),
    # Dotted numbers: IP-shaped when there are exactly four.
    st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=2, max_size=5).map(".".join),
)


@settings(max_examples=300, deadline=None)
@given(_bucket_names)
def test_bucket_names_agree_with_the_rules(name: str) -> None:
    """An independent statement of the rules decides every name like the validator does."""
    assume(3 <= len(name) <= 63)
    parts = name.split(".")
    ip_shaped = len(parts) == 4 and all(p.isdigit() for p in parts)
    ok = (
        name[0].isalnum()
        and name[-1].isalnum()
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not ip_shaped
        and not name.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
        and not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))
    )
    if ok:
        assert validation.check_bucket_name(name) == name
    else:
        with pytest.raises(InvalidBucketName):
            validation.check_bucket_name(name)


def test_create_bucket_validates_and_stores_nothing(store: objstore.Store) -> None:
    for name, _why in BAD_BUCKETS[:5]:
        with pytest.raises(InvalidBucketName):
            store.root.create_bucket(name)
    assert store.root.list_buckets() == []


def test_bucket_name_at_both_length_limits_is_usable(store: objstore.Store) -> None:
    for name in ("abc", "b" * 63):
        store.root.create_bucket(name)
        store.root.put_object(name, "k", b"v")
        assert read_all(store.root.get_object(name, "k")) == b"v"
    assert [b.name for b in store.root.list_buckets()] == ["abc", "b" * 63]


# ---------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    "key",
    [
        "k",
        "a" * 1024,
        "é" * 512,  # 1024 bytes of 2-byte characters
        "\U0001f600" * 256,  # 1024 bytes of 4-byte characters
        "a" * 1020 + "\u20ac",  # 1023 bytes
        " ",
        "\x00",
        "../../etc/passwd",
        "/leading/slash",
        "trailing/",
        "a//b",
    ],
)
def test_valid_keys(key: str) -> None:
    assert validation.check_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "a" * 1025,
        "é" * 513,  # 1026 bytes in 513 characters
        "a" * 1023 + "é",  # 1025 bytes in 1024 characters
        "\U0001f600" * 257,
    ],
)
def test_keys_over_1024_utf8_bytes_are_too_long(key: str) -> None:
    with pytest.raises(KeyTooLongError):
        validation.check_key(key)


@pytest.mark.parametrize("key", ["", None, b"key", 5, "\ud800"])
def test_malformed_keys(key: object) -> None:
    with pytest.raises(InvalidArgument):
        validation.check_key(key)


def test_keys_at_the_limit_round_trip(root: objstore.Client) -> None:
    for key in ("a" * 1024, "é" * 512, "\U0001f600" * 256, "\x00nul\x00"):
        root.put_object(BUCKET, key, key.encode())
        assert read_all(root.get_object(BUCKET, key)) == key.encode()
        assert root.head_object(BUCKET, key).key == key
    with pytest.raises(KeyTooLongError):
        root.put_object(BUCKET, "é" * 513, b"x")
    with pytest.raises(KeyTooLongError):
        root.get_object(BUCKET, "a" * 1025)
    with pytest.raises(KeyTooLongError):
        root.delete_object(BUCKET, "a" * 1025)
    assert len(root.list_objects(BUCKET).contents) == 4


def test_key_too_long_is_reported_before_a_missing_bucket(store: objstore.Store) -> None:
    """A bad request is refused for what it is; a good one on a missing bucket is NoSuchBucket."""
    with pytest.raises(KeyTooLongError):
        store.root.put_object("nobucket", "a" * 1025, b"x")
    with pytest.raises(NoSuchBucket):
        store.root.put_object("nobucket", "a" * 1024, b"x")


# ------------------------------------------------------------------ metadata


def test_metadata_of_exactly_2048_bytes_is_accepted() -> None:
    meta = {"name": "v" * (2048 - 4)}
    assert validation.check_metadata(meta) == meta
    meta = {"a": "x" * 1000, "b": "y" * 1046}
    assert validation.check_metadata(meta) == meta


def test_metadata_over_2048_bytes_is_too_large() -> None:
    with pytest.raises(MetadataTooLarge):
        validation.check_metadata({"name": "v" * (2048 - 3)})
    with pytest.raises(MetadataTooLarge):
        validation.check_metadata({f"k{i:03d}": "x" * 100 for i in range(20)})


def test_metadata_size_counts_utf8_bytes_not_characters() -> None:
    # 1 + 2 * 1023 = 2047 bytes: fits.
    assert validation.check_metadata({"a": "é" * 1023}) == {"a": "é" * 1023}
    # 1 + 2 * 1024 = 2049 bytes although only 1025 characters.
    with pytest.raises(MetadataTooLarge):
        validation.check_metadata({"a": "é" * 1024})


def test_metadata_names_are_case_insensitive_and_returned_lower_case() -> None:
    assert validation.check_metadata({"Color": "Blue", "X-Thing": "1"}) == {
        "color": "Blue",
        "x-thing": "1",
    }
    with pytest.raises(InvalidArgument):
        validation.check_metadata({"Color": "a", "color": "b"})


@pytest.mark.parametrize(
    "meta",
    [
        {"": "v"},
        {"bad name": "v"},
        {"bad:name": "v"},
        {"name": "line\nbreak"},
        {"name": 5},
        {5: "v"},
        ["not", "a", "mapping"],
    ],
)
def test_malformed_metadata(meta: object) -> None:
    with pytest.raises(InvalidArgument):
        validation.check_metadata(meta)  # type: ignore[arg-type]


def test_metadata_limit_applies_to_put_and_copy(root: objstore.Client) -> None:
    big = {"m": "x" * 2048}
    with pytest.raises(MetadataTooLarge):
        root.put_object(BUCKET, "k", b"data", metadata=big)
    with pytest.raises(NoSuchBucket):
        root.head_bucket("missing")
    assert root.list_objects(BUCKET).contents == ()
    root.put_object(BUCKET, "k", b"data", metadata={"m": "x" * 2047})
    with pytest.raises(MetadataTooLarge):
        root.copy_object(BUCKET, "k", BUCKET, "k2", metadata_directive="REPLACE", metadata=big)
    assert [o.key for o in root.list_objects(BUCKET).contents] == ["k"]
    assert root.head_object(BUCKET, "k").metadata == {"m": "x" * 2047}


# ------------------------------------------------------- argument types


def _bad_calls(root: objstore.Client) -> list[tuple[str, Callable[[], object]]]:
    bad: Any = 5
    lone = "\ud800"  # a lone surrogate has no UTF-8 form
    return [
        ("head_bucket int", lambda: root.head_bucket(bad)),
        ("head_bucket None", lambda: root.head_bucket(None)),  # type: ignore[arg-type]
        ("head_bucket surrogate", lambda: root.head_bucket(lone)),
        ("put_object int bucket", lambda: root.put_object(bad, "k", b"x")),
        ("create_bucket int", lambda: root.create_bucket(bad)),
        ("list_objects start_after", lambda: root.list_objects(BUCKET, start_after=bad)),
        ("list_objects prefix surrogate", lambda: root.list_objects(BUCKET, prefix=lone)),
        ("list_objects delimiter surrogate", lambda: root.list_objects(BUCKET, delimiter=lone)),
        ("list_objects start_after surrogate", lambda: root.list_objects(BUCKET, start_after=lone)),
        ("list_versions prefix int", lambda: root.list_object_versions(BUCKET, prefix=bad)),
        ("list_versions prefix surrogate", lambda: root.list_object_versions(BUCKET, prefix=lone)),
        ("list_versions key_marker", lambda: root.list_object_versions(BUCKET, key_marker=bad)),
        (
            "list_versions key_marker surrogate",
            lambda: root.list_object_versions(BUCKET, key_marker=lone),
        ),
        ("get_object key int", lambda: root.get_object(BUCKET, bad)),
        ("copy src_bucket int", lambda: root.copy_object(bad, "k", BUCKET, "k2")),
    ]


def test_bad_argument_types_raise_objstore_errors(store: objstore.Store) -> None:
    """Wrongly typed arguments are client errors, never raw Python exceptions."""
    store.root.create_bucket(BUCKET)
    store.root.put_object(BUCKET, "k", b"x")
    for label, call in _bad_calls(store.root):
        with pytest.raises(objstore.errors.BadRequest):
            try:
                call()
            except objstore.errors.ObjstoreError:
                raise
            except Exception as exc:  # report which call leaked what
                raise AssertionError(f"{label}: raw {type(exc).__name__}: {exc}") from exc
    assert [o.key for o in store.root.list_objects(BUCKET).contents] == ["k"]
    assert [b.name for b in store.root.list_buckets()] == [BUCKET]
