"""Which bucket a Host names, one rule for routing and for SigV2's signed resource."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import objstore
from objstore.gateway.hosts import VirtualHosts
from objstore.testing import Server
from tests.gateway.signing import client


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
