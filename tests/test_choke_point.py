"""The authorization choke point: every operation of objstore.actions.OPERATIONS is
refused to a caller allowed nothing, changes nothing when refused, and asks the
authorizer exactly for the actions and resources it declares, once each."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import BUCKET, open_store

import objstore
from objstore.actions import COMPOSITE_METHODS, LOCAL_METHODS, OPERATIONS, operation_for_method
from objstore.errors import (
    AccessDenied,
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchKey,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchTagSet,
    OwnershipControlsNotFoundError,
)

ACCOUNT = "000000000000"
# The storage operations (methods of Client); IAM and STS operations have their own walk
# in tests/identity/test_iam_choke_point.py.
STORAGE = sorted(name for name, op in OPERATIONS.items() if op.facade == "client")
USER = objstore.Identity(arn=f"arn:aws:iam::{ACCOUNT}:user/alice", account=ACCOUNT, kind="user")
EMPTY_BUCKET = "empty-bucket"
NEW_BUCKET = "new-bucket"
LOCKED = "locked-bucket"  # with Object Lock, holding OBJ
OBJ = "obj"


def _untouched_body() -> Iterator[bytes]:
    raise AssertionError("a denied upload must not read its body")
    yield b""  # pragma: no cover


# The multipart upload `populate` starts (its id is random), with part 1 stored.
UPLOAD: dict[str, Any] = {}

# Plausible values by parameter name; an operation that succeeds for an allowed root.
PARAM_VALUES: dict[str, Callable[[], Any]] = {
    "upload_id": lambda: UPLOAD["id"],
    "part_number": lambda: 2,
    "parts": lambda: [UPLOAD["part"]],
    "bucket": lambda: BUCKET,
    "key": lambda: OBJ,
    "body": lambda: b"new body",
    "status": lambda: "Enabled",
    "keys": lambda: [OBJ, "other"],
    "items": lambda: [(OBJ, b"one"), ("other", b"two")],
    "src_bucket": lambda: BUCKET,
    "src_key": lambda: OBJ,
    "policy": lambda: BUCKET_POLICY,
    "tags": lambda: {"colour": "red"},
    "object_attributes": lambda: ["ETag", "ObjectSize"],
    "object_ownership": lambda: "BucketOwnerEnforced",
    "retention": lambda: objstore.ObjectLockRetention("GOVERNANCE", datetime(2100, 1, 1)),
    "legal_hold": lambda: "OFF",
    "public_access_block_configuration": lambda: objstore.PublicAccessBlockConfiguration(
        block_public_acls=True
    ),
    "cors_rules": lambda: [objstore.CORSRule(("PUT",), ("https://example.com",))],
}
# Where the generic values would not succeed.
OVERRIDES: dict[str, dict[str, Any]] = {
    "CreateBucket": {"bucket": NEW_BUCKET},
    "DeleteBucket": {"bucket": EMPTY_BUCKET},
    "CopyObject": {"key": "copy"},
    "PutBucketAcl": {"acl": "bucket-owner-full-control"},
    "PutObjectAcl": {"acl": "bucket-owner-full-control"},
    "PutObjectLockConfiguration": {"bucket": LOCKED},
    "GetObjectLockConfiguration": {"bucket": LOCKED},
    "PutObjectRetention": {"bucket": LOCKED},
    "GetObjectRetention": {"bucket": LOCKED},
    "PutObjectLegalHold": {"bucket": LOCKED},
    "GetObjectLegalHold": {"bucket": LOCKED},
}


def call_args(op_name: str) -> dict[str, Any]:
    """Keyword arguments for the client method of ``op_name`` (required ones, plus overrides)."""
    op = OPERATIONS[op_name]
    sig = inspect.signature(getattr(objstore.Client, op.method))
    args: dict[str, Any] = {}
    for name, param in sig.parameters.items():
        if name == "self":
            continue
        if name in OVERRIDES.get(op_name, {}):
            args[name] = OVERRIDES[op_name][name]
        elif param.default is inspect.Parameter.empty:
            if name not in PARAM_VALUES:
                pytest.fail(f"add a plausible value for parameter {name!r} of {op.method}")
            args[name] = PARAM_VALUES[name]()
    return args


def invoke(client: objstore.Client, op_name: str, **extra: Any) -> Any:
    op = OPERATIONS[op_name]
    result = getattr(client, op.method)(**{**call_args(op_name), **extra})
    if isinstance(result, objstore.ObjectBody):
        with result:
            return result.read()
    return result


# Grants nothing to the callers below (it names another user, created by populate: a
# bucket policy may only name users that exist).
BUCKET_POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": '
    f'"arn:aws:iam::{ACCOUNT}:user/nobody"}}, "Action": "s3:GetObject", '
    f'"Resource": "arn:aws:s3:::{BUCKET}/*"}}]}}'
)


def populate(store: objstore.Store) -> None:
    root = store.root
    root.create_bucket(BUCKET)
    root.iam.create_user("nobody")
    root.put_bucket_policy(BUCKET, BUCKET_POLICY)
    root.put_public_access_block(BUCKET, objstore.PublicAccessBlockConfiguration())
    root.put_bucket_cors(BUCKET, [objstore.CORSRule(("GET",), ("*",))])
    root.put_bucket_tagging(BUCKET, {"team": "storage"})
    root.create_bucket(EMPTY_BUCKET)
    root.put_object(BUCKET, OBJ, b"original", metadata={"m": "1"}, tagging={"t": "1"})
    root.put_object(BUCKET, "other", b"x" * 200_000)
    UPLOAD["id"] = root.create_multipart_upload(BUCKET, OBJ)
    UPLOAD["part"] = root.upload_part(BUCKET, OBJ, UPLOAD["id"], 1, b"part one")
    root.create_bucket(LOCKED, object_lock_enabled=True)
    root.put_object(
        LOCKED,
        OBJ,
        b"locked",
        checksum_algorithm="CRC32",
        object_lock_mode="GOVERNANCE",
        object_lock_retain_until_date=datetime(2100, 1, 1),
        object_lock_legal_hold_status="OFF",
    )


Snapshot = tuple[Any, ...]


def snapshot(store: objstore.Store) -> Snapshot:
    """Everything the store holds, read below the choke point (no authorizer involved)."""
    ns = store.namespace
    out: list[Any] = []
    for b in ns.list_buckets(owner=store.account_id):
        out.append((b.name, b.creation_date, ns.get_bucket_versioning(b.name)))
        with contextlib.suppress(OwnershipControlsNotFoundError):
            out.append(("ownership", ns.get_bucket_ownership_controls(b.name)))
        with contextlib.suppress(NoSuchBucketPolicy):
            out.append(("policy", store.identity.service.get_bucket_policy(b.name)))
        with contextlib.suppress(NoSuchPublicAccessBlockConfiguration):
            out.append(("public access block", ns.get_public_access_block(b.name)))
        with contextlib.suppress(NoSuchCORSConfiguration):
            out.append(("cors", tuple(ns.get_bucket_cors(b.name))))
        with contextlib.suppress(NoSuchTagSet):
            out.append(("tags", ns.get_bucket_tagging(b.name)))
        page = ns.list_object_versions(b.name)
        assert not page.is_truncated
        for m in page.delete_markers:
            out.append(("marker", m.key, m.version_id, m.is_latest))
        for v in page.versions:
            info = ns.head_object(b.name, v.key, version_id=v.version_id)
            with ns.get_object(b.name, v.key, version_id=v.version_id) as body:
                data = body.read()
            tags = ns.get_object_tagging(b.name, v.key, version_id=v.version_id)
            out.append((v.key, v.version_id, v.is_latest, v.etag, info.metadata, data, tags))
        for up in ns.list_multipart_uploads(b.name):
            parts = ns.list_parts(b.name, up.key, up.upload_id)
            out.append(("upload", up.key, up.upload_id, tuple(parts)))
    return tuple(out)


def test_every_client_method_is_a_declared_operation() -> None:
    """No public client method reaches the namespace without an entry in the table."""
    public = [n for n, _ in inspect.getmembers(objstore.Client, inspect.isfunction)]
    public = [n for n in public if not n.startswith("_")]
    assert public
    # Transfers only call other client methods (each a row, checked here too).
    assert set(public) >= COMPOSITE_METHODS
    public = [n for n in public if n not in COMPOSITE_METHODS | LOCAL_METHODS]
    for name in public:
        assert operation_for_method(name).method == name
    assert {op.method for n, op in OPERATIONS.items() if n in STORAGE} <= set(public)


@pytest.mark.parametrize("op_name", STORAGE)
def test_plausible_arguments_succeed_for_root(op_name: str) -> None:
    """The arguments used below are valid: a refusal can only come from the authorizer."""
    with open_store(None) as s:
        populate(s)
        invoke(s.root, op_name)


# ------------------------------------------------------------- refusals


def _assert_refused(store: objstore.Store, client: objstore.Client, op_name: str) -> None:
    before = snapshot(store)
    extra: dict[str, Any] = {}
    if op_name in ("PutObject", "UploadPart"):
        extra["body"] = _untouched_body()  # refused before a byte is read
    if op_name == "PutObjects":
        extra["items"] = [("fresh", b"x"), (OBJ, _untouched_body())]
    if op_name == "DeleteObjects":
        out = invoke(client, op_name)
        assert [type(r) for r in out] == [objstore.DeleteError] * len(out)
        assert [r.code for r in out] == ["AccessDenied"] * len(out) != []
    else:
        with pytest.raises(AccessDenied):
            invoke(client, op_name, **extra)
    assert snapshot(store) == before


@pytest.mark.parametrize("op_name", STORAGE)
def test_unprivileged_user_is_denied_everything(store: objstore.Store, op_name: str) -> None:
    populate(store)
    _assert_refused(store, store.client_for(USER), op_name)


@pytest.mark.parametrize("op_name", STORAGE)
def test_deny_all_authorizer_denies_root_too(tmp_path: Path, op_name: str) -> None:
    path = tmp_path / "s"
    with open_store(path) as s:
        populate(s)
    with open_store(path, authorizer=objstore.DenyAllAuthorizer()) as s:
        _assert_refused(s, s.root, op_name)
        # Another identity fares no better.
        _assert_refused(s, s.client_for(USER), op_name)


class Decision:
    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed


@pytest.mark.parametrize("op_name", STORAGE)
def test_a_decision_object_with_allowed_false_denies(op_name: str) -> None:
    class Deciding:
        def authorize(self, request: objstore.AuthorizationRequest) -> Decision:
            return Decision(False)

    with open_store(None) as s:
        populate(s)
        s.engine.authorizer = Deciding()
        _assert_refused(s, s.root, op_name)
        s.engine.authorizer = objstore.RootOnlyAuthorizer()


# ------------------------------------------------------------ recording


class Recording:
    """Allows everything and remembers every question."""

    def __init__(self) -> None:
        self.requests: list[objstore.AuthorizationRequest] = []

    def authorize(self, request: objstore.AuthorizationRequest) -> bool:
        self.requests.append(request)
        return True


def declared(op_name: str, args: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource) pairs the table declares for these arguments, in order."""
    op = OPERATIONS[op_name]
    if op.per_item:
        entries = args["keys"] if op_name == "DeleteObjects" else args["items"]
        out = []
        for entry in entries:
            entry = (entry, None) if isinstance(entry, str) else entry
            item = {**args, **dict(zip(op.per_item, entry, strict=False))}
            out += [
                (p.action_for(item), p.resource_for(item))
                for p in op.permissions
                if p.applies(item)
            ]
        return out
    return [(p.action_for(args), p.resource_for(args)) for p in op.permissions if p.applies(args)]


# Independent of the table: what S3 / IAM name for each operation.
OBJ_ARN = f"arn:aws:s3:::{BUCKET}/{OBJ}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
LOCKED_ARN = f"arn:aws:s3:::{LOCKED}"
EXPECTED: dict[str, list[tuple[str, str]]] = {
    "ListBuckets": [("s3:ListAllMyBuckets", "*")],
    "CreateBucket": [("s3:CreateBucket", f"arn:aws:s3:::{NEW_BUCKET}")],
    "HeadBucket": [("s3:ListBucket", BUCKET_ARN)],
    "DeleteBucket": [("s3:DeleteBucket", f"arn:aws:s3:::{EMPTY_BUCKET}")],
    "PutBucketVersioning": [("s3:PutBucketVersioning", BUCKET_ARN)],
    "GetBucketVersioning": [("s3:GetBucketVersioning", BUCKET_ARN)],
    "PutObject": [("s3:PutObject", OBJ_ARN)],
    "PutObjects": [("s3:PutObject", OBJ_ARN), ("s3:PutObject", f"{BUCKET_ARN}/other")],
    "GetObject": [("s3:GetObject", OBJ_ARN)],
    "HeadObject": [("s3:GetObject", OBJ_ARN)],
    "DeleteObject": [("s3:DeleteObject", OBJ_ARN)],
    "DeleteObjects": [("s3:DeleteObject", OBJ_ARN), ("s3:DeleteObject", f"{BUCKET_ARN}/other")],
    "CopyObject": [("s3:GetObject", OBJ_ARN), ("s3:PutObject", f"{BUCKET_ARN}/copy")],
    "ListObjects": [("s3:ListBucket", BUCKET_ARN)],
    "ListObjectVersions": [("s3:ListBucketVersions", BUCKET_ARN)],
    "PutBucketPolicy": [("s3:PutBucketPolicy", BUCKET_ARN)],
    "GetBucketPolicy": [("s3:GetBucketPolicy", BUCKET_ARN)],
    "DeleteBucketPolicy": [("s3:DeleteBucketPolicy", BUCKET_ARN)],
    "CreateMultipartUpload": [("s3:PutObject", OBJ_ARN)],
    "UploadPart": [("s3:PutObject", OBJ_ARN)],
    "UploadPartCopy": [("s3:GetObject", OBJ_ARN), ("s3:PutObject", OBJ_ARN)],
    "CompleteMultipartUpload": [("s3:PutObject", OBJ_ARN)],
    "AbortMultipartUpload": [("s3:AbortMultipartUpload", OBJ_ARN)],
    "ListParts": [("s3:ListMultipartUploadParts", OBJ_ARN)],
    "ListMultipartUploads": [("s3:ListBucketMultipartUploads", BUCKET_ARN)],
    "PutObjectTagging": [("s3:PutObjectTagging", OBJ_ARN)],
    "GetObjectTagging": [("s3:GetObjectTagging", OBJ_ARN)],
    "DeleteObjectTagging": [("s3:DeleteObjectTagging", OBJ_ARN)],
    "GetObjectAttributes": [("s3:GetObjectAttributes", OBJ_ARN)],
    "GetObjectAcl": [("s3:GetObjectAcl", OBJ_ARN)],
    "PutObjectAcl": [("s3:PutObjectAcl", OBJ_ARN)],
    "GetBucketAcl": [("s3:GetBucketAcl", BUCKET_ARN)],
    "PutBucketAcl": [("s3:PutBucketAcl", BUCKET_ARN)],
    "GetBucketOwnershipControls": [("s3:GetBucketOwnershipControls", BUCKET_ARN)],
    "PutBucketOwnershipControls": [("s3:PutBucketOwnershipControls", BUCKET_ARN)],
    "DeleteBucketOwnershipControls": [("s3:PutBucketOwnershipControls", BUCKET_ARN)],
    "PutObjectLockConfiguration": [("s3:PutBucketObjectLockConfiguration", LOCKED_ARN)],
    "GetObjectLockConfiguration": [("s3:GetBucketObjectLockConfiguration", LOCKED_ARN)],
    "PutObjectRetention": [("s3:PutObjectRetention", f"{LOCKED_ARN}/{OBJ}")],
    "GetObjectRetention": [("s3:GetObjectRetention", f"{LOCKED_ARN}/{OBJ}")],
    "PutObjectLegalHold": [("s3:PutObjectLegalHold", f"{LOCKED_ARN}/{OBJ}")],
    "GetObjectLegalHold": [("s3:GetObjectLegalHold", f"{LOCKED_ARN}/{OBJ}")],
    "GetPublicAccessBlock": [("s3:GetBucketPublicAccessBlock", BUCKET_ARN)],
    "PutPublicAccessBlock": [("s3:PutBucketPublicAccessBlock", BUCKET_ARN)],
    "DeletePublicAccessBlock": [("s3:PutBucketPublicAccessBlock", BUCKET_ARN)],
    "GetBucketPolicyStatus": [("s3:GetBucketPolicyStatus", BUCKET_ARN)],
    "PutBucketCors": [("s3:PutBucketCORS", BUCKET_ARN)],
    "GetBucketCors": [("s3:GetBucketCORS", BUCKET_ARN)],
    "DeleteBucketCors": [("s3:PutBucketCORS", BUCKET_ARN)],
    "PutBucketTagging": [("s3:PutBucketTagging", BUCKET_ARN)],
    "GetBucketTagging": [("s3:GetBucketTagging", BUCKET_ARN)],
    "DeleteBucketTagging": [("s3:PutBucketTagging", BUCKET_ARN)],
}


@pytest.mark.parametrize("op_name", STORAGE)
def test_each_operation_asks_exactly_what_it_declares(op_name: str) -> None:
    rec = Recording()
    with open_store(None, authorizer=rec) as s:
        populate(s)
        rec.requests.clear()
        args = call_args(op_name)
        invoke(s.root, op_name)
        asked = [(r.action, r.resource) for r in rec.requests]
        assert asked == declared(op_name, args)
        if op_name in EXPECTED:
            assert asked == EXPECTED[op_name]
        # Once each: no (action, resource) pair is asked twice.
        assert len(set(asked)) == len(asked)
        for r in rec.requests:
            assert r.principal == s.root.identity
            assert r.operation == op_name
            assert r.resource_account == (
                None if r.resource in ("*", f"arn:aws:s3:::{NEW_BUCKET}") else ACCOUNT
            )


def test_every_operation_states_its_actions_here() -> None:
    """A new operation must state its IAM actions here too (not only in the table)."""
    assert set(STORAGE) <= set(EXPECTED)


def _asked(
    op_name: str, *, versions: bool = True, **extra: Any
) -> list[objstore.AuthorizationRequest]:
    rec = Recording()
    with open_store(None, authorizer=rec) as s:
        populate(s)
        vid = None
        if versions:
            s.root.put_bucket_versioning(BUCKET, "Enabled")
            vid = s.root.put_object(BUCKET, OBJ, b"v2").version_id
            s.root.put_object(BUCKET, OBJ, b"v3")
        rec.requests.clear()
        extra = {k: (vid if v == "VID" else v) for k, v in extra.items()}
        invoke(s.root, op_name, **extra)
        return rec.requests


def test_version_specific_actions_and_context() -> None:
    (get,) = _asked("GetObject", version_id="VID")
    assert get.action == "s3:GetObjectVersion"
    assert get.context["s3:VersionId"]
    (head,) = _asked("HeadObject", version_id="VID")
    assert head.action == "s3:GetObjectVersion"
    (delete,) = _asked("DeleteObject", version_id="VID")
    assert delete.action == "s3:DeleteObjectVersion"
    src, dst = _asked("CopyObject", src_version_id="VID")
    assert (src.action, dst.action) == ("s3:GetObjectVersion", "s3:PutObject")
    assert (
        dst.context["s3:x-amz-copy-source"]
        == f"{BUCKET}/{OBJ}?versionId={src.context['s3:VersionId']}"
    )
    src, dst = _asked("UploadPartCopy", src_version_id="VID")
    assert (src.action, dst.action) == ("s3:GetObjectVersion", "s3:PutObject")
    assert dst.context["s3:x-amz-copy-source"].endswith(f"?versionId={src.context['s3:VersionId']}")
    (plain,) = _asked("GetObject")
    assert plain.action == "s3:GetObject" and "s3:VersionId" not in plain.context


def test_version_specific_tagging_acl_and_attribute_actions() -> None:
    for op, action in (
        ("PutObjectTagging", "s3:PutObjectVersionTagging"),
        ("GetObjectTagging", "s3:GetObjectVersionTagging"),
        ("DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
        ("GetObjectAttributes", "s3:GetObjectVersionAttributes"),
        ("GetObjectAcl", "s3:GetObjectVersionAcl"),
        ("PutObjectAcl", "s3:PutObjectVersionAcl"),
    ):
        (req,) = _asked(op, version_id="VID")
        assert req.action == action
        assert req.context["s3:VersionId"]


def test_writes_with_tags_also_ask_put_object_tagging() -> None:
    tags = {"project": "x", "team": "y"}
    for op, extra in (
        ("PutObject", {}),
        ("CreateMultipartUpload", {}),
        ("CopyObject", {"tagging_directive": "REPLACE"}),
    ):
        asked = _asked(op, tagging=tags, **extra)
        put, tagging = asked[-2:]
        assert (put.action, tagging.action) == ("s3:PutObject", "s3:PutObjectTagging")
        assert put.resource == tagging.resource
        for r in (put, tagging):
            assert r.context["s3:RequestObjectTag/project"] == "x"
            assert sorted(r.context["s3:RequestObjectTagKeys"]) == ["project", "team"]
    # Without tags: s3:PutObject alone.
    assert [r.action for r in _asked("PutObject")] == ["s3:PutObject"]


def test_create_bucket_naming_its_object_ownership_also_asks_for_it() -> None:
    """As AWS: x-amz-object-ownership on CreateBucket needs s3:PutBucketOwnershipControls."""
    asked = _asked("CreateBucket", versions=False, object_ownership="BucketOwnerEnforced")
    assert [r.action for r in asked] == ["s3:CreateBucket", "s3:PutBucketOwnershipControls"]


def test_reads_of_tagged_objects_supply_existing_tags() -> None:
    for op in (
        "GetObject",
        "HeadObject",
        "GetObjectTagging",
        "DeleteObjectTagging",
        "GetObjectAttributes",
        "GetObjectAcl",
        "PutObjectAcl",
    ):
        (req,) = _asked(op, versions=False)
        assert req.context["s3:ExistingObjectTag/t"] == "1", op
    (put_tags,) = _asked("PutObjectTagging", versions=False)
    assert put_tags.context["s3:ExistingObjectTag/t"] == "1"
    assert put_tags.context["s3:RequestObjectTag/colour"] == "red"
    src, dst = _asked("CopyObject", versions=False)
    assert src.context["s3:ExistingObjectTag/t"] == "1"
    assert not any(k.startswith("s3:ExistingObjectTag/") for k in dst.context)
    # The newest version has no tags: none are supplied for it.
    (newest,) = _asked("GetObject")
    assert not any(k.startswith("s3:ExistingObjectTag/") for k in newest.context)
    (delete,) = _asked("DeleteObject", versions=False)
    assert not any(k.startswith("s3:ExistingObjectTag/") for k in delete.context)


def test_copy_and_list_supply_condition_keys() -> None:
    _src, dst = _asked("CopyObject", metadata_directive="REPLACE", metadata={"a": "b"})
    assert dst.context["s3:x-amz-copy-source"] == f"{BUCKET}/{OBJ}"
    assert dst.context["s3:x-amz-metadata-directive"] == "REPLACE"
    (lst,) = _asked("ListObjects", prefix="o", delimiter="/", max_keys=5)
    assert lst.context["s3:prefix"] == "o"
    assert lst.context["s3:delimiter"] == "/"
    assert lst.context["s3:max-keys"] == 5


# ------------------------------------------------- 403 versus 404


class AllowActions:
    """Allows the user exactly ``actions``."""

    def __init__(self, *actions: str) -> None:
        self.actions = set(actions)

    def authorize(self, request: objstore.AuthorizationRequest) -> bool:
        return request.principal.kind == "root" or request.action in self.actions


@pytest.mark.parametrize("method", ["get_object", "head_object"])
def test_missing_key_is_403_without_list_bucket(method: str) -> None:
    with open_store(None, authorizer=AllowActions("s3:GetObject")) as s:
        populate(s)
        user = s.client_for(USER)
        with pytest.raises(AccessDenied) as exc:
            getattr(user, method)(BUCKET, "absent")
        assert exc.value.http_status == 403
        # An existing key is readable: the denial is about the missing key only.
        result = getattr(user, method)(BUCKET, OBJ)
        if isinstance(result, objstore.ObjectBody):
            result.close()


@pytest.mark.parametrize("method", ["get_object", "head_object"])
def test_missing_key_is_404_with_list_bucket(method: str) -> None:
    with open_store(None, authorizer=AllowActions("s3:GetObject", "s3:ListBucket")) as s:
        populate(s)
        with pytest.raises(NoSuchKey) as exc:
            getattr(s.client_for(USER), method)(BUCKET, "absent")
        assert exc.value.http_status == 404


def test_root_sees_404_for_a_missing_key(store: objstore.Store) -> None:
    populate(store)
    with pytest.raises(NoSuchKey):
        store.root.get_object(BUCKET, "absent")


def test_partial_delete_objects_permission(store: objstore.Store) -> None:
    """A denied key fails alone in DeleteObjects; the allowed ones are deleted."""

    class OnlyOther:
        def authorize(self, request: objstore.AuthorizationRequest) -> bool:
            return request.principal.kind == "root" or request.resource.endswith("/other")

    populate(store)
    store.engine.authorizer = OnlyOther()
    out = store.client_for(USER).delete_objects(BUCKET, [OBJ, "other"])
    assert isinstance(out[0], objstore.DeleteError) and out[0].code == "AccessDenied"
    assert isinstance(out[1], objstore.DeletedObject)
    assert [o.key for o in store.root.list_objects(BUCKET).contents] == [OBJ]


@pytest.mark.parametrize("who", ["user", "anonymous"])
def test_missing_bucket_is_404_for_a_refused_caller(who: str) -> None:
    """S3 answers NoSuchBucket for a bucket that does not exist, whoever asks: bucket
    names are global and public. An existing bucket still answers AccessDenied."""
    caller = USER if who == "user" else objstore.Identity.anonymous()
    with open_store(None, authorizer=AllowActions()) as s:
        populate(s)
        client = s.client_for(caller)
        calls: list[Callable[[str], object]] = [
            lambda b: client.get_object(b, OBJ),
            lambda b: client.head_object(b, OBJ),
            lambda b: client.delete_object(b, OBJ),
            lambda b: client.put_object(b, OBJ, b"x"),
            lambda b: client.list_objects(b),
            lambda b: client.get_bucket_versioning(b),
            lambda b: client.delete_bucket(b),
        ]
        for call in calls:
            with pytest.raises(NoSuchBucket) as missing:
                call("no-such-bucket")
            assert missing.value.http_status == 404
            with pytest.raises(AccessDenied):
                call(BUCKET)
        # Creating a bucket is not answered NoSuchBucket: it is refused.
        with pytest.raises(AccessDenied):
            client.create_bucket("brand-new-bucket")
        assert [b.name for b in s.root.list_buckets()] == sorted([BUCKET, EMPTY_BUCKET, LOCKED])


@pytest.mark.parametrize(
    ("action", "call"),
    [
        (
            "s3:GetObjectAttributes",
            lambda c: c.get_object_attributes(BUCKET, "absent", object_attributes=["ETag"]),
        ),
        ("s3:GetObjectAcl", lambda c: c.get_object_acl(BUCKET, "absent")),
    ],
)
def test_attribute_and_acl_reads_of_a_missing_key_need_list_bucket(
    action: str, call: Callable[[objstore.Client], Any]
) -> None:
    """As GetObject: 403 for a missing key without s3:ListBucket, 404 with it."""
    with open_store(None, authorizer=AllowActions(action)) as s:
        populate(s)
        with pytest.raises(AccessDenied):
            call(s.client_for(USER))
    with open_store(None, authorizer=AllowActions(action, "s3:ListBucket")) as s:
        populate(s)
        with pytest.raises(NoSuchKey):
            call(s.client_for(USER))
