"""Object attributes through the gateway with boto3: additional checksums (headers,
trailers over TLS, multipart), Content-MD5, system headers and tagging."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import ipaddress
import json
import ssl
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.gateway.s3_support import Gateway, raw_answer, served_store

MIB = 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _crc32(data: bytes) -> str:
    return _b64(zlib.crc32(data).to_bytes(4, "big"))


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with served_store(tmp_path) as gateway:
        gateway.client().create_bucket(Bucket="attrs")
        yield gateway


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_checksums_in_headers(gw: Gateway) -> None:
    """A checksum sent as a header is verified, stored and returned with ChecksumMode;
    a wrong one (or a wrong Content-MD5) stores nothing."""
    s3 = gw.client()
    data = b"checksummed bytes" * 1000
    put = s3.put_object(Bucket="attrs", Key="sha", Body=data, ChecksumAlgorithm="SHA256")
    want = _b64(hashlib.sha256(data).digest())
    assert put["ChecksumSHA256"] == want
    head = s3.head_object(Bucket="attrs", Key="sha", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == want
    assert "ChecksumSHA256" not in s3.head_object(Bucket="attrs", Key="sha")
    got = s3.get_object(Bucket="attrs", Key="sha", ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got["ChecksumSHA256"] == want
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="attrs", Key="bad", Body=data, ChecksumCRC32=_crc32(b"other"))
    assert _code(err) == "BadDigest"
    with pytest.raises(ClientError) as err:
        s3.put_object(
            Bucket="attrs", Key="bad", Body=data, ContentMD5=_b64(hashlib.md5(b"x").digest())
        )
    assert _code(err) == "BadDigest"
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="attrs", Key="bad")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_system_headers_round_trip(gw: Gateway) -> None:
    """Cache-Control, Content-Disposition, -Encoding, -Language and Expires are kept."""
    s3 = gw.client()
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    s3.put_object(
        Bucket="attrs",
        Key="sys",
        Body=b"x",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="a.txt"',
        ContentEncoding="identity",
        ContentLanguage="de",
        Expires=expires,
    )
    for got in (
        s3.head_object(Bucket="attrs", Key="sys"),
        s3.get_object(Bucket="attrs", Key="sys"),
    ):
        assert got["CacheControl"] == "max-age=60"
        assert got["ContentDisposition"] == 'attachment; filename="a.txt"'
        assert got["ContentEncoding"] == "identity"
        assert got["ContentLanguage"] == "de"
        assert got["Expires"] == expires


def test_tagging(gw: Gateway) -> None:
    """Tags on PUT (x-amz-tagging), Put/Get/DeleteObjectTagging, TagCount, copy directive."""
    s3 = gw.client()
    s3.put_object(Bucket="attrs", Key="t", Body=b"x", Tagging="team=a b&env=prod")
    tags = s3.get_object_tagging(Bucket="attrs", Key="t")["TagSet"]
    # S3 defines no order for a tag set; objstore lists it sorted by key.
    assert tags == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a b"}]
    assert s3.get_object(Bucket="attrs", Key="t")["TagCount"] == 2
    s3.put_object_tagging(
        Bucket="attrs", Key="t", Tagging={"TagSet": [{"Key": "only", "Value": "one"}]}
    )
    tags = s3.get_object_tagging(Bucket="attrs", Key="t")["TagSet"]
    assert tags == [{"Key": "only", "Value": "one"}]
    s3.copy_object(Bucket="attrs", Key="t2", CopySource="attrs/t")
    assert s3.get_object_tagging(Bucket="attrs", Key="t2")["TagSet"] == tags
    s3.copy_object(
        Bucket="attrs", Key="t3", CopySource="attrs/t", TaggingDirective="REPLACE", Tagging="n=1"
    )
    assert s3.get_object_tagging(Bucket="attrs", Key="t3")["TagSet"] == [{"Key": "n", "Value": "1"}]
    with pytest.raises(ClientError) as err:
        s3.put_object_tagging(
            Bucket="attrs",
            Key="t",
            Tagging={"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]},
        )
    assert _code(err) == "InvalidTag"
    s3.delete_object_tagging(Bucket="attrs", Key="t")
    assert s3.get_object_tagging(Bucket="attrs", Key="t")["TagSet"] == []


def test_multipart_checksums(gw: Gateway) -> None:
    """CRC32 parts are checked and listed; completion gives the composite checksum."""
    s3 = gw.client()
    parts = [b"p" * (5 * MIB), b"q" * 1000]
    uid = s3.create_multipart_upload(Bucket="attrs", Key="mp", ChecksumAlgorithm="CRC32")[
        "UploadId"
    ]
    done = []
    for number, data in enumerate(parts, 1):
        out = s3.upload_part(
            Bucket="attrs",
            Key="mp",
            UploadId=uid,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="CRC32",
        )
        assert out["ChecksumCRC32"] == _crc32(data)
        done.append(
            {"PartNumber": number, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]}
        )
    page = s3.list_parts(Bucket="attrs", Key="mp", UploadId=uid)
    listed = page["Parts"]
    assert [p["ChecksumCRC32"] for p in listed] == [_crc32(p) for p in parts]
    # The upload's algorithm and type, as S3's ListParts answers them.
    assert (page["ChecksumAlgorithm"], page["ChecksumType"]) == ("CRC32", "COMPOSITE")
    result = s3.complete_multipart_upload(
        Bucket="attrs", Key="mp", UploadId=uid, MultipartUpload={"Parts": done}
    )
    joined = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    assert result["ChecksumCRC32"] == f"{_crc32(joined)}-2"
    head = s3.head_object(Bucket="attrs", Key="mp", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == f"{_crc32(joined)}-2"


@pytest.mark.parametrize(
    "algorithm, checksum_type", [("SHA1", "COMPOSITE"), ("CRC32", "FULL_OBJECT")]
)
def test_multipart_checksum_type_and_part_checksums(
    gw: Gateway, algorithm: str, checksum_type: str
) -> None:
    """Regression (s3-tests test_multipart_use_cksum_helper_*): every checksum answer of
    a multipart object names its ChecksumType, and a GET/HEAD of one part (checksum
    mode) answers that part's checksum, as S3 does."""
    s3 = gw.client()
    parts = [b"a" * (5 * MIB), b"b" * (5 * MIB), b"c" * 1000]

    def digest(data: bytes) -> bytes:
        if algorithm == "SHA1":
            return hashlib.sha1(data).digest()
        return zlib.crc32(data).to_bytes(4, "big")

    created = s3.create_multipart_upload(
        Bucket="attrs", Key="typed", ChecksumAlgorithm=algorithm, ChecksumType=checksum_type
    )
    assert created["ChecksumAlgorithm"] == algorithm
    assert created["ChecksumType"] == checksum_type
    uid, name, done = created["UploadId"], f"Checksum{algorithm}", []
    for number, data in enumerate(parts, 1):
        out = s3.upload_part(
            Bucket="attrs",
            Key="typed",
            UploadId=uid,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm=algorithm,
        )
        done.append({"PartNumber": number, "ETag": out["ETag"], name: out[name]})
    result = s3.complete_multipart_upload(
        Bucket="attrs", Key="typed", UploadId=uid, MultipartUpload={"Parts": done}
    )
    if checksum_type == "COMPOSITE":
        whole = f"{_b64(digest(b''.join(digest(p) for p in parts)))}-{len(parts)}"
    else:
        whole = _b64(digest(b"".join(parts)))
    assert result[name] == whole and result["ChecksumType"] == checksum_type
    assert name not in s3.head_object(Bucket="attrs", Key="typed")
    head = s3.head_object(Bucket="attrs", Key="typed", ChecksumMode="ENABLED")
    assert head[name] == whole and head["ChecksumType"] == checksum_type
    attributes = s3.get_object_attributes(
        Bucket="attrs", Key="typed", ObjectAttributes=["Checksum"]
    )["Checksum"]
    assert attributes[name] == whole and attributes["ChecksumType"] == checksum_type
    for number, data in enumerate(parts, 1):
        got = s3.get_object(Bucket="attrs", Key="typed", PartNumber=number, ChecksumMode="ENABLED")
        assert got["Body"].read() == data
        assert got[name] == _b64(digest(data)) and got["ChecksumType"] == checksum_type
        one = s3.head_object(Bucket="attrs", Key="typed", PartNumber=number, ChecksumMode="ENABLED")
        assert one[name] == _b64(digest(data)) and one["ChecksumType"] == checksum_type
        assert name not in s3.head_object(Bucket="attrs", Key="typed", PartNumber=number)
    # A range is not a part: no checksum describes it.
    ranged = s3.get_object(Bucket="attrs", Key="typed", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert name not in ranged and "ChecksumType" not in ranged


def test_create_multipart_upload_answers_the_checksum_type_in_force(gw: Gateway) -> None:
    """CreateMultipartUpload answers the checksum type the upload will use, S3's default
    when the client names only an algorithm (COMPOSITE; FULL_OBJECT for CRC64NVME)."""
    s3 = gw.client()
    for algorithm, named, want in [
        ("SHA256", None, "COMPOSITE"),
        ("CRC64NVME", None, "FULL_OBJECT"),
        ("CRC32C", "FULL_OBJECT", "FULL_OBJECT"),
    ]:
        extra = {} if named is None else {"ChecksumType": named}
        out = s3.create_multipart_upload(
            Bucket="attrs", Key="t", ChecksumAlgorithm=algorithm, **extra
        )
        assert (out["ChecksumAlgorithm"], out["ChecksumType"]) == (algorithm, want)
    plain = s3.create_multipart_upload(Bucket="attrs", Key="t")
    assert "ChecksumAlgorithm" not in plain and "ChecksumType" not in plain


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx, str(cert_path)


@pytest.mark.parametrize("payload_signing", [False, True])
def test_boto3_defaults_over_tls(tmp_path: Path, payload_signing: bool) -> None:
    """Over HTTPS boto3 streams uploads aws-chunked with a checksum trailer (signed
    chunks too with ``payload_signing_enabled``): objects and parts arrive whole and
    their CRC32 is verified and kept."""
    from boto3.s3.transfer import TransferConfig

    ctx, cert = _self_signed(tmp_path)
    with served_store(tmp_path, ssl_context=ctx) as gw:
        s3 = gw.client(s3={"addressing_style": "path", "payload_signing_enabled": payload_signing})
        s3._endpoint.http_session._verify = cert
        s3.create_bucket(Bucket="tls")
        data = bytes(range(256)) * 4096
        put = s3.put_object(Bucket="tls", Key="one", Body=data)
        assert put["ChecksumCRC32"] == _crc32(data)
        got = s3.get_object(Bucket="tls", Key="one", ChecksumMode="ENABLED")
        assert got["Body"].read() == data and got["ChecksumCRC32"] == _crc32(data)
        big = tmp_path / "big.bin"
        big.write_bytes(b"z" * (6 * MIB) + data)
        cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
        s3.upload_file(str(big), "tls", "big", Config=cfg)
        out = tmp_path / "out.bin"
        s3.download_file("tls", "big", str(out))
        assert out.read_bytes() == big.read_bytes()
        assert s3.head_object(Bucket="tls", Key="big")["ContentLength"] == big.stat().st_size


def _put_with_trailer(url: str, path: str, name: str, value: str, data: bytes) -> int:
    """An unsigned STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT announcing trailer ``name``."""
    body = b"%x\r\n%s\r\n0\r\n%s:%s\r\n\r\n" % (len(data), data, name.encode(), value.encode())
    conn = http.client.HTTPConnection(urlsplit(url).netloc, timeout=30)
    conn.request(
        "PUT",
        path,
        body,
        {
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": name,
        },
    )
    answer = conn.getresponse()
    text = answer.read()
    conn.close()
    assert answer.status == 200 or b"InvalidRequest" in text or b"BadDigest" in text
    return answer.status


@pytest.mark.parametrize(
    "name", ["x-amz-checksum-sha512", "x-amz-checksum-md5", "x-amz-checksum-crc23", "x-amz-meta-a"]
)
def test_trailer_of_an_unknown_checksum_is_refused(gw: Gateway, name: str) -> None:
    """Review rev11b F6: an announced trailer objstore cannot compute was read, never
    compared, and the body stored (200) whatever its value. S3 refuses it (400
    InvalidRequest) before anything is stored."""
    allow_put = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::attrs/*",
            }
        ],
    }
    s3 = gw.client()
    s3.put_bucket_policy(Bucket="attrs", Policy=json.dumps(allow_put))
    s3.put_object(Bucket="attrs", Key="k", Body=b"ORIGINAL")
    data = b"checked, the client believes"
    assert _put_with_trailer(gw.url, "/attrs/k", name, "A" * 86 + "==", data) == 400
    assert s3.get_object(Bucket="attrs", Key="k")["Body"].read() == b"ORIGINAL"
    # The known algorithm: a wrong value is BadDigest, the right one stores the bytes.
    assert _put_with_trailer(gw.url, "/attrs/k", "x-amz-checksum-crc32", _crc32(b"x"), data) == 400
    assert _put_with_trailer(gw.url, "/attrs/k", "x-amz-checksum-crc32", _crc32(data), data) == 200
    assert s3.get_object(Bucket="attrs", Key="k")["Body"].read() == data


_TAGS = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
_VERSIONING = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"


@pytest.mark.parametrize(
    ("path", "body"),
    [("/attrs/o?tagging", _TAGS), ("/attrs?tagging", _TAGS), ("/attrs?versioning", _VERSIONING)],
)
@pytest.mark.parametrize("header", ["Content-MD5", "x-amz-checksum-crc32", "x-amz-checksum-sha256"])
def test_configuration_puts_check_the_digest_they_are_sent(
    gw: Gateway, path: str, body: bytes, header: str
) -> None:
    """A configuration PUT's Content-MD5 / x-amz-checksum-* was ignored: a body damaged
    on the way (tags, a policy, versioning) was applied. S3 answers BadDigest."""
    s3 = gw.client()
    s3.put_object(Bucket="attrs", Key="o", Body=b"x")

    def digest(data: bytes) -> str:
        return {
            "Content-MD5": _b64(hashlib.md5(data).digest()),
            "x-amz-checksum-crc32": _crc32(data),
            "x-amz-checksum-sha256": _b64(hashlib.sha256(data).digest()),
        }[header]

    wrong = raw_answer(gw, "PUT", path, body, headers={header: digest(body + b" ")})
    assert wrong.startswith(b"HTTP/1.1 400") and b"<Code>BadDigest</Code>" in wrong, wrong
    assert not s3.get_object_tagging(Bucket="attrs", Key="o")["TagSet"]
    assert not s3.get_bucket_versioning(Bucket="attrs").get("Status")
    right = raw_answer(gw, "PUT", path, body, headers={header: digest(body)})
    assert right.split(b" ", 2)[1] in (b"200", b"204"), right
