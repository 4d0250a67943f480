"""Several nodes, one store: processes with state of their own over the same backends
behave as one store (docs/scale-out.md, "Several nodes, one store").

Every node is a separate process (spawned, or ``objstore serve`` on a port of its own);
nothing is shared between them but the two backends and the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from objstore.errors import (
    ConditionalRequestConflict,
    NoSuchKey,
    PreconditionFailed,
)
from tests.backends.nodes import Backends, Node, ServeNode, content

CHURN_SECONDS = 4.0
LEASE_TTL = 2.0
CHUNK = 16 * 1024  # bodies of several chunks: dedup and gc work chunk by chunk


@pytest.fixture(scope="module")
def nodes(backends: Backends) -> Iterator[list[Node]]:
    """Three nodes over the pair's store (shared by this module's tests). A short lease
    ttl: each node republishes what it protects every ttl/4, and gc elsewhere can only
    collect what every live lease has moved past."""
    # The first creates the store; the others start side by side once it exists
    # (several opening an empty store at once: the test below).
    started = [Node(backends, lease_ttl=LEASE_TTL, chunk_size=CHUNK).ready()]
    try:
        started += [Node(backends, lease_ttl=LEASE_TTL, chunk_size=CHUNK) for _ in range(2)]
        for node in started[1:]:
            node.ready()
        yield started
    finally:
        for node in started:
            node.close()


def test_nodes_opening_an_empty_store_at_once_agree(fresh_backends: Backends) -> None:
    """Three nodes open backends that hold no store yet, at the same moment: one
    store comes out (one identity, one key check), and each sees the others' writes."""
    started = [Node(fresh_backends) for _ in range(3)]
    try:
        for node in started:
            node.ready()
        started[0]("call", "root.create_bucket", "first-bkt")
        for i, node in enumerate(started):
            node("put", "first-bkt", f"from-{i}", f"node {i}".encode())
        for node in started:
            assert node("list", "first-bkt") == ["from-0", "from-1", "from-2"]
            assert node("get", "first-bkt", "from-1") == b"node 1"
    finally:
        for node in started:
            node.close()


@pytest.fixture
def bucket(nodes: list[Node], request: pytest.FixtureRequest) -> str:
    """A bucket of the test's own, made through the first node."""
    short = request.node.name.split("[")[0].removeprefix("test_")[:40].replace("_", "-")
    name = f"n{os.urandom(3).hex()}-{short}"
    nodes[0]("call", "root.create_bucket", name)
    return name


def test_read_and_list_after_write_across_nodes(nodes: list[Node], bucket: str) -> None:
    a, b, c = nodes
    for i in range(12):
        body = os.urandom(100 + i * 997)  # inline and chunked bodies
        a("put", bucket, f"k{i:02}", body)
        # The next request on another node sees the write, and lists it.
        assert b("get", bucket, f"k{i:02}") == body
        assert c("list", bucket) == [f"k{j:02}" for j in range(i + 1)]
    b("put", bucket, "k03", b"overwritten on b")
    assert a("get", bucket, "k03") == b"overwritten on b"
    c("call", "root.delete_object", bucket, "k05")
    with pytest.raises(NoSuchKey):
        a("get", bucket, "k05")
    assert "k05" not in b("list", bucket)
    # Versions made on different nodes form one history, newest first.
    a("call", "root.put_bucket_versioning", bucket, "Enabled")
    ids = [node("put", bucket, "v", f"from {n}".encode())[1] for n, node in enumerate(nodes)]
    versions = c("call", "root.list_object_versions", bucket, prefix="v")["versions"]
    assert [v["version_id"] for v in versions] == ids[::-1]
    assert b("get", bucket, "v") == b"from 2"
    # Last-Modified never goes back on a key (nodes' clocks may differ).
    stamps = [v["last_modified"] for v in versions]
    assert stamps == sorted(stamps, reverse=True)


def test_conditional_writes_race_across_nodes(nodes: list[Node], bucket: str) -> None:
    """Two nodes PUT the same keys at the same moment with If-None-Match: * (then with
    If-Match on one ETag): exactly one wins each key, the other is refused."""
    a, b, _ = nodes
    keys = [f"race/{i}" for i in range(16)]
    bodies = [os.urandom(300_000), os.urandom(300_000)]  # chunked: the ingests overlap
    start = time.time() + 1.0
    for node, body in zip((a, b), bodies, strict=True):
        node.send("race", bucket, keys, body, start, if_none_match="*")
    outcomes = [a.result(), b.result()]
    losers = {PreconditionFailed.code, ConditionalRequestConflict.code}
    for i, key in enumerate(keys):
        got = [outcomes[0][i], outcomes[1][i]]
        assert got.count("ok") == 1, got
        assert set(got) - {"ok"} <= losers
        assert a("get", bucket, key) == bodies[got.index("ok")]
    # If-Match: both start from the same ETag; one replaces it, the other must not.
    etags = [a("put", bucket, key, b"base")[0] for key in keys]
    assert len(set(etags)) == 1
    start = time.time() + 1.0
    for node, body in zip((a, b), bodies, strict=True):
        node.send("race", bucket, keys, body, start, if_match=etags[0])
    outcomes = [a.result(), b.result()]
    for i, key in enumerate(keys):
        got = [outcomes[0][i], outcomes[1][i]]
        assert got.count("ok") == 1 and set(got) - {"ok"} <= losers, got
        assert b("get", bucket, key) == bodies[got.index("ok")]


@pytest.mark.parametrize(
    "seconds", [CHURN_SECONDS, pytest.param(15.0, marks=pytest.mark.slow, id="long")]
)
def test_gc_across_nodes_keeps_every_acknowledged_object(
    nodes: list[Node], bucket: str, seconds: float
) -> None:
    """Two nodes write, overwrite and delete objects made of shared contents (their
    chunks dedup across the nodes) while a third collects garbage in a loop; then every
    acknowledged object reads back intact through another node and fsck is clean."""
    w1, w2, collector = nodes
    until = time.time() + seconds
    collector.send("gc_until", until)
    w1.send("churn", bucket, "one/", until, 5, 70_000)
    w2.send("churn", bucket, "two/", until, 5, 70_000)
    one, two, collected = w1.result(), w2.result(), collector.result()
    assert one["rounds"] > 10 and two["rounds"] > 10 and collected["passes"] > 3
    # It did collect while they wrote. (No other handle may be open on the store
    # meanwhile: a lease renewed only every 150 s would hold the horizon back; the
    # `objstore serve` nodes of this module start after this test.)
    assert collected["bodies_dropped"] > 0
    acked = {**one["acked"], **two["acked"]}
    for key, digest in acked.items():
        reader = w2 if key.startswith("one/") else w1  # not the node that wrote it
        assert hashlib.sha256(reader("get", bucket, key)).hexdigest() == digest, key
    assert set(collector("list", bucket)) == set(acked)
    for node in nodes:  # every node's view collected, then checked
        node("call", "gc")
    report = collector("fsck")
    assert report["healthy"], report
    for key, digest in acked.items():
        assert hashlib.sha256(collector("get", bucket, key)).hexdigest() == digest


# ------------------------------------------------------------------ through the gateway


@pytest.fixture(scope="module")
def served(backends: Backends) -> Iterator[tuple[list[ServeNode], tuple[str, str]]]:
    """Three `objstore serve --metadata --chunks` processes; the root's access key."""
    with backends.open(gc_interval=None) as store:
        key = store.root.iam.create_access_key()
    started: list[ServeNode] = []
    try:
        started += [ServeNode(backends) for _ in range(3)]
        for node in started:
            node.ready()
        yield started, (key.access_key_id, key.secret_access_key)
    finally:
        for node in started:
            node.close()


def s3(url: str, keys: tuple[str, str], service: str = "s3") -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def test_multipart_parts_through_different_nodes(
    served: tuple[list[ServeNode], tuple[str, str]],
) -> None:
    (a, b, c), root = served
    ca, cb, cc = (s3(n.url, root) for n in (a, b, c))
    ca.create_bucket(Bucket="mpu-bkt")
    up = ca.create_multipart_upload(Bucket="mpu-bkt", Key="big")["UploadId"]
    parts = [os.urandom(5 << 20), os.urandom(5 << 20), os.urandom(1000)]
    etags = []
    for n, (client, body) in enumerate(zip((ca, cb, cc), parts, strict=True), start=1):
        r = client.upload_part(Bucket="mpu-bkt", Key="big", UploadId=up, PartNumber=n, Body=body)
        etags.append(r["ETag"])
    listed = cb.list_parts(Bucket="mpu-bkt", Key="big", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in listed] == list(enumerate(etags, start=1))
    cc.complete_multipart_upload(
        Bucket="mpu-bkt",
        Key="big",
        UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]},
    )
    assert ca.get_object(Bucket="mpu-bkt", Key="big")["Body"].read() == b"".join(parts)
    assert cb.list_multipart_uploads(Bucket="mpu-bkt").get("Uploads", []) == []


def test_iam_changes_apply_on_every_node_at_the_next_request(
    served: tuple[list[ServeNode], tuple[str, str]],
) -> None:
    (a, b, c), root = served
    s3(a.url, root).create_bucket(Bucket="iam-bkt")
    iam = s3(a.url, root, "iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = (key["AccessKeyId"], key["SecretAccessKey"])
    on_b, on_c = s3(b.url, alice), s3(c.url, alice)
    with pytest.raises(ClientError, match="AccessDenied"):
        on_b.put_object(Bucket="iam-bkt", Key="k", Body=b"no policy yet")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="alice", PolicyName="all", PolicyDocument=json.dumps(policy))
    on_b.put_object(Bucket="iam-bkt", Key="k", Body=b"allowed")  # the very next request
    assert on_c.get_object(Bucket="iam-bkt", Key="k")["Body"].read() == b"allowed"
    # Temporary credentials made on one node are good on the others (one sealing key).
    sts = s3(c.url, alice, "sts").get_session_token()["Credentials"]
    temp = boto3.client(
        "s3",
        endpoint_url=b.url,
        aws_access_key_id=sts["AccessKeyId"],
        aws_secret_access_key=sts["SecretAccessKey"],
        aws_session_token=sts["SessionToken"],
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )
    assert temp.get_object(Bucket="iam-bkt", Key="k")["Body"].read() == b"allowed"
    # Taking the policy away on node a stops alice on b and c at once.
    s3(b.url, root, "iam").delete_user_policy(UserName="alice", PolicyName="all")
    with pytest.raises(ClientError, match="AccessDenied"):
        on_c.get_object(Bucket="iam-bkt", Key="k")
    with pytest.raises(ClientError, match="AccessDenied"):
        temp.get_object(Bucket="iam-bkt", Key="k")
    iam.put_user_policy(UserName="alice", PolicyName="all", PolicyDocument=json.dumps(policy))
    assert on_b.get_object(Bucket="iam-bkt", Key="k")["Body"].read() == b"allowed"
    # A bucket policy put through one node denies on another at the next request.
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": iam.get_user(UserName="alice")["User"]["Arn"]},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::iam-bkt/*",
            }
        ],
    }
    s3(a.url, root).put_bucket_policy(Bucket="iam-bkt", Policy=json.dumps(deny))
    with pytest.raises(ClientError, match="AccessDenied"):
        on_c.get_object(Bucket="iam-bkt", Key="k")
    s3(c.url, root).delete_bucket_policy(Bucket="iam-bkt")
    assert on_b.get_object(Bucket="iam-bkt", Key="k")["Body"].read() == b"allowed"
    # A tag set on one node reaches aws:PrincipalTag on another at the next request, for the
    # long-term key and the session made from it alike.
    frozen = {
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/frozen": "yes"}},
    }
    policy["Statement"].append(frozen)
    iam.put_user_policy(UserName="alice", PolicyName="all", PolicyDocument=json.dumps(policy))
    assert on_b.get_object(Bucket="iam-bkt", Key="k")["Body"].read() == b"allowed"
    iam.tag_user(UserName="alice", Tags=[{"Key": "frozen", "Value": "yes"}])
    with pytest.raises(ClientError, match="AccessDenied"):
        on_b.get_object(Bucket="iam-bkt", Key="k")
    with pytest.raises(ClientError, match="AccessDenied"):
        temp.get_object(Bucket="iam-bkt", Key="k")
    s3(c.url, root, "iam").untag_user(UserName="alice", TagKeys=["frozen"])
    assert on_b.get_object(Bucket="iam-bkt", Key="k")["Body"].read() == b"allowed"
    # A key deactivated on one node is refused by the others at once.
    s3(c.url, root, "iam").update_access_key(
        UserName="alice", AccessKeyId=alice[0], Status="Inactive"
    )
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        on_b.get_object(Bucket="iam-bkt", Key="k")


def test_shared_content_written_through_two_nodes_is_stored_once(
    served: tuple[list[ServeNode], tuple[str, str]], backends: Backends
) -> None:
    (a, b, _), root = served
    s3(a.url, root).create_bucket(Bucket="dedup-bkt")
    body = content(7, 3 << 20)
    with backends.open(gc_interval=None) as store:
        before = store.stats()
    s3(a.url, root).put_object(Bucket="dedup-bkt", Key="x", Body=body)
    s3(b.url, root).put_object(Bucket="dedup-bkt", Key="y", Body=body)
    with backends.open(gc_interval=None) as store:
        after = store.stats()
    assert after.objects == before.objects + 2
    assert after.stored_bytes - before.stored_bytes < len(body) * 1.01


def test_if_none_match_races_between_two_servers(
    served: tuple[list[ServeNode], tuple[str, str]],
) -> None:
    """The same race through HTTP: two clients, each on its own `objstore serve`, create
    the same keys with If-None-Match: *; one 200 per key, the other 412 (or 409)."""
    (a, b, _), root = served
    clients = [s3(a.url, root), s3(b.url, root)]
    clients[0].create_bucket(Bucket="race-bkt")
    bodies = [os.urandom(200_000), os.urandom(200_000)]
    start = threading.Barrier(2)

    def run(i: int) -> list[str]:
        start.wait()
        out = []
        for k in range(8):
            try:
                clients[i].put_object(
                    Bucket="race-bkt", Key=f"k{k}", Body=bodies[i], IfNoneMatch="*"
                )
                out.append("ok")
            except ClientError as exc:
                out.append(str(exc.response["ResponseMetadata"]["HTTPStatusCode"]))
        return out

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, range(2)))
    for k in range(8):
        got = [results[0][k], results[1][k]]
        assert got.count("ok") == 1 and set(got) - {"ok"} <= {"412", "409"}, got
        stored = clients[1].get_object(Bucket="race-bkt", Key=f"k{k}")["Body"].read()
        assert stored == bodies[got.index("ok")]
