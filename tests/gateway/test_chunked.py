"""Request bodies: plain (hash-checked), aws-chunked with chunk and trailer signatures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import zlib
from collections.abc import Coroutine, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from objstore.errors import (
    IncompleteBody,
    InternalError,
    InvalidRequest,
    MalformedTrailerError,
    MaxMessageLengthExceeded,
    ObjstoreError,
    SignatureDoesNotMatch,
    XAmzContentSHA256Mismatch,
)
from objstore.gateway import chunked, sigv4
from objstore.gateway.chunked import MAX_LINE, ChunkedBody, PlainBody
from objstore.gateway.s3.attributes import checksum_args
from tests.gateway.signing import AKID, SECRET, capture, client, reader
from tests.gateway.test_sigv4 import AWS_EXAMPLE_HEADERS

# AWS's published chunked-upload example (sigv4-streaming): 65 KiB of "a" in a 64 KiB
# chunk, a 1 KiB chunk and the final empty chunk, with their published signatures.
AWS_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
AWS_CHUNKS = (b"a" * 65536, b"a" * 1024, b"")


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def aws_request() -> tuple[sigv4.SignedRequest, bytes]:
    req = sigv4.parse("PUT", "/examplebucket/chunkObject.txt", "", AWS_EXAMPLE_HEADERS)
    assert req is not None
    return req, sigv4.verify(req, SECRET, sigv4.STREAMING_SIGNED)


def frame(data: bytes, signature: str | None) -> bytes:
    ext = b"" if signature is None else b";chunk-signature=" + signature.encode()
    return b"%x%s\r\n%s" % (len(data), ext, data) + (b"\r\n" if data else b"")


def aws_body(chunks: Sequence[bytes] = AWS_CHUNKS, sigs: Sequence[str] = AWS_SIGNATURES) -> bytes:
    return b"".join(frame(c, s) for c, s in zip(chunks, sigs, strict=True)) + b"\r\n"


async def decode(body: ChunkedBody) -> bytes:
    return b"".join([piece async for piece in body])


def decode_aws(raw: bytes, *, length: int | None = 66560, split: int = 1000) -> bytes:
    req, key = aws_request()

    async def main() -> bytes:
        pieces = [raw[i : i + split] for i in range(0, len(raw), split)]
        body = ChunkedBody(
            reader(pieces), req.content_sha256 or "", decoded_length=length, request=req, key=key
        )
        return await decode(body)

    result: bytes = run(main())
    return result


def test_aws_published_example_decodes() -> None:
    raw = aws_body()
    assert len(raw) == 66824  # the example's Content-Length
    assert decode_aws(raw) == b"a" * 66560
    assert decode_aws(raw, split=1) == b"a" * 66560
    assert decode_aws(raw, length=None) == b"a" * 66560


def test_aws_example_tampering() -> None:
    with pytest.raises(SignatureDoesNotMatch):  # a byte of data changed
        decode_aws(aws_body((b"a" * 65535 + b"b", b"a" * 1024, b"")))
    with pytest.raises(SignatureDoesNotMatch):  # chunks swapped with their signatures
        decode_aws(aws_body((b"a" * 1024, b"a" * 65536, b""), (*AWS_SIGNATURES[1::-1], "x")))
    with pytest.raises(SignatureDoesNotMatch):  # the first chunk replayed
        decode_aws(frame(AWS_CHUNKS[0], AWS_SIGNATURES[0]) + aws_body(), length=None)
    with pytest.raises(SignatureDoesNotMatch):  # a forged final chunk
        decode_aws(aws_body(sigs=(*AWS_SIGNATURES[:2], "0" * 64)))


def test_aws_example_lengths() -> None:
    raw = aws_body()
    with pytest.raises(IncompleteBody):  # the connection ends early
        decode_aws(raw[:40000])
    with pytest.raises(IncompleteBody):  # cut right after the last data chunk
        decode_aws(raw[: -(84 + 2)])
    with pytest.raises(IncompleteBody):  # more declared than sent
        decode_aws(raw, length=66561)
    with pytest.raises(InvalidRequest):  # more sent than declared
        decode_aws(raw, length=66559)
    with pytest.raises(InvalidRequest):  # junk after the end
        decode_aws(raw + b"extra")


def test_chunk_framing_errors() -> None:
    with pytest.raises(InvalidRequest):  # no chunk signature in a signed mode
        decode_aws(b"5\r\naaaaa\r\n0\r\n\r\n")
    with pytest.raises(InvalidRequest):  # not a hex size
        decode_aws(b"zz;chunk-signature=" + b"0" * 64 + b"\r\n")
    with pytest.raises(InvalidRequest):  # a header line without end: bounded, refused
        decode_aws(b"1" * (MAX_LINE + 10))
    with pytest.raises(InvalidRequest):  # data longer than its chunk header says
        decode_aws(frame(b"a" * 10, AWS_SIGNATURES[0])[:-2] + b"aa\r\n")


# ------------------------------------------------------- encoders for the tests


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def signed_request(mode: str, length: int) -> tuple[sigv4.SignedRequest, bytes]:
    date = "20240101T000000Z"
    headers = [
        ("Host", "h"),
        ("x-amz-date", date),
        ("x-amz-content-sha256", mode),
        ("x-amz-decoded-content-length", str(length)),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ]
    names = "host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-trailer"
    unsigned = sigv4.parse(
        "PUT",
        "/b/k",
        "",
        [
            *headers,
            (
                "Authorization",
                f"AWS4-HMAC-SHA256 Credential={AKID}/20240101/us-east-1/s3/aws4_request, "
                f"SignedHeaders={names}, Signature={'0' * 64}",
            ),
        ],
    )
    assert unsigned is not None
    key = sigv4.signing_key(SECRET, unsigned.scope)
    seed = sigv4.sign(
        key, unsigned.string_to_sign(unsigned.canonical_request(unsigned.canonical_uris()[0], mode))
    )
    req = sigv4.parse(
        "PUT",
        "/b/k",
        "",
        [
            *headers,
            (
                "Authorization",
                f"AWS4-HMAC-SHA256 Credential={AKID}/20240101/us-east-1/s3/aws4_request, "
                f"SignedHeaders={names}, Signature={seed}",
            ),
        ],
    )
    assert req is not None
    assert sigv4.verify(req, SECRET, mode) == key
    return req, key


def encode(
    mode: str,
    chunks: Sequence[bytes],
    req: sigv4.SignedRequest | None = None,
    key: bytes | None = None,
    trailer: str | None = None,
) -> bytes:
    out = []
    previous = req.signature if req is not None else ""
    for data in [*chunks, b""]:
        sig = None
        if mode != sigv4.STREAMING_UNSIGNED_TRAILER:
            assert req is not None and key is not None
            digest = hashlib.sha256(data).hexdigest()
            sig = sigv4.sign(key, chunked.chunk_string_to_sign(req, previous, digest))
            previous = sig
        out.append(frame(data, sig))
    if mode == sigv4.STREAMING_SIGNED:
        return b"".join(out) + b"\r\n"
    line = f"x-amz-checksum-crc32:{trailer}\n"
    out.append(line.replace("\n", "\r\n").encode())
    if mode == sigv4.STREAMING_SIGNED_TRAILER:
        assert req is not None and key is not None
        digest = hashlib.sha256(line.encode()).hexdigest()
        sig = sigv4.sign(key, chunked.trailer_string_to_sign(req, previous, digest))
        out.append(f"x-amz-trailer-signature:{sig}\r\n".encode())
    return b"".join(out) + b"\r\n"


def body_for(
    mode: str,
    raw: Sequence[bytes],
    length: int | None,
    req: sigv4.SignedRequest | None,
    key: bytes | None,
) -> ChunkedBody:
    return ChunkedBody(
        reader(raw),
        mode,
        decoded_length=length,
        request=req,
        key=key,
        declared_trailers=("x-amz-checksum-crc32",),
    )


MODES = [sigv4.STREAMING_SIGNED, sigv4.STREAMING_SIGNED_TRAILER, sigv4.STREAMING_UNSIGNED_TRAILER]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(MODES),
    data=st.binary(max_size=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=6),
    splits=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=8),
    declare=st.booleans(),
)
def test_round_trip_any_chunking(
    mode: str, data: bytes, cuts: list[int], splits: list[int], declare: bool
) -> None:
    """Any chunking of any payload, delivered in any slices, decodes to the payload."""
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    req, key = signed_request(mode, len(data))
    signed = mode != sigv4.STREAMING_UNSIGNED_TRAILER
    raw = encode(mode, chunks, req, key, crc32_b64(data))
    pieces, i, k = [], 0, 0
    while i < len(raw):
        step = splits[k % len(splits)]
        pieces.append(raw[i : i + step])
        i, k = i + step, k + 1

    async def main() -> tuple[bytes, dict[str, str]]:
        body = body_for(
            mode,
            pieces,
            len(data) if declare else None,
            req if signed else None,
            key if signed else None,
        )
        got = await decode(body)
        return got, dict(body.trailers)

    got, trailers = run(main())
    assert got == data
    if mode != sigv4.STREAMING_SIGNED:
        assert trailers == {"x-amz-checksum-crc32": crc32_b64(data)}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(MODES[:2]),
    data=st.binary(min_size=1, max_size=600),
    where=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_corruption_of_a_signed_body_is_caught(
    mode: str, data: bytes, where: int, flip: int
) -> None:
    """A changed byte anywhere either fails with a typed error or changes nothing."""
    req, key = signed_request(mode, len(data))
    raw = bytearray(
        encode(mode, [data[: len(data) // 2], data[len(data) // 2 :]], req, key, crc32_b64(data))
    )
    raw[where % len(raw)] ^= flip

    async def main() -> tuple[bytes, dict[str, str]]:
        body = body_for(mode, [bytes(raw)], len(data), req, key)
        got = await decode(body)
        return got, dict(body.trailers)

    try:
        got, trailers = run(main())
    except ObjstoreError:
        return
    assert got == data  # e.g. a hex digit's case flipped: the same size
    assert trailers in ({}, {"x-amz-checksum-crc32": crc32_b64(data)})


def test_signed_trailer_is_verified() -> None:
    mode = sigv4.STREAMING_SIGNED_TRAILER
    req, key = signed_request(mode, 5)
    good = encode(mode, [b"hello"], req, key, crc32_b64(b"hello"))

    async def main(raw: bytes, declared: tuple[str, ...] = ("x-amz-checksum-crc32",)) -> Any:
        body = ChunkedBody(
            reader([raw]), mode, decoded_length=5, request=req, key=key, declared_trailers=declared
        )
        await decode(body)
        return dict(body.trailers)

    assert run(main(good)) == {"x-amz-checksum-crc32": crc32_b64(b"hello")}
    forged = good.replace(crc32_b64(b"hello").encode(), crc32_b64(b"jello").encode())
    with pytest.raises(SignatureDoesNotMatch):
        run(main(forged))
    unsigned = b"\r\n".join(ln for ln in good.split(b"\r\n") if b"trailer-signature" not in ln)
    with pytest.raises(MalformedTrailerError):
        run(main(unsigned))
    with pytest.raises(MalformedTrailerError):  # announced another trailer
        run(main(good, ("x-amz-checksum-sha256",)))


def test_unsigned_trailer_rules() -> None:
    mode = sigv4.STREAMING_UNSIGNED_TRAILER

    async def main(raw: bytes) -> Any:
        body = body_for(mode, [raw], 2, None, None)
        await decode(body)
        return dict(body.trailers)

    ok = b"2\r\nhi\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    assert run(main(ok)) == {"x-amz-checksum-crc32": "AAAAAA=="}
    for bad in (
        b"2\r\nhi\r\n0\r\nx-amz-meta-x:1\r\n\r\n",  # not a checksum
        b"2\r\nhi\r\n0\r\nno colon\r\n\r\n",
        b"2\r\nhi\r\n0\r\nx-amz-checksum-crc32:A\r\nx-amz-checksum-crc32:B\r\n\r\n",
        b"2\r\nhi\r\n0\r\nx-amz-checksum-crc32:A\r\nx-amz-trailer-signature:00\r\n\r\n",
    ):
        with pytest.raises(MalformedTrailerError):
            run(main(bad))
    with pytest.raises(IncompleteBody):  # no empty line after the trailers
        run(main(b"2\r\nhi\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n"))

    async def unannounced(raw: bytes) -> Any:
        body = ChunkedBody(reader([raw]), mode, decoded_length=2, declared_trailers=())
        await decode(body)

    # Review 10c, F2: a checksum trailer x-amz-trailer did not announce was read and never
    # compared (the upload stored a damaged body); it is refused like any unannounced one.
    with pytest.raises(MalformedTrailerError, match="not announced"):
        run(unannounced(ok))


def test_botocore_trailer_body_decodes() -> None:
    """boto3's default upload over TLS: STREAMING-UNSIGNED-PAYLOAD-TRAILER with CRC32."""
    data = bytes(range(256)) * 5000
    wire = capture(client(endpoint="https://h:1"), "put_object", Bucket="b", Key="k", Body=data)
    assert wire.header("x-amz-content-sha256") == sigv4.STREAMING_UNSIGNED_TRAILER

    async def main() -> tuple[bytes, dict[str, str]]:
        pieces = [wire.body[i : i + 7777] for i in range(0, len(wire.body), 7777)]
        body = ChunkedBody(
            reader(pieces),
            sigv4.STREAMING_UNSIGNED_TRAILER,
            decoded_length=len(data),
            declared_trailers=("x-amz-checksum-crc32",),
        )
        return await decode(body), dict(body.trailers)

    got, trailers = run(main())
    assert got == data and trailers == {"x-amz-checksum-crc32": crc32_b64(data)}


def test_plain_body_hash_and_length() -> None:
    data = b"x" * 100_000
    digest = hashlib.sha256(data).hexdigest()

    async def main(pieces: list[bytes], sha: str | None, length: int | None) -> bytes:
        return await decode_plain(PlainBody(reader(pieces), length, sha))

    assert run(main([data[:10], data[10:]], digest.upper(), len(data))) == data
    with pytest.raises(XAmzContentSHA256Mismatch) as err:
        run(main([data[:-1] + b"y"], digest, len(data)))
    assert err.value.details["S3ComputedContentSHA256"] != digest
    with pytest.raises(IncompleteBody):
        run(main([data[:500]], None, len(data)))


async def decode_plain(body: PlainBody) -> bytes:
    return b"".join([piece async for piece in body])


def test_read_all_limit_and_single_pass() -> None:
    async def main() -> None:
        body = PlainBody(reader([b"a" * 100]), None, None)
        with pytest.raises(MaxMessageLengthExceeded):
            await body.read_all(99)
        with pytest.raises(InternalError):
            await body.read_all(1000)
        declared = PlainBody(reader([b"a" * 100]), 100, None)
        with pytest.raises(MaxMessageLengthExceeded):
            await declared.read_all(10)
        assert await PlainBody(reader([b"ab", b"c"]), 3, None).read_all(3) == b"abc"

    run(main())


def test_an_announced_checksum_trailer_is_compared_or_refused() -> None:
    """Review 10c, F6: ``x-amz-trailer`` on a payload mode that carries no trailers was
    taken for "no checksum", and a checksum header plus an announced trailer checked only
    the header."""

    def headers(**h: str) -> CIMultiDictProxy[str]:
        return CIMultiDictProxy(CIMultiDict({k.replace("_", "-"): v for k, v in h.items()}))

    async def main() -> None:
        plain = PlainBody(reader([b"hi"]), 2, None)
        args = checksum_args(headers(x_amz_trailer="x-amz-checksum-crc32"), plain)
        await decode_plain(plain)
        with pytest.raises(MalformedTrailerError, match="missing"):
            args["checksums"]()  # evaluated once the body has ended, before the commit
        both = headers(x_amz_trailer="x-amz-checksum-crc32", x_amz_checksum_crc32="AAAAAA==")
        with pytest.raises(InvalidRequest, match="single"):
            checksum_args(both, plain)

    run(main())


def test_only_checksums_objstore_computes_may_be_announced() -> None:
    """Review rev11b F6: S3's answer to an x-amz-trailer it cannot check."""
    assert chunked.declared_trailers(" X-Amz-Checksum-CRC32 , x-amz-checksum-sha256") == (
        "x-amz-checksum-crc32",
        "x-amz-checksum-sha256",
    )
    assert chunked.declared_trailers("") == ()
    for header in ("x-amz-checksum-sha512", "x-amz-checksum-crc32,x-amz-checksum-md5", "etag"):
        with pytest.raises(InvalidRequest, match="x-amz-trailer header is not supported"):
            chunked.declared_trailers(header)

    async def announcing(name: str) -> ChunkedBody:
        mode = sigv4.STREAMING_UNSIGNED_TRAILER
        return ChunkedBody(reader([b""]), mode, decoded_length=0, declared_trailers=(name,))

    with pytest.raises(InternalError):
        run(announcing("x-amz-checksum-sha512"))
