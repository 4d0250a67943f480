"""Real S3 clients against ``objstore serve``: the aws cli, rclone, s3fs and curl.

Each client is the unchanged program a user runs (the aws cli and s3fs come with the
venv, rclone from Debian's packages through ``make services``); each test starts its own
server on a free loopback port. Outside CI a missing program skips loudly; in CI
(``CI=true``) it fails, because then ``make services`` did not do its job.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import objstore
from objstore.testing import Server

REGION = "us-east-1"
BIN = Path(sys.executable).parent


def program(name: str) -> str:
    """The path of an external client, or skip (fail in CI) when it is not installed."""
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        message = f"{name} is not installed: run `make services`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass(frozen=True)
class Endpoint:
    url: str
    key: str
    secret: str
    store: objstore.Store

    def aws_env(self, home: Path) -> dict[str, str]:
        """An environment in which the aws cli sees only these credentials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=self.key,
            AWS_SECRET_ACCESS_KEY=self.secret,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(home / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
            HOME=str(home),
        )
        return env

    def rclone_env(self, home: Path) -> dict[str, str]:
        """rclone configured by environment only: remote ``obj:`` is this endpoint."""
        # Without AWS_* (an AWS_CA_BUNDLE makes rclone refuse its own HTTP transport).
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            RCLONE_CONFIG=str(home / "rclone.conf"),
            RCLONE_CONFIG_OBJ_TYPE="s3",
            RCLONE_CONFIG_OBJ_PROVIDER="Other",
            RCLONE_CONFIG_OBJ_ENDPOINT=self.url,
            RCLONE_CONFIG_OBJ_ACCESS_KEY_ID=self.key,
            RCLONE_CONFIG_OBJ_SECRET_ACCESS_KEY=self.secret,
            RCLONE_CONFIG_OBJ_REGION=REGION,
            HOME=str(home),
        )
        return env


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Endpoint]:
    store = objstore.open(tmp_path / "store")
    try:
        key = store.root.iam.create_access_key()
        with Server(store) as url:
            yield Endpoint(url, key.access_key_id, key.secret_access_key, store)
    finally:
        store.close()


def run(args: list[str], env: dict[str, str], *, check: bool = True) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"{args[:4]} exited {done.returncode}:\n{done.stderr}\n{done.stdout}")
    return done.stdout


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_tree(root: Path) -> dict[str, bytes]:
    """A small directory tree with an empty file, a nested one and a multi-MiB one."""
    files = {
        "a.txt": b"alpha\n",
        "empty": b"",
        "sub/b.bin": os.urandom(100_000),
        "sub/deeper/c with space.txt": b"spaces and nesting\n",
        "big.bin": os.urandom(9 * 1024 * 1024),  # above the cli's 8 MiB multipart threshold
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def stored(store: objstore.Store, bucket: str, key: str) -> bytes:
    with store.root.get_object(bucket, key) as body:
        return body.read()


# ------------------------------------------------------------------- aws cli


def test_aws_cli_s3_commands(endpoint: Endpoint, tmp_path: Path) -> None:
    aws = [program("aws"), "--endpoint-url", endpoint.url]
    env = endpoint.aws_env(tmp_path)
    src = tmp_path / "src"
    files = write_tree(src)

    run([*aws, "s3", "mb", "s3://cli-bucket"], env)
    run([*aws, "s3", "cp", str(src / "big.bin"), "s3://cli-bucket/one/big.bin"], env)
    assert stored(endpoint.store, "cli-bucket", "one/big.bin") == files["big.bin"]

    run([*aws, "s3", "sync", str(src), "s3://cli-bucket/tree"], env)
    listing = run([*aws, "s3", "ls", "--recursive", "s3://cli-bucket/tree/"], env)
    for name in files:
        assert f"tree/{name}" in listing
    # A second sync finds nothing to do: sizes and times round-trip.
    assert run([*aws, "s3", "sync", str(src), "s3://cli-bucket/tree"], env).strip() == ""

    back = tmp_path / "back"
    run([*aws, "s3", "sync", "s3://cli-bucket/tree", str(back)], env)
    for name, data in files.items():
        assert (back / name).read_bytes() == data

    run([*aws, "s3", "rm", "--recursive", "s3://cli-bucket/tree"], env)
    assert run([*aws, "s3", "ls", "--recursive", "s3://cli-bucket/tree/"], env, check=False) == ""


def test_aws_cli_s3api_iam_sts(endpoint: Endpoint, tmp_path: Path) -> None:
    aws = [program("aws"), "--endpoint-url", endpoint.url, "--output", "json"]
    env = endpoint.aws_env(tmp_path)
    body = tmp_path / "body"
    body.write_bytes(b"hello s3api")
    run([*aws, "s3api", "create-bucket", "--bucket", "api-bucket"], env)
    put_args = [*aws, "s3api", "put-object", "--bucket", "api-bucket", "--key", "k"]
    put = json.loads(run([*put_args, "--body", str(body), "--metadata", "color=blue"], env))
    head_args = [*aws, "s3api", "head-object", "--bucket", "api-bucket", "--key", "k"]
    head = json.loads(run(head_args, env))
    assert head["ETag"] == put["ETag"] == f'"{hashlib.md5(b"hello s3api").hexdigest()}"'
    assert head["ContentLength"] == len(b"hello s3api")
    assert head["Metadata"] == {"color": "blue"}
    out = tmp_path / "out"
    run([*aws, "s3api", "get-object", "--bucket", "api-bucket", "--key", "k", str(out)], env)
    assert out.read_bytes() == b"hello s3api"

    missing = subprocess.run(
        [*aws, "s3api", "head-object", "--bucket", "api-bucket", "--key", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode != 0 and "404" in missing.stderr

    user = json.loads(run([*aws, "iam", "create-user", "--user-name", "cli-user"], env))
    assert user["User"]["UserName"] == "cli-user"
    assert user["User"]["Arn"].endswith(":user/cli-user")
    users = json.loads(run([*aws, "iam", "list-users"], env))
    assert [u["UserName"] for u in users["Users"]] == ["cli-user"]
    me = json.loads(run([*aws, "sts", "get-caller-identity"], env))
    assert me["Account"] == endpoint.store.account_id
    assert me["Arn"] == f"arn:aws:iam::{endpoint.store.account_id}:root"


@pytest.mark.slow
def test_aws_cli_multi_gb_round_trip(endpoint: Endpoint, tmp_path: Path) -> None:
    """A 2 GiB file up and down through the cli's parallel multipart transfers."""
    aws = [program("aws"), "--endpoint-url", endpoint.url]
    env = endpoint.aws_env(tmp_path)
    src = tmp_path / "large.bin"
    dst = tmp_path / "large.out"
    block = os.urandom(1 << 20)
    try:
        with src.open("wb") as f:
            for i in range(2048):
                # Every MiB differs, so deduplication cannot hide a misplaced part.
                f.write(i.to_bytes(8, "big") + block[8:])
        run([*aws, "s3", "mb", "s3://large"], env)
        run([*aws, "s3", "cp", str(src), "s3://large/large.bin"], env)
        run([*aws, "s3", "cp", "s3://large/large.bin", str(dst)], env)
        assert dst.stat().st_size == src.stat().st_size
        assert sha256_of(dst) == sha256_of(src)
        head = endpoint.store.root.head_object("large", "large.bin")
    finally:
        # 6 GiB (file, copy, chunks) must not stay on disk for the rest of the run.
        src.unlink(missing_ok=True)
        dst.unlink(missing_ok=True)
        with contextlib.suppress(objstore.errors.NoSuchKey, objstore.errors.NoSuchBucket):
            endpoint.store.root.delete_object("large", "large.bin")
        endpoint.store.gc()
    assert head.size == 2048 << 20
    assert head.etag.endswith('-256"')  # 8 MiB parts, as the cli cuts them


# -------------------------------------------------------------------- rclone


def test_rclone_copy_sync_check(endpoint: Endpoint, tmp_path: Path) -> None:
    rclone = program("rclone")
    env = endpoint.rclone_env(tmp_path)
    endpoint.store.root.create_bucket("rcl")
    src = tmp_path / "src"
    files = write_tree(src)

    run([rclone, "copy", str(src), "obj:rcl/copy"], env)
    for name, data in files.items():
        assert stored(endpoint.store, "rcl", f"copy/{name}") == data
    run([rclone, "check", "--download", str(src), "obj:rcl/copy"], env)

    (src / "a.txt").write_bytes(b"changed\n")
    (src / "sub" / "b.bin").unlink()
    run([rclone, "sync", str(src), "obj:rcl/copy"], env)
    assert stored(endpoint.store, "rcl", "copy/a.txt") == b"changed\n"
    keys = {o.key for o in endpoint.store.root.list_objects("rcl", prefix="copy/").contents}
    assert "copy/sub/b.bin" not in keys
    run([rclone, "check", "--download", str(src), "obj:rcl/copy"], env)

    # A damaged copy is noticed: check compares the bytes, not only the listing.
    endpoint.store.root.put_object("rcl", "copy/a.txt", b"tampered\n")
    damaged = subprocess.run(
        [rclone, "check", "--download", str(src), "obj:rcl/copy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert damaged.returncode != 0


# --------------------------------------------------------------------- s3fs


def test_s3fs_round_trip(endpoint: Endpoint) -> None:
    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(
        key=endpoint.key,
        secret=endpoint.secret,
        client_kwargs={"endpoint_url": endpoint.url, "region_name": REGION},
        skip_instance_cache=True,
        use_listings_cache=False,
    )
    fs.mkdir("fsspec-bucket")
    data = os.urandom(6 * 1024 * 1024)
    with fs.open("fsspec-bucket/dir/file.bin", "wb", block_size=5 * 1024 * 1024) as f:
        f.write(data)  # larger than one block: s3fs uploads it in parts
    fs.pipe("fsspec-bucket/dir/small.txt", b"small")
    assert sorted(fs.ls("fsspec-bucket/dir")) == [
        "fsspec-bucket/dir/file.bin",
        "fsspec-bucket/dir/small.txt",
    ]
    assert fs.cat("fsspec-bucket/dir/small.txt") == b"small"
    with fs.open("fsspec-bucket/dir/file.bin", "rb") as f:
        f.seek(1_000_000)
        assert f.read(1000) == data[1_000_000:1_001_000]
    assert fs.cat("fsspec-bucket/dir/file.bin") == data
    assert fs.info("fsspec-bucket/dir/file.bin")["size"] == len(data)
    fs.rm("fsspec-bucket/dir/small.txt")
    assert not fs.exists("fsspec-bucket/dir/small.txt")
    assert stored(endpoint.store, "fsspec-bucket", "dir/file.bin") == data


# ------------------------------------------------------- anonymous (curl)


def test_anonymous_read_of_one_prefix_by_bucket_policy(endpoint: Endpoint) -> None:
    curl = program("curl")
    root = endpoint.store.root
    root.create_bucket("site")
    root.put_object("site", "public/index.html", b"<h1>hi</h1>")
    root.put_object("site", "private/secret.txt", b"keep out")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::site/public/*",
            }
        ],
    }
    root.put_bucket_policy("site", json.dumps(policy))

    def get(path: str, bucket: str = "site") -> tuple[int, bytes]:
        done = subprocess.run(
            [curl, "-s", "-o", "-", "-w", "\n%{http_code}", f"{endpoint.url}/{bucket}/{path}"],
            capture_output=True,
            timeout=60,
        )
        body, _, status = done.stdout.rpartition(b"\n")
        return int(status), body

    assert get("public/index.html") == (200, b"<h1>hi</h1>")
    status, body = get("private/secret.txt")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"keep out" not in body
    # Listing is not granted either, and a missing public key is 403 without s3:ListBucket.
    assert get("")[0] == 403
    assert get("public/nothing-here")[0] == 403
    # A bucket that does not exist is 404 NoSuchBucket for anyone, as in S3.
    status, body = get("key", bucket="no-such-bucket")
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body
    # urllib (no curl quirks): same answer.
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"{endpoint.url}/site/private/secret.txt", timeout=30)
    assert denied.value.code == 403
