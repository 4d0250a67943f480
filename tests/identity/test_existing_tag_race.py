"""``s3:ExistingObjectTag/*`` decides on the very version the operation then acts on.

Regression (break-it review rev11a, H3): the engine read the tags of the latest version to
decide, and the operation resolved the latest version again in its own transaction; an
overwrite in between served a ``public=no`` body to a caller allowed only ``public=yes``
objects (~0.8 % of GETs under a rewriting writer). The operation now finds the version the
decision pinned or the call is decided again (``objstore.ns.decided``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import objstore
from objstore.errors import AccessDenied, ServiceUnavailable
from tests.identity.helpers import allow, user_client

TAGGED_PUBLIC = allow(
    ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectAttributes"],
    "arn:aws:s3:::bkt/*",
    Condition={"StringEquals": {"s3:ExistingObjectTag/public": "yes"}},
)


@pytest.fixture(params=["unversioned", "versioned"])
def store(request: pytest.FixtureRequest) -> Iterator[objstore.Store]:
    with objstore.open(None) as s:
        s.root.create_bucket("bkt")
        if request.param == "versioned":
            s.root.put_bucket_versioning("bkt", "Enabled")
        s.root.put_object("bkt", "k", b"public", tagging={"public": "yes"})
        yield s


def _after_each_tag_read(store: objstore.Store, times: int, then: Callable[[], None]) -> None:
    """Run ``then`` right after each of the engine's next ``times`` reads of an object's
    tags: a write landing between the decision and the operation."""
    ns = store.engine.ns
    read = ns.object_tags
    left = [times]

    def racing(*args: Any, **kwargs: Any) -> Any:
        got = read(*args, **kwargs)
        if left[0] > 0:
            left[0] -= 1
            then()
        return got

    ns.object_tags = racing  # type: ignore[method-assign]


def _reclassify(store: objstore.Store) -> None:
    store.root.put_object("bkt", "k", b"SECRET", tagging={"public": "no"})


def test_a_version_written_after_the_decision_is_not_served(store: objstore.Store) -> None:
    reader = user_client(store, "reader", TAGGED_PUBLIC)
    assert reader.get_object("bkt", "k").read() == b"public"
    calls: list[Callable[[], object]] = [
        lambda: reader.get_object("bkt", "k").read(),
        lambda: reader.head_object("bkt", "k"),
        lambda: reader.get_object_tagging("bkt", "k"),
        lambda: reader.get_object_attributes("bkt", "k", object_attributes=["ETag"]),
    ]
    for call in calls:
        store.root.put_object("bkt", "k", b"public", tagging={"public": "yes"})
        _after_each_tag_read(store, 1, lambda: _reclassify(store))
        with pytest.raises(AccessDenied):
            call()


def test_the_copy_source_is_the_version_decided_on(store: objstore.Store) -> None:
    copier = user_client(
        store, "copier", TAGGED_PUBLIC, allow("s3:PutObject", "arn:aws:s3:::bkt/copy")
    )
    copier.copy_object("bkt", "k", "bkt", "copy")  # allowed: the source is public
    assert store.root.get_object("bkt", "copy").read() == b"public"
    store.root.delete_object("bkt", "copy")
    _after_each_tag_read(store, 1, lambda: _reclassify(store))
    with pytest.raises(AccessDenied):
        copier.copy_object("bkt", "k", "bkt", "copy")
    assert store.root.list_objects("bkt", prefix="copy").contents == ()


def test_a_change_back_is_served_and_a_key_rewritten_forever_is_503(
    store: objstore.Store,
) -> None:
    reader = user_client(store, "reader", TAGGED_PUBLIC)
    # Rewritten after the decision with another public version: decided again, and that
    # version is served.
    _after_each_tag_read(
        store, 1, lambda: store.root.put_object("bkt", "k", b"new", tagging={"public": "yes"})
    )
    assert reader.get_object("bkt", "k").read() == b"new"
    # A key rewritten (with public tags) after every decision: never a body whose
    # tags were not the ones decided on; after a few tries, retry later.
    count = [0]

    def rewrite() -> None:
        count[0] += 1
        store.root.put_object("bkt", "k", b"v%d" % count[0], tagging={"public": "yes"})

    _after_each_tag_read(store, 100, rewrite)
    with pytest.raises(ServiceUnavailable):
        reader.get_object("bkt", "k")
    assert 2 <= count[0] <= 10


def test_concurrent_overwrites_never_leak(store: objstore.Store) -> None:
    reader = user_client(store, "reader", TAGGED_PUBLIC)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            _reclassify(store)
            store.root.put_object("bkt", "k", b"public", tagging={"public": "yes"})

    t = threading.Thread(target=writer)
    t.start()
    seen: set[bytes] = set()
    try:
        for _ in range(1500):
            with contextlib.suppress(AccessDenied, ServiceUnavailable):
                seen.add(reader.get_object("bkt", "k").read())
    finally:
        stop.set()
        t.join()
    assert b"SECRET" not in seen
