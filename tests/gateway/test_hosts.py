"""Which bucket a Host names, one rule for routing and for SigV2's signed resource."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import objstore
from objstore.gateway.hosts import VirtualHosts
from objstore.testing import Server
from tests.gateway.signing import capture, client


def test_a_served_domain_is_path_style_even_under_another() -> None:
    hosts = VirtualHosts(["localhost", "obj.localhost", "."])
    assert hosts.bucket_of("obj.localhost:9000") is None  # served itself: path style
    assert hosts.bucket_of("b.obj.localhost") == "b"  # longest domain first
    assert hosts.bucket_of("obj2.localhost") == "obj2"
    assert hosts.bucket_of("LOCALHOST") is None
    assert hosts.bucket_of("[::1]:9000") is None
    assert hosts.bucket_of("example.com") is None


def test_a_sigv2_url_signed_for_one_object_does_not_reach_another(tmp_path: Path) -> None:
    """Review 10c, F8: with ``--domain localhost --domain obj.localhost``, a SigV2 URL
    presigned for bucket ``obj``, key ``seed/k``, sent to ``Host: obj.localhost`` as
    ``/seed/k``, was verified as ``/obj/seed/k`` but served bucket ``seed``, key ``k``;
    a PUT URL overwrote ``seed/victim``."""
    with objstore.open(tmp_path / "s") as store:
        key = store.root.iam.create_access_key()
        c = store.root
        c.create_bucket("obj")
        c.create_bucket("seed")
        c.put_object("obj", "seed/k", b"shared")
        c.put_object("seed", "k", b"secret")
        c.put_object("seed", "victim", b"original")
        with Server(store, domains=["localhost", "obj.localhost"]) as url:
            v2 = client(
                endpoint=url,
                key=key.access_key_id,
                secret=key.secret_access_key,
                signature_version="s3",
                s3={"addressing_style": "path"},
            )
            port = urlsplit(url).port
            for method, s3_key, body in (("GET", "seed/k", b""), ("PUT", "seed/victim", b"X")):
                op = "get_object" if method == "GET" else "put_object"
                signed = urlsplit(
                    v2.generate_presigned_url(op, Params={"Bucket": "obj", "Key": s3_key})
                )
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(
                    method,
                    f"/{s3_key}?{signed.query}",
                    body=body,
                    headers={"Host": f"obj.localhost:{port}"},
                )
                answer = conn.getresponse()
                assert answer.status == 403, answer.read()
                conn.close()
        assert c.get_object("seed", "victim").read() == b"original"


@pytest.mark.parametrize("domains", [["localhost", "s3.localhost"]])
def test_the_default_shape_routes_as_before(domains: list[str]) -> None:
    hosts = VirtualHosts(domains)
    assert hosts.bucket_of("bkt.s3.localhost") == "bkt"
    assert hosts.bucket_of("bkt.localhost") == "bkt"
    assert hosts.bucket_of("s3.localhost") is None


def test_a_domain_given_with_a_port_still_serves_its_buckets() -> None:
    """Review rev11b F8: ``--domain s3.example.com:9000`` never matched (the Host's port
    is dropped, the domain's was not), so ``PUT /logs`` to ``bkt.s3.example.com:9000``
    (PutObject bkt/logs) was read path-style as CreateBucket ``logs``."""
    hosts = VirtualHosts(["s3.example.com:9000", "[::1]", "."])
    assert hosts.bucket_of("bkt.s3.example.com:9000") == "bkt"
    assert hosts.bucket_of("bkt.s3.example.com") == "bkt"
    assert hosts.bucket_of("s3.example.com:9000") is None
    assert hosts.bucket_of("[::1]:9000") is None


def test_a_domain_with_a_port_over_http(tmp_path: Path) -> None:
    with objstore.open(tmp_path / "s") as store:
        key = store.root.iam.create_access_key()
        store.root.create_bucket("bkt")
        with Server(store, domains=["s3.example.com:9000"]) as url:
            port = urlsplit(url).port
            s3 = client(
                endpoint=f"http://s3.example.com:{port}",
                key=key.access_key_id,
                secret=key.secret_access_key,
                signature_version="s3v4",
                s3={"addressing_style": "virtual"},
            )
            wire = capture(s3, "put_object", Bucket="bkt", Key="logs", Body=b"")
            assert wire.header("Host") == f"bkt.s3.example.com:{port}"
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("PUT", wire.target, body=b"", headers=dict(wire.headers))
            answer = conn.getresponse()
            assert answer.status == 200, answer.read()
            conn.close()
        assert store.root.head_object("bkt", "logs").size == 0
        assert [b.name for b in store.root.list_buckets()] == ["bkt"]
