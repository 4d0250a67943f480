"""How the S3 chunk store addresses its bucket: by path at a named endpoint unless the
environment asks for virtual-hosted requests (review 9j, L2), by host name at AWS."""

from __future__ import annotations

import pytest

from objstore.backends.s3_client import (
    bucket_host,
    env_endpoint,
    make_client,
    virtual_hosted,
)


def client_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, str]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT", "AWS_VIRTUAL_HOSTED_STYLE_REQUEST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # The client the store makes for the endpoint it resolves (S3ChunkStore's own
    # constructor would also look the bucket up, and there is no server here).
    client = make_client(
        "bkt",
        "p",
        endpoint=env_endpoint(),
        region="us-east-1",
        profile=None,
        pool=1,
        connect_timeout=1,
        read_timeout=1,
    )
    config: dict[str, str] = client.config  # type: ignore[assignment]
    return config


def test_an_endpoint_from_the_environment_is_addressed_by_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = client_config(monkeypatch, AWS_ENDPOINT_URL="http://127.0.0.1:9000")
    assert config["endpoint"] == "http://127.0.0.1:9000"
    assert config["virtual_hosted_style_request"] == "false"


def test_the_environment_can_ask_for_virtual_hosted_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The setting the S3 client library reads itself is honoured; the endpoint names the
    service (as for boto3 and the aws cli), and the bucket's host is made from it."""
    config = client_config(
        monkeypatch,
        AWS_ENDPOINT_URL="http://s3.example:9000",
        AWS_VIRTUAL_HOSTED_STYLE_REQUEST="true",
    )
    assert config["endpoint"] == "http://bkt.s3.example:9000"
    assert config["virtual_hosted_style_request"] == "true"


def test_virtual_hosted_only_where_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", raising=False)
    assert virtual_hosted(None)  # AWS itself
    assert not virtual_hosted("http://127.0.0.1:9000")
    for value, expected in [("true", True), ("TRUE", True), ("1", True), ("false", False)]:
        monkeypatch.setenv("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", value)
        assert virtual_hosted("http://127.0.0.1:9000") is expected


@pytest.mark.parametrize(
    ("bucket", "endpoint", "host"),
    [
        ("bkt", "http://s3.example:9000", "http://bkt.s3.example:9000"),
        ("minio", "http://minio.lan:9000", "http://minio.minio.lan:9000"),  # never guessed
        ("a.b", "https://127.0.0.1", "https://a.b.127.0.0.1"),
    ],
)
def test_bucket_host(bucket: str, endpoint: str, host: str) -> None:
    """The bucket's host for obstore; boto3 is given the endpoint as it is (it adds the
    bucket itself). The endpoint is never guessed to name a bucket (review 9l, L1)."""
    assert bucket_host(bucket, endpoint) == host
