"""The public surface: names exported, error hierarchy shape."""

from __future__ import annotations

import objstore
from objstore import errors


def test_all_is_exact() -> None:
    """__all__ lists exactly the public names defined in the package namespace."""
    public = {n for n in vars(objstore) if not n.startswith("_")}
    modules = {
        "actions",
        "authz",
        "benchtool",
        "blob",
        "cancel",
        "body",
        "cli",
        "client",
        "engine",
        "iam",
        "identity",
        "keyspace",
        "meta",
        "ns",
        "store",
        "testing",
        "types",
        "aio",
        "aiobridge",
        "transfer",
        "gateway",
        "serve",
        "checksums",
        "client_multipart",
        "aio_multipart",
        "client_access",
        "aio_access",
        "client_bucket_settings",
        "aio_bucket_settings",
        "client_locking",
        "aio_locking",
        "client_transfers",
        "client_presign",
        "backends",
        "action_types",
        "actions_iam",
        "closing",
        "options",
    }
    assert set(objstore.__all__) == public - modules
    for name in objstore.__all__:
        assert hasattr(objstore, name)


def test_error_class_names_are_codes() -> None:
    """Every error's class name is its wire code and it carries an HTTP status."""
    for cls in errors.all_error_classes():
        assert cls.code == cls.__name__, cls
        assert 300 <= cls.http_status < 600


def test_not_found_is_lookup_error_but_corruption_is_not() -> None:
    """Corruption must never be mistaken for a missing key."""
    assert issubclass(errors.NoSuchKey, LookupError)
    assert not issubclass(errors.DataCorruption, LookupError)
    assert not issubclass(errors.DataCorruption, errors.NotFound)
    assert errors.NoSuchKey.http_status == 404
    assert errors.AccessDenied.http_status == 403
    assert issubclass(errors.AccessDenied, PermissionError)
    assert errors.InvalidRange.http_status == 416
    assert errors.NotModified.http_status == 304
    assert errors.PreconditionFailed.http_status == 412
    assert errors.MethodNotAllowed.http_status == 405
    assert errors.MalformedPolicyDocument.http_status == 400


def test_error_message_and_details() -> None:
    """Errors render as 'Code: message' and keep their details."""
    exc = errors.NoSuchKey("gone", key="k", delete_marker=True)
    assert str(exc) == "NoSuchKey: gone"
    assert exc.delete_marker is True
    assert exc.details["key"] == "k"
