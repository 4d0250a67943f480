"""Authentication through the whole gateway over real sockets (HTTP and HTTPS).

boto3's defaults over TLS (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer),
signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, which the AWS SDKs for
Java/Go and minio clients send) and ``aws:SecureTransport`` coming from the connection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import ipaddress
import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import objstore
from objstore.gateway import chunked, sigv4
from objstore.testing import Server
from tests.gateway.signing import client

CERT: list[str] = []  # the test certificate's file, which clients trust


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    CERT[:] = [str(folder / "cert.pem")]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@pytest.fixture
def store() -> Iterator[objstore.Store]:
    s = objstore.open(None)
    try:
        yield s
    finally:
        s.close()


def boto(url: str, key: Any, **config: Any) -> Any:
    trust = CERT[0] if url.startswith("https:") else True
    return client(
        endpoint=url, key=key.access_key_id, secret=key.secret_access_key, verify=trust, **config
    )


def test_boto3_defaults_over_tls(store: objstore.Store, tls: ssl.SSLContext) -> None:
    key = store.root.iam.create_access_key()
    store.root.create_bucket("bkt")
    data = bytes(range(256)) * 4000
    with Server(store, ssl_context=tls) as url:
        s3 = boto(url, key)
        s3.put_object(Bucket="bkt", Key="trailer", Body=data)  # aws-chunked + CRC32 trailer
        assert s3.get_object(Bucket="bkt", Key="trailer")["Body"].read() == data
        signed = boto(url, key, s3={"payload_signing_enabled": True})
        signed.put_object(Bucket="bkt", Key="signed", Body=data)
        assert signed.get_object(Bucket="bkt", Key="signed")["Body"].read() == data
    assert store.root.get_object("bkt", "trailer").read() == data


def _seed(
    host: str, path: str, length: int, encoded: int, key: Any, now: float
) -> tuple[list[tuple[str, str]], sigv4.SignedRequest, bytes]:
    """Headers of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT, their seed signature."""
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    headers = [
        ("Host", host),
        ("x-amz-date", amz_date),
        ("x-amz-content-sha256", sigv4.STREAMING_SIGNED),
        ("x-amz-decoded-content-length", str(length)),
        ("Content-Encoding", "aws-chunked"),
        ("Content-Length", str(encoded)),
    ]
    names = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
    names += "x-amz-decoded-content-length"
    scope = sigv4.Scope(amz_date[:8], "us-east-1", "s3")
    draft = f"AWS4-HMAC-SHA256 Credential={key.access_key_id}/{scope}, SignedHeaders={names}, "
    unsigned = sigv4.parse("PUT", path, "", [*headers, ("Authorization", draft + "Signature=x")])
    assert unsigned is not None
    signing = sigv4.signing_key(key.secret_access_key, scope)
    seed = sigv4.sign(
        signing,
        unsigned.string_to_sign(unsigned.canonical_request(path, sigv4.STREAMING_SIGNED)),
    )
    headers.append(("Authorization", draft + f"Signature={seed}"))
    req = sigv4.parse("PUT", path, "", headers)
    assert req is not None
    return headers, req, signing


def _encode(req: sigv4.SignedRequest, signing: bytes, chunks: list[bytes]) -> bytes:
    out, previous = [], req.signature
    for data in [*chunks, b""]:
        digest = hashlib.sha256(data).hexdigest()
        previous = sigv4.sign(signing, chunked.chunk_string_to_sign(req, previous, digest))
        out.append(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(data), previous.encode(), data))
    return b"".join(out)


def _put_chunked(url: str, key: Any, path: str, chunks: list[bytes], corrupt: bool) -> int:
    host = urlsplit(url).netloc
    data = b"".join(chunks)
    # Sized with the signatures in place (their length is fixed), then signed for real.
    probe = _seed(host, path, len(data), 0, key, time.time())
    size = len(_encode(probe[1], probe[2], chunks))
    headers, req, signing = _seed(host, path, len(data), size, key, time.time())
    body = _encode(req, signing, chunks)
    if corrupt:
        body = body.replace(b"tail", b"TAIL")
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    conn.endheaders(body)
    status = conn.getresponse().status
    conn.close()
    return status


def test_signed_chunked_upload(store: objstore.Store) -> None:
    key = store.root.iam.create_access_key()
    store.root.create_bucket("bkt")
    chunks = [b"a" * 65536, b"b" * 70000, b"the tail"]
    with Server(store) as url:
        assert _put_chunked(url, key, "/bkt/ok", chunks, corrupt=False) == 200
        assert _put_chunked(url, key, "/bkt/bad", chunks, corrupt=True) == 403
    assert store.root.get_object("bkt", "ok").read() == b"".join(chunks)
    with pytest.raises(objstore.errors.NoSuchKey):
        store.root.get_object("bkt", "bad")


def test_secure_transport_comes_from_the_connection(
    store: objstore.Store, tls: ssl.SSLContext
) -> None:
    store.root.iam.create_user("alice")
    alice = store.root.iam.create_access_key("alice")
    store.root.create_bucket("bkt")
    store.root.put_object("bkt", "k", b"secret")
    arn = store.root.iam.get_user("alice").arn
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": arn},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bkt/*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ],
    }
    store.root.put_bucket_policy("bkt", json.dumps(policy))
    with Server(store, ssl_context=tls) as secure, Server(store) as plain:
        assert boto(secure, alice).get_object(Bucket="bkt", Key="k")["Body"].read() == b"secret"
        with pytest.raises(Exception, match="AccessDenied"):
            boto(plain, alice).get_object(Bucket="bkt", Key="k")
