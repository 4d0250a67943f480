"""``objstore serve`` as a process (two workers on one port, graceful shutdown) and
``objstore.testing.Server`` in a thread."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from botocore.config import Config

import objstore
from objstore.testing import Server
from tests.gateway.s3_support import signed_request


def _client(url: str, keys: tuple[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def _root_keys(path: Path) -> tuple[str, str]:
    with objstore.open(path) as store:
        key = store.root.iam.create_access_key()
    return key.access_key_id, key.secret_access_key


def _wait_for(stream: IO[str], needle: str, seen: list[str]) -> str:
    """Read lines until one contains ``needle`` (the process's own output paces this)."""
    for line in stream:
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} never came; output: {''.join(seen)}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, tuple[str, str]]]:
    path = tmp_path / "store"
    keys = _root_keys(path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "objstore",
            "serve",
            "--store",
            str(path),
            "--port",
            "0",
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        line = _wait_for(proc.stdout, "objstore: serving ", seen)
        yield proc, line.split("serving ", 1)[1].strip(), keys
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_two_workers_serve_one_store(served: tuple[subprocess.Popen[str], str, Any]) -> None:
    """Both workers answer on one port over one store (every connection is new, so the
    kernel spreads them; whichever answers sees what the other wrote)."""
    proc, url, keys = served
    s3 = _client(url, keys)
    s3.create_bucket(Bucket="both")
    for i in range(20):
        fresh = _client(url, keys)  # a new connection each time
        fresh.put_object(Bucket="both", Key=f"k{i}", Body=str(i).encode())
        assert (
            fresh.get_object(Bucket="both", Key=f"k{i // 2}")["Body"].read() == str(i // 2).encode()
        )
    assert s3.list_objects_v2(Bucket="both")["KeyCount"] == 20
    proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 0


def test_sigterm_drains_an_upload_in_flight(
    served: tuple[subprocess.Popen[str], str, Any], tmp_path: Path
) -> None:
    """SIGTERM stops accepting but an upload already under way completes (200) and is
    stored; then the server exits 0."""
    proc, url, keys = served
    _client(url, keys).create_bucket(Bucket="drain")
    body = os.urandom(256 * 1024)
    raw = signed_request(url, keys, "PUT", "/drain/inflight", body, "Expect: 100-continue\r\n")
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        answer = sock.makefile("rb")
        sock.sendall(raw[: len(raw) - len(body)])
        # 100 Continue: the handler is running and reading the body.
        assert answer.readline().startswith(b"HTTP/1.1 100")
        assert answer.readline() == b"\r\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.stdout is not None
        seen: list[str] = []
        # Both workers say they stopped accepting before the body is sent.
        while "".join(seen).count("stopping") < 2:
            _wait_for(proc.stdout, "stopping", seen)
        sock.sendall(body)
        status = answer.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
    assert proc.wait() == 0
    with objstore.open(tmp_path / "store") as store:
        assert store.root.get_object("drain", "inflight").read() == body


def test_testing_server_runs_in_a_thread(tmp_path: Path) -> None:
    """``with Server(store) as url`` serves, and stops cleanly on leaving the block."""
    keys = _root_keys(tmp_path / "store")
    with objstore.open(tmp_path / "store") as store:
        server = Server(store)
        with server as url:
            s3 = _client(url, keys)
            s3.create_bucket(Bucket="thread")
            s3.put_object(Bucket="thread", Key="k", Body=b"v")
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with pytest.raises(OSError):
            socket.create_connection((host, int(port)), timeout=5).close()
        assert store.root.get_object("thread", "k").read() == b"v"


def test_testing_server_brackets_an_ipv6_host(tmp_path: Path) -> None:
    """Review rev11b F7: ``Server(store, host="::1").url`` was ``http://::1:PORT``,
    which boto3 refused ("Invalid endpoint") and urllib misread."""
    try:
        socket.socket(socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6")
    keys = _root_keys(tmp_path / "store")
    with objstore.open(tmp_path / "store") as store:
        with Server(store, host="::1") as url:
            assert url.startswith("http://[::1]:")
            s3 = _client(url, keys)
            s3.create_bucket(Bucket="six")
            s3.put_object(Bucket="six", Key="k", Body=b"v")
        assert store.root.get_object("six", "k").read() == b"v"


def _serve_refused(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``objstore serve --store <tmp> ARGS``, which must end as a command-line error."""
    command = [sys.executable, "-m", "objstore", "serve", "--store", str(tmp_path / "s")]
    out = subprocess.run([*command, *args], capture_output=True, text=True)
    assert out.returncode == 1
    return out


def test_serve_refuses_half_tls(tmp_path: Path) -> None:
    """--tls-cert without --tls-key is a command-line error."""
    out = _serve_refused(tmp_path, "--tls-cert", "x.pem")
    assert "--tls-cert and --tls-key go together" in out.stderr


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_serve_refuses_a_bad_shutdown_timeout(tmp_path: Path, value: str) -> None:
    """--shutdown-timeout (the graceful stop's bound) must be a finite number >= 0."""
    out = _serve_refused(tmp_path, "--shutdown-timeout", value)
    assert "--shutdown-timeout must be a number >= 0" in out.stderr


def test_shutdown_timeout_bounds_the_graceful_stop(tmp_path: Path) -> None:
    """With --shutdown-timeout 1 an upload that stalls mid-body does not hold the stop:
    it is cut after about a second and the server exits 0."""
    path = tmp_path / "store"
    keys = _root_keys(path)
    command = [sys.executable, "-m", "objstore", "serve", "--store", str(path), "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--shutdown-timeout", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    try:
        seen: list[str] = []
        url = _wait_for(proc.stdout, "objstore: serving ", seen).split("serving ", 1)[1].strip()
        _client(url, keys).create_bucket(Bucket="cut")
        body = os.urandom(64 * 1024)
        raw = signed_request(url, keys, "PUT", "/cut/stalled", body)
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(raw[: len(raw) - len(body) // 2])  # half the body, then nothing
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
            assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    with objstore.open(path) as store:
        assert not store.root.list_objects("cut").contents


def test_the_access_log_leaves_out_the_query_string(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Review 10c, F4: aiohttp's access log wrote the whole request line, and a presigned
    URL's query (signature, session token) is a credential anyone reading the log could
    replay. The line keeps the method, path and status."""
    with objstore.open(tmp_path / "s") as store:
        store.root.create_bucket("logged")
        store.root.put_object("logged", "k", b"v")
        key = store.root.iam.create_access_key()
        c = store.client(key.access_key_id, key.secret_access_key)
        with Server(store) as url, caplog.at_level(logging.INFO, logger="aiohttp.access"):
            signed = c.generate_presigned_url("GET", "logged", "k", endpoint_url=url)
            with urllib.request.urlopen(signed) as answer:
                assert answer.read() == b"v"
            # aiohttp logs the request after the client has its answer: wait for it.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                r.name == "aiohttp.access" for r in caplog.records
            ):
                time.sleep(0.05)
        lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
        assert any('"GET /logged/k HTTP/1.1" 200' in line for line in lines), lines
        assert not any("X-Amz-Signature" in line or "Signature=" in line for line in lines)


def test_the_access_log_writes_the_path_as_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Review rev11b F9: the log wrote the decoded path, so an unsigned request for
    ``/bkt/x%0A<line>`` wrote a forged line into the access log."""
    forged = '10.0.0.66 "DELETE /logged/payroll HTTP/1.1" 204 0 0.001 "x"'
    with objstore.open(tmp_path / "s") as store:
        store.root.create_bucket("logged")
        with Server(store) as url, caplog.at_level(logging.INFO, logger="aiohttp.access"):
            path = "/logged/x" + urllib.parse.quote("\n" + forged, safe="")
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(url + path, timeout=30)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                r.name == "aiohttp.access" for r in caplog.records
            ):
                time.sleep(0.05)
        lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
        assert any(f'"GET {path} HTTP/1.1" 403' in line for line in lines), lines
        assert not any("\n" in line for line in lines)
