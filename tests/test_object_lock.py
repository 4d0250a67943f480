"""S3 Object Lock through the library: bucket configuration, retention and legal hold of
each version, and their enforcement on every path that removes a version (sync, asyncio,
IAM, a model-based property test, and records written before Object Lock)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import open_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import objstore
from objstore import aio
from objstore.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidBucketState,
    InvalidRequest,
    InvalidRetentionPeriod,
    MalformedXML,
    NoSuchObjectLockConfiguration,
    ObjectLockConfigurationNotFoundError,
)
from objstore.ns import locking
from objstore.ns.records import BucketRecord, VersionRecord
from objstore.ns.uploads import UploadRecord
from objstore.types import ObjectLockConfiguration, ObjectLockRetention

LOCKED = "locked"
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CRC = {"checksum_algorithm": "CRC32"}  # S3 wants an integrity value on locked writes


class Clock:
    """An injectable clock (ns since the epoch) the tests move forward."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> int:
        return int(self.now.timestamp()) * 10**9 + self.now.microsecond * 1000

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def s(clock: Clock) -> Iterator[objstore.Store]:
    store = open_store(None, clock=clock)
    store.root.create_bucket(LOCKED, object_lock_enabled=True)
    try:
        yield store
    finally:
        store.close()


def governance(days: float, clock: Clock) -> ObjectLockRetention:
    return ObjectLockRetention("GOVERNANCE", clock.now + timedelta(days=days))


# ------------------------------------------------------------------ bucket


def test_a_bucket_with_object_lock_is_versioned_for_good(s: objstore.Store) -> None:
    root = s.root
    assert root.get_bucket_versioning(LOCKED) == "Enabled"
    assert root.get_object_lock_configuration(LOCKED) == ObjectLockConfiguration()
    with pytest.raises(InvalidBucketState):
        root.put_bucket_versioning(LOCKED, "Suspended")
    root.put_bucket_versioning(LOCKED, "Enabled")
    root.create_bucket("plain")
    with pytest.raises(ObjectLockConfigurationNotFoundError) as missing:
        root.get_object_lock_configuration("plain")
    assert missing.value.http_status == 404


def test_object_lock_is_enabled_on_an_existing_versioned_bucket(s: objstore.Store) -> None:
    """As S3 since 2023: PutObjectLockConfiguration on a bucket whose versioning is
    enabled turns Object Lock on; never-versioned or suspended buckets are refused."""
    root = s.root
    root.create_bucket("later")
    config = ObjectLockConfiguration(mode="GOVERNANCE", days=1)
    for state in (None, "Suspended"):
        if state is not None:
            root.put_bucket_versioning("later", state)
        with pytest.raises(InvalidBucketState) as refused:
            root.put_object_lock_configuration("later", config)
        assert refused.value.http_status == 409
    root.put_bucket_versioning("later", "Enabled")
    root.put_object_lock_configuration("later", config)
    assert root.get_object_lock_configuration("later") == config
    with pytest.raises(InvalidBucketState):
        root.put_bucket_versioning("later", "Suspended")


def test_default_retention_validation(s: objstore.Store) -> None:
    put = s.root.put_object_lock_configuration
    put(LOCKED, ObjectLockConfiguration(mode="COMPLIANCE", years=1))
    assert s.root.get_object_lock_configuration(LOCKED).years == 1
    for bad, error in (
        (ObjectLockConfiguration(mode="GOVERNANCE", days=1, years=1), MalformedXML),
        (ObjectLockConfiguration(mode="GOVERNANCE"), MalformedXML),
        (ObjectLockConfiguration(mode="governance", days=1), MalformedXML),
        (ObjectLockConfiguration(days=1), MalformedXML),
        (ObjectLockConfiguration("Disabled", "GOVERNANCE", 1), MalformedXML),
        (ObjectLockConfiguration(mode="GOVERNANCE", days=0), InvalidRetentionPeriod),
        (ObjectLockConfiguration(mode="GOVERNANCE", years=-1), InvalidRetentionPeriod),
        (ObjectLockConfiguration(mode="GOVERNANCE", years=101), InvalidRetentionPeriod),
    ):
        with pytest.raises(error):
            put(LOCKED, bad)
    # Clearing the default keeps Object Lock on.
    put(LOCKED)
    assert s.root.get_object_lock_configuration(LOCKED) == ObjectLockConfiguration()


# ------------------------------------------------------------------ writes


def test_a_write_sets_retention_and_legal_hold(s: objstore.Store, clock: Clock) -> None:
    until = clock.now + 30 * DAY
    vid = s.root.put_object(
        LOCKED,
        "k",
        b"data",
        object_lock_mode="COMPLIANCE",
        object_lock_retain_until_date=until,
        object_lock_legal_hold_status="ON",
        **CRC,
    ).version_id
    info = s.root.head_object(LOCKED, "k")
    assert (info.object_lock_mode, info.object_lock_retain_until_date) == ("COMPLIANCE", until)
    assert info.object_lock_legal_hold_status == "ON"
    with s.root.get_object(LOCKED, "k") as body:
        assert body.object_lock_retain_until_date == until
    assert s.root.get_object_retention(LOCKED, "k", version_id=vid) == ObjectLockRetention(
        "COMPLIANCE", until
    )
    assert s.root.get_object_legal_hold(LOCKED, "k") == "ON"


def test_lock_parameters_are_checked(s: objstore.Store, clock: Clock) -> None:
    future = clock.now + DAY
    put = s.root.put_object
    with pytest.raises(InvalidRequest, match="Content-MD5"):
        put(LOCKED, "k", b"x", object_lock_mode="GOVERNANCE", object_lock_retain_until_date=future)
    s.root.create_bucket("plain")
    with pytest.raises(InvalidRequest, match="Object Lock"):
        put("plain", "k", b"x", object_lock_legal_hold_status="ON", **CRC)
    for kwargs in (
        {"object_lock_mode": "GOVERNANCE"},
        {"object_lock_retain_until_date": future},
        {"object_lock_mode": "KEEP", "object_lock_retain_until_date": future},
        {"object_lock_mode": "GOVERNANCE", "object_lock_retain_until_date": clock.now - DAY},
        {"object_lock_mode": "GOVERNANCE", "object_lock_retain_until_date": "next tuesday"},
        {"object_lock_legal_hold_status": "MAYBE"},
    ):
        with pytest.raises(InvalidArgument):
            put(LOCKED, "k", b"x", **kwargs, **CRC)
    # Content-MD5 serves as well as a checksum; an ISO 8601 string as well as a datetime.
    put(
        LOCKED,
        "k",
        b"x",
        content_md5=base64.b64encode(hashlib.md5(b"x").digest()).decode(),
        object_lock_mode="GOVERNANCE",
        object_lock_retain_until_date="2030-01-01T00:00:00Z",
    )
    assert s.root.head_object(LOCKED, "k").object_lock_retain_until_date == datetime(
        2030, 1, 1, tzinfo=UTC
    )


def test_the_default_retention_counts_from_each_version(s: objstore.Store, clock: Clock) -> None:
    s.root.put_object_lock_configuration(LOCKED, ObjectLockConfiguration(mode="GOVERNANCE", days=3))
    with pytest.raises(InvalidRequest, match="Content-MD5"):
        s.root.put_object(LOCKED, "k", b"x")  # a default retention locks it too
    s.root.put_object(LOCKED, "k", b"x", object_lock_legal_hold_status="ON", **CRC)
    info = s.root.head_object(LOCKED, "k")
    assert info.object_lock_mode == "GOVERNANCE"
    assert info.object_lock_retain_until_date == info.last_modified + 3 * DAY
    assert info.object_lock_legal_hold_status == "ON"
    # A retention given explicitly wins over the default.
    s.root.put_object(
        LOCKED,
        "k",
        b"y",
        object_lock_mode="COMPLIANCE",
        object_lock_retain_until_date=clock.now + DAY,
        **CRC,
    )
    assert s.root.head_object(LOCKED, "k").object_lock_mode == "COMPLIANCE"
    # Years are calendar years; February 29 becomes February 28.
    clock.now = datetime(2028, 2, 29, 10, 0, tzinfo=UTC)
    s.root.put_object_lock_configuration(
        LOCKED, ObjectLockConfiguration(mode="COMPLIANCE", years=1)
    )
    s.root.put_object(LOCKED, "leap", b"x", **CRC)
    until = s.root.head_object(LOCKED, "leap").object_lock_retain_until_date
    assert until == datetime(2029, 2, 28, 10, 0, tzinfo=UTC)


def test_copies_and_multipart_uploads_take_the_lock_asked(s: objstore.Store, clock: Clock) -> None:
    root = s.root
    root.put_object(
        LOCKED,
        "src",
        b"x",
        object_lock_mode="GOVERNANCE",
        object_lock_retain_until_date=clock.now + DAY,
        object_lock_legal_hold_status="ON",
        **CRC,
    )
    root.copy_object(LOCKED, "src", LOCKED, "plain-copy")
    copied = root.head_object(LOCKED, "plain-copy")
    assert (copied.object_lock_mode, copied.object_lock_legal_hold_status) == (None, None)
    root.copy_object(LOCKED, "src", LOCKED, "held-copy", object_lock_legal_hold_status="ON")
    assert root.get_object_legal_hold(LOCKED, "held-copy") == "ON"
    upload = root.create_multipart_upload(
        LOCKED,
        "mp",
        object_lock_mode="COMPLIANCE",
        object_lock_retain_until_date=clock.now + DAY,
    )
    with pytest.raises(InvalidRequest, match="Content-MD5"):
        root.upload_part(LOCKED, "mp", upload, 1, b"abc")  # a part of a locked object
    part = root.upload_part(LOCKED, "mp", upload, 1, b"abc", **CRC)
    # A part copied from a small (inline) source brings its own MD5.
    root.upload_part_copy(LOCKED, "mp", upload, 2, LOCKED, "src")
    vid = root.complete_multipart_upload(LOCKED, "mp", upload, [(1, part.etag)]).version_id
    assert root.head_object(LOCKED, "mp").size == 3
    assert root.get_object_retention(LOCKED, "mp").mode == "COMPLIANCE"
    with pytest.raises(AccessDenied):
        root.delete_object(LOCKED, "mp", version_id=vid, bypass_governance_retention=True)
    root.create_bucket("plain")
    with pytest.raises(InvalidRequest):
        root.create_multipart_upload("plain", "mp", object_lock_legal_hold_status="ON")


# ------------------------------------------------------------------ deletes


def test_retention_protects_versions_until_its_date(s: objstore.Store, clock: Clock) -> None:
    root = s.root
    vid = root.put_object(LOCKED, "k", b"x").version_id
    assert vid is not None
    root.put_object_retention(LOCKED, "k", governance(2, clock))
    with pytest.raises(AccessDenied):
        root.delete_object(LOCKED, "k", version_id=vid)
    # A delete without a version id only adds a delete marker.
    marker = root.delete_object(LOCKED, "k")
    assert marker.delete_marker
    with pytest.raises(AccessDenied):
        root.delete_object(LOCKED, "k", version_id=vid)
    root.delete_object(LOCKED, "k", version_id=marker.version_id)  # markers carry no lock
    clock.advance(2 * DAY)
    assert root.delete_object(LOCKED, "k", version_id=vid).version_id == vid
    assert not root.list_object_versions(LOCKED).versions


def test_governance_yields_to_bypass_compliance_never(s: objstore.Store, clock: Clock) -> None:
    root = s.root
    gov = root.put_object(LOCKED, "g", b"x").version_id
    comp = root.put_object(LOCKED, "c", b"x").version_id
    root.put_object_retention(LOCKED, "g", governance(5, clock))
    root.put_object_retention(LOCKED, "c", ObjectLockRetention("COMPLIANCE", clock.now + 5 * DAY))
    with pytest.raises(AccessDenied):
        root.delete_object(LOCKED, "c", version_id=comp, bypass_governance_retention=True)
    root.delete_object(LOCKED, "g", version_id=gov, bypass_governance_retention=True)
    results = root.delete_objects(
        LOCKED, [("c", comp), ("g", "0" * 32)], bypass_governance_retention=True
    )
    assert isinstance(results[0], objstore.DeleteError) and results[0].code == "AccessDenied"
    assert isinstance(results[1], objstore.DeletedObject)


def test_a_legal_hold_protects_whatever_the_retention(s: objstore.Store, clock: Clock) -> None:
    root = s.root
    vid = root.put_object(LOCKED, "k", b"x").version_id
    with pytest.raises(NoSuchObjectLockConfiguration):
        root.get_object_legal_hold(LOCKED, "k")
    root.put_object_legal_hold(LOCKED, "k", "ON", version_id=vid)
    with pytest.raises(AccessDenied):
        root.delete_object(LOCKED, "k", version_id=vid, bypass_governance_retention=True)
    out = root.delete_objects(LOCKED, [("k", vid)], bypass_governance_retention=True)
    assert isinstance(out[0], objstore.DeleteError) and out[0].code == "AccessDenied"
    with pytest.raises(MalformedXML):
        root.put_object_legal_hold(LOCKED, "k", "on")
    root.put_object_legal_hold(LOCKED, "k", "OFF")
    assert root.get_object_legal_hold(LOCKED, "k") == "OFF"
    root.delete_object(LOCKED, "k", version_id=vid)


def test_retention_changes_follow_s3(s: objstore.Store, clock: Clock) -> None:
    root = s.root
    root.put_object(LOCKED, "k", b"x")
    with pytest.raises(NoSuchObjectLockConfiguration):
        root.get_object_retention(LOCKED, "k")
    root.put_object_retention(LOCKED, "k", governance(10, clock))
    root.put_object_retention(LOCKED, "k", governance(20, clock))  # extending: fine
    for change in (governance(15, clock), ObjectLockRetention("COMPLIANCE", clock.now + 30 * DAY)):
        with pytest.raises(AccessDenied):
            root.put_object_retention(LOCKED, "k", change)
    with pytest.raises(AccessDenied):
        root.put_object_retention(LOCKED, "k", None)
    root.put_object_retention(LOCKED, "k", governance(15, clock), bypass_governance_retention=True)
    assert root.get_object_retention(LOCKED, "k") == governance(15, clock)
    root.put_object_retention(LOCKED, "k", None, bypass_governance_retention=True)
    with pytest.raises(NoSuchObjectLockConfiguration):
        root.get_object_retention(LOCKED, "k")
    compliance = ObjectLockRetention("COMPLIANCE", clock.now + 10 * DAY)
    root.put_object_retention(LOCKED, "k", compliance)
    for change in (governance(30, clock), compliance.__class__("COMPLIANCE", clock.now + DAY)):
        with pytest.raises(AccessDenied):
            root.put_object_retention(LOCKED, "k", change, bypass_governance_retention=True)
    with pytest.raises(MalformedXML):
        root.put_object_retention(LOCKED, "k", ObjectLockRetention("governance", clock.now + DAY))
    with pytest.raises(InvalidArgument):
        root.put_object_retention(LOCKED, "k", governance(-1, clock))
    # Once the date has passed, anything goes (and it is still reported).
    clock.advance(11 * DAY)
    assert root.get_object_retention(LOCKED, "k") == compliance
    root.put_object_retention(LOCKED, "k", governance(1, clock))


def test_lock_operations_need_a_bucket_with_object_lock(s: objstore.Store) -> None:
    root = s.root
    root.create_bucket("plain")
    root.put_object("plain", "k", b"x")
    calls = (
        lambda: root.put_object_retention("plain", "k", ObjectLockRetention("GOVERNANCE", END)),
        lambda: root.get_object_retention("plain", "k"),
        lambda: root.put_object_legal_hold("plain", "k", "ON"),
        lambda: root.get_object_legal_hold("plain", "k"),
    )
    for call in calls:
        with pytest.raises(InvalidRequest):
            call()


END = datetime(2100, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------ IAM


def _user(s: objstore.Store, name: str, statements: list[dict[str, Any]]) -> objstore.Client:
    iam = s.root.iam
    iam.create_user(name)
    iam.put_user_policy(name, "p", json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(name)
    return s.client(key.access_key_id, key.secret_access_key)


ALLOW_ALL = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


def test_bypass_needs_its_permission_only_where_governance_protects(s: objstore.Store) -> None:
    """Without s3:BypassGovernanceRetention the header bypasses nothing, but versions no
    retention protects are still deleted (the permission is asked only with the header)."""
    root = s.root
    locked = root.put_object(LOCKED, "g", b"x").version_id
    free = root.put_object(LOCKED, "f", b"x").version_id
    root.put_object_retention(LOCKED, "g", ObjectLockRetention("GOVERNANCE", END))
    no_bypass = _user(
        s,
        "nobypass",
        [ALLOW_ALL, {"Effect": "Deny", "Action": "s3:BypassGovernanceRetention", "Resource": "*"}],
    )
    with pytest.raises(AccessDenied):
        no_bypass.delete_object(LOCKED, "g", version_id=locked, bypass_governance_retention=True)
    with pytest.raises(AccessDenied):
        no_bypass.put_object_retention(LOCKED, "g", None, bypass_governance_retention=True)
    out = no_bypass.delete_objects(
        LOCKED, [("g", locked), ("f", free)], bypass_governance_retention=True
    )
    assert [type(r).__name__ for r in out] == ["DeleteError", "DeletedObject"]
    allowed = _user(s, "bypasser", [ALLOW_ALL])
    allowed.delete_object(LOCKED, "g", version_id=locked, bypass_governance_retention=True)


def test_object_lock_condition_keys(s: objstore.Store, clock: Clock) -> None:
    """s3:object-lock-remaining-retention-days, -mode and -legal-hold in policies."""
    user = _user(
        s,
        "bounded",
        [
            ALLOW_ALL,
            {
                "Effect": "Deny",
                "Action": ["s3:PutObjectRetention", "s3:PutObject"],
                "Resource": "*",
                "Condition": {"NumericGreaterThan": {locking.REMAINING_KEY: "30"}},
            },
            {
                "Effect": "Deny",
                "Action": "s3:PutObjectRetention",
                "Resource": "*",
                "Condition": {"StringEquals": {locking.MODE_KEY: "COMPLIANCE"}},
            },
            {
                "Effect": "Deny",
                "Action": "s3:PutObjectLegalHold",
                "Resource": "*",
                "Condition": {"StringEquals": {locking.HOLD_KEY: "ON"}},
            },
        ],
    )
    user.put_object(LOCKED, "k", b"x")
    user.put_object_retention(LOCKED, "k", governance(30, clock))
    with pytest.raises(AccessDenied):
        user.put_object_retention(LOCKED, "k", governance(31, clock))
    with pytest.raises(AccessDenied):
        user.put_object_retention(LOCKED, "k", ObjectLockRetention("COMPLIANCE", clock.now + DAY))
    with pytest.raises(AccessDenied):
        user.put_object(
            LOCKED,
            "k2",
            b"x",
            object_lock_mode="GOVERNANCE",
            object_lock_retain_until_date=clock.now + 40 * DAY,
            **CRC,
        )
    with pytest.raises(AccessDenied):
        user.put_object_legal_hold(LOCKED, "k", "ON")
    user.put_object_legal_hold(LOCKED, "k", "OFF")
    values = locking.condition_values({"retention": governance(2.5, clock)}, Clock(clock.now)())
    assert values[locking.REMAINING_KEY] == 3
    assert values[locking.UNTIL_KEY] == locking.iso(locking.to_ms(clock.now + 2.5 * DAY))


def test_lock_writes_need_the_lock_actions() -> None:
    """As AWS: retention on a write needs s3:PutObjectRetention, a legal hold
    s3:PutObjectLegalHold, a bucket with Object Lock s3:PutBucketObjectLockConfiguration
    and s3:PutBucketVersioning; bypassing asks s3:BypassGovernanceRetention."""

    class Recording:
        def __init__(self) -> None:
            self.asked: list[tuple[str, dict[str, object]]] = []

        def authorize(self, request: objstore.AuthorizationRequest) -> bool:
            self.asked.append((request.action, dict(request.context)))
            return True

    rec = Recording()
    with open_store(None, authorizer=rec) as store:
        root = store.root
        root.create_bucket(LOCKED, object_lock_enabled=True)
        assert [a for a, _ in rec.asked] == [
            "s3:CreateBucket",
            "s3:PutBucketObjectLockConfiguration",
            "s3:PutBucketVersioning",
        ]
        rec.asked.clear()
        vid = root.put_object(
            LOCKED,
            "k",
            b"x",
            object_lock_mode="GOVERNANCE",
            object_lock_retain_until_date=END,
            object_lock_legal_hold_status="OFF",
            **CRC,
        ).version_id
        assert [a for a, _ in rec.asked] == [
            "s3:PutObject",
            "s3:PutObjectRetention",
            "s3:PutObjectLegalHold",
        ]
        for _action, context in rec.asked:
            assert context[locking.MODE_KEY] == "GOVERNANCE"
            assert context[locking.UNTIL_KEY] == "2100-01-01T00:00:00.000Z"
            assert context[locking.HOLD_KEY] == "OFF"
        rec.asked.clear()
        root.delete_object(LOCKED, "k", version_id=vid, bypass_governance_retention=True)
        assert [a for a, _ in rec.asked] == [
            "s3:DeleteObjectVersion",
            "s3:BypassGovernanceRetention",
        ]


# ------------------------------------------------------------------ asyncio


def test_the_asyncio_twins(s: objstore.Store, clock: Clock) -> None:
    async def run() -> None:
        client = aio.AsyncStore(s).client_for(s.root.identity)
        await client.create_bucket("alock", object_lock_enabled=True)
        await client.put_object_lock_configuration(
            "alock", ObjectLockConfiguration(mode="GOVERNANCE", days=1)
        )
        assert (await client.get_object_lock_configuration("alock")).days == 1
        vid = (await client.put_object("alock", "k", b"x", **CRC)).version_id
        await client.put_object_legal_hold("alock", "k", "ON")
        assert await client.get_object_legal_hold("alock", "k") == "ON"
        await client.put_object_retention("alock", "k", governance(5, clock))
        assert (await client.get_object_retention("alock", "k")).mode == "GOVERNANCE"
        with pytest.raises(AccessDenied):
            await client.delete_object("alock", "k", version_id=vid)
        await client.put_object_legal_hold("alock", "k", "OFF")
        out = await client.delete_objects("alock", [("k", vid)], bypass_governance_retention=True)
        assert isinstance(out[0], objstore.DeletedObject)

    asyncio.run(run())


# ------------------------------------------------------------------ records


def test_records_without_lock_fields_decode_unlocked() -> None:
    """Records written before Object Lock have none; new ones keep theirs."""
    old = VersionRecord(key="k", version_id="null", seq=1, mtime_ns=5, etag='"e"')
    assert VersionRecord.decode(old.encode()).lock == locking.NO_LOCK
    assert b"lr" not in old.encode() and b"lh" not in old.encode()
    lock = locking.Lock("COMPLIANCE", 1_900_000_000_000, True)
    locked = VersionRecord(key="k", version_id="null", seq=1, mtime_ns=5, lock=lock)
    assert VersionRecord.decode(locked.encode()).lock == lock
    hold_only = locking.Lock(legal_hold=False)
    assert UploadRecord.decode(UploadRecord("k", lock=hold_only).encode()).lock == hold_only
    assert UploadRecord.decode(b'{"k":"k"}').lock == locking.NO_LOCK
    legacy = BucketRecord.decode("b", b'{"o":"1","c":2,"v":null}')
    assert not legacy.object_lock and legacy.default_retention is None
    rule = locking.DefaultRetention("GOVERNANCE", days=3)
    rec = BucketRecord("b", "1", 2, "Enabled", object_lock=True, default_retention=rule)
    assert BucketRecord.decode("b", rec.encode()) == rec
    bare = BucketRecord("b", "1", 2, "Enabled", object_lock=True)
    assert BucketRecord.decode("b", bare.encode()) == bare


def test_locks_survive_reopening(tmp_path: Any, clock: Clock) -> None:
    with open_store(tmp_path / "s", clock=clock) as store:
        store.root.create_bucket(LOCKED, object_lock_enabled=True)
        vid = store.root.put_object(LOCKED, "k", b"x", object_lock_legal_hold_status="ON", **CRC)
    with open_store(tmp_path / "s", clock=clock) as store:
        assert store.root.get_object_legal_hold(LOCKED, "k") == "ON"
        with pytest.raises(AccessDenied):
            store.root.delete_object(LOCKED, "k", version_id=vid.version_id)
        with pytest.raises(InvalidBucketState):
            store.root.put_bucket_versioning(LOCKED, "Suspended")


# ------------------------------------------------------------------ a model


@dataclass
class Model:
    """What S3 says of one version's lock, written independently of objstore's rules."""

    mode: str | None = None
    until: datetime | None = None
    hold: bool = False
    now: datetime = START
    deleted: bool = False
    log: list[str] = field(default_factory=list)

    def active(self) -> bool:
        return self.until is not None and self.until > self.now

    def may_set(self, mode: str | None, until: datetime | None, bypass: bool) -> bool:
        if until is not None and until <= self.now:
            return False  # refused as InvalidArgument, checked separately
        if not self.active():
            return True
        same_or_later = mode == self.mode and until is not None and self.until is not None
        if same_or_later and until >= self.until:  # type: ignore[operator]
            return True
        return self.mode == "GOVERNANCE" and bypass

    def may_delete(self, bypass: bool) -> bool:
        if self.hold:
            return False
        return not self.active() or (self.mode == "GOVERNANCE" and bypass)


STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("retain"),
            st.sampled_from(["GOVERNANCE", "COMPLIANCE", None]),
            st.integers(-2, 10),
            st.booleans(),
        ),
        st.tuples(st.just("hold"), st.booleans()),
        st.tuples(st.just("wait"), st.integers(0, 6)),
        st.tuples(st.just("delete"), st.booleans()),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_lock_rules_match_a_model(steps: list[tuple[Any, ...]]) -> None:
    clock = Clock()
    model = Model()
    with open_store(None, clock=clock) as store:
        root = store.root
        root.create_bucket(LOCKED, object_lock_enabled=True)
        vid = root.put_object(LOCKED, "k", b"x").version_id
        for step in steps:
            if model.deleted:
                break
            model.now = clock.now
            if step[0] == "retain":
                _, mode, days, bypass = step
                until = None if mode is None else clock.now + timedelta(days=days)
                retention = None if mode is None else ObjectLockRetention(mode, until)
                if until is not None and until <= clock.now:
                    with pytest.raises(InvalidArgument):
                        root.put_object_retention(LOCKED, "k", retention)
                    continue
                if model.may_set(mode, until, bypass):
                    root.put_object_retention(
                        LOCKED, "k", retention, bypass_governance_retention=bypass
                    )
                    model.mode, model.until = mode, until
                else:
                    with pytest.raises(AccessDenied):
                        root.put_object_retention(
                            LOCKED, "k", retention, bypass_governance_retention=bypass
                        )
            elif step[0] == "hold":
                root.put_object_legal_hold(LOCKED, "k", "ON" if step[1] else "OFF")
                model.hold = step[1]
            elif step[0] == "wait":
                clock.advance(timedelta(days=step[1], hours=1))
            else:
                bypass = step[1]
                if model.may_delete(bypass):
                    root.delete_object(
                        LOCKED, "k", version_id=vid, bypass_governance_retention=bypass
                    )
                    model.deleted = True
                else:
                    with pytest.raises(AccessDenied):
                        root.delete_object(
                            LOCKED, "k", version_id=vid, bypass_governance_retention=bypass
                        )
            if not model.deleted:
                info = root.head_object(LOCKED, "k", version_id=vid)
                assert info.object_lock_mode == model.mode
                assert info.object_lock_retain_until_date == model.until


def test_reads_show_the_lock_only_to_callers_allowed_to_read_it(s: objstore.Store) -> None:
    """As AWS: GET and HEAD give a version's retention only to callers allowed
    s3:GetObjectRetention, and its legal hold only with s3:GetObjectLegalHold."""
    s.root.put_object(
        LOCKED,
        "k",
        b"x",
        object_lock_mode="GOVERNANCE",
        object_lock_retain_until_date=END,
        object_lock_legal_hold_status="ON",
        **CRC,
    )
    reader = _user(s, "reader", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    info = reader.head_object(LOCKED, "k")
    assert (info.object_lock_mode, info.object_lock_retain_until_date) == (None, None)
    assert info.object_lock_legal_hold_status is None
    holds = _user(
        s,
        "holds",
        [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectLegalHold"], "Resource": "*"}],
    )
    with holds.get_object(LOCKED, "k") as body:
        assert body.object_lock_legal_hold_status == "ON"
        assert body.object_lock_mode is None
        assert body.read() == b"x"
    full = _user(s, "full", [ALLOW_ALL])
    info = full.head_object(LOCKED, "k")
    assert (info.object_lock_mode, info.object_lock_retain_until_date) == ("GOVERNANCE", END)
    assert info.object_lock_legal_hold_status == "ON"
