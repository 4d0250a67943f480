"""``objstore bench --endpoint``: the same phases against an S3 endpoint (a moto server on
a free loopback port), tiny sizes, no timing assertions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from objstore.benchtool import DataSpec
from objstore.benchtool.data import DataSource
from objstore.cli import main

MIB = 1 << 20
KEYS = ("--access-key", "bench-key", "--secret-key", "bench-secret")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1, on a port the system chose."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )


def bench_buckets(endpoint: str) -> list[str]:
    names = [b["Name"] for b in s3(endpoint).list_buckets().get("Buckets", [])]
    return [n for n in names if n.startswith("objstore-bench-")]


@pytest.fixture
def no_aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 sees no credentials, profile or instance metadata of this machine."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.chdir(tmp_path)


def check_phase(phase: dict[str, Any], name: str, size: int, objects: int) -> None:
    assert phase["name"] == name and phase["complete"] is True
    # Bytes are counted once even though boto3 reads each body twice (hash, then send).
    assert phase["bytes"] == size and phase["objects"] == objects
    assert phase["mb_s"] > 0 and phase["x_baseline"] is None
    lat = phase["latency"]["object"]
    assert lat["count"] == objects and 0 < lat["p50"] <= lat["p99"] <= lat["max"]


@pytest.mark.usefixtures("no_aws_config")
def test_bench_endpoint_runs_every_phase_and_cleans_up(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PUT, GET and multipart of 12 MiB through boto3; the run's bucket is gone after."""
    out = tmp_path / "report.json"
    args = ["bench", "--endpoint", endpoint, *KEYS, "--size", "12MiB", "--objects", "3"]
    args += ["--part-size", "5MiB", "--concurrency", "2", "--json", str(out)]
    assert main(args) == 0
    report = json.loads(out.read_text())
    assert report["store"] == endpoint and report["baseline"] is None
    put, get, mp = report["phases"]
    check_phase(put, "put", 12 * MIB, 3)
    check_phase(get, "get", 12 * MIB, 3)
    check_phase(mp, "multipart", 12 * MIB, 2)  # 10 + 2 MiB: parts of 5, 5 | 2
    assert mp["parts"] == mp["latency"]["part"]["count"] == 3
    assert report["logical_bytes"] == 24 * MIB
    assert report["stored_bytes"] is None and report["dedup_ratio"] is None
    text = capsys.readouterr().out
    assert f"endpoint: {endpoint}" in text and "disk" not in text.split("\n")[4]
    assert "not visible from here" in text
    assert bench_buckets(endpoint) == []


@pytest.mark.usefixtures("no_aws_config")
def test_bench_endpoint_takes_credentials_from_the_environment(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    out = tmp_path / "r.json"
    args = ["bench", "--endpoint", endpoint, "--region", "eu-west-1", "--size", "1MiB"]
    assert main([*args, "--phases", "put,get", "--json", str(out)]) == 0
    put, get = json.loads(out.read_text())["phases"]
    assert put["bytes"] == get["bytes"] == MIB
    assert bench_buckets(endpoint) == []


@pytest.mark.usefixtures("no_aws_config")
@pytest.mark.parametrize(
    "args,message",
    [
        ([], "no credentials"),
        (["--access-key", "only-half"], "both --access-key and --secret-key"),
        (["--store", "somewhere", *KEYS], "exclude each other"),
    ],
)
def test_bench_endpoint_refuses(
    endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    assert main(["bench", "--endpoint", endpoint, "--size", "1MiB", *args]) == 1
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [] and bench_buckets(endpoint) == []


@pytest.mark.usefixtures("no_aws_config")
def test_bench_endpoint_errors_are_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listens on port 9 of the loopback (discard): a one-line error, status 1."""
    assert main(["bench", "--endpoint", "http://127.0.0.1:9", *KEYS, "--size", "1MiB"]) == 1
    assert "http://127.0.0.1:9" in capsys.readouterr().err
    assert main(["bench", "--endpoint", "ftp://x", *KEYS]) == 1
    assert "expected http://" in capsys.readouterr().err
    assert main(["bench", "--region", "eu-west-1", "--size", "1MiB"]) == 1
    assert "go with --endpoint" in capsys.readouterr().err


@pytest.mark.parametrize("spec", ["random", "dup:0.5"])
def test_body_streams_rewind_to_the_same_bytes(spec: str) -> None:
    """S3 clients read a body to sign it and seek back to send it: same bytes again,
    from any position."""
    source = DataSource(DataSpec.parse(spec), 64 * 1024)
    body = source.stream(300_000)
    whole = body.read()
    assert len(whole) == 300_000 and body.read() == b""
    assert body.seek(0) == 0 and body.read() == whole
    assert body.seek(123_457) == 123_457 and body.tell() == 123_457
    assert body.read(1000) == whole[123_457:124_457]
    assert body.seek(-10, 2) == 299_990 and body.read() == whole[-10:]
    assert body.seek(5, 0) == 5 and body.read(7) == whole[5:12]
    assert body.seek(10**9) == 300_000 and body.read() == b""
    with pytest.raises(OSError):
        body.seek(-1)
