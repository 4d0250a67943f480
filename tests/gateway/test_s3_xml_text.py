"""Keys of any character in the gateway's XML: every answer parses (defusedxml), listings
give every key back exactly, request bodies may name any key (objstore/gateway/xmltext.py).

S3 writes a key holding U+0001 as ``&#x1;``, which no XML 1.0 parser accepts; the gateway
refuses such a listing page unless ``encoding-type=url`` is asked (InvalidArgument) and
writes U+FFFD where an answer has no encoding to offer (an error document); a ``Key``
element it cannot carry is left out (DeleteObjects' entries, the multipart answers)."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import defusedxml.ElementTree as SafeET
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from objstore.gateway import xmltext
from objstore.gateway.query.xml import error_document
from objstore.gateway.s3 import xmldoc
from tests.gateway.s3_support import Gateway, raw_answer, served_store

BKT = "xml-keys"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
# Every code point a key may hold (no lone surrogates), control characters often.
any_text = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(["\x00", "\x01", "\x0b", "\x1f", "\r", "\n", "\ufffe", "\uffff", "&"]),
    ),
    min_size=1,
    max_size=24,
)


def named(key: str) -> str | None:
    """The ``Key`` an answer without an encoding gives for ``key``: none at all when
    XML cannot carry it (U+FFFD in its place would name another key)."""
    return key if xmltext.representable(key) else None


def shown(text: str) -> str:
    """What an answer without an encoding shows of ``text``."""
    return "".join(c if xmltext.representable(c) else xmltext.REPLACEMENT for c in text)


# ------------------------------------------------------------------ pure


@settings(max_examples=300, deadline=None)
@given(any_text)
@example("a\rb\r\n")
@example("\x01&#x1;<]]>")
def test_escaped_text_parses_and_reads_back(text: str) -> None:
    assert SafeET.fromstring(f"<a>{xmltext.escape(text)}</a>".encode()).text == shown(text)
    attr = SafeET.fromstring(f'<a v="{xmltext.attribute(text)}"/>'.encode()).get("v")
    assert attr == shown(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=4))
def test_rendered_documents_always_parse(texts: list[str]) -> None:
    root = xmldoc.root("Doc")
    for text in texts:
        xmldoc.sub(xmldoc.sub(root, "Item"), "Key", text)
    parsed = SafeET.fromstring(xmldoc.render(root))
    assert [e.text for e in parsed.iter(f"{NS}Key")] == [shown(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(any_text, st.booleans())
@example("\x01", True)
@example("\ue000\x01", False)
def test_request_bodies_may_name_any_key(key: str, as_references: bool) -> None:
    """A key XML cannot carry, sent raw or as character references, reads back exactly;
    the document's other text is untouched."""

    def body_text(c: str) -> str:
        if not xmltext.representable(c):
            return f"&#x{ord(c):x};" if as_references else c
        return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}.get(c, c)

    inner = "".join(body_text(c) for c in key)
    doc = f"<Delete><Object><Key>{inner}</Key></Object><Quiet>true</Quiet></Delete>"
    parsed = xmldoc.parse(doc.encode(), "Delete")
    assert xmldoc.child_text(xmldoc.children(parsed, "Object")[0], "Key") == key
    assert xmldoc.child_text(parsed, "Quiet") == "true"


def test_shield_leaves_markup_errors_malformed() -> None:
    from objstore.errors import MalformedXML

    with pytest.raises(MalformedXML):
        xmldoc.parse(b"<Delete\x01><Object/></Delete\x01>", "Delete")
    with pytest.raises(MalformedXML):
        xmldoc.parse(b"<Delete><Key>&#x1;</Delete>", "Delete")
    # A reference to a character XML allows is left to the parser.
    assert xmldoc.child_text(xmldoc.parse(b"<Delete><K>&#x41;</K></Delete>", "Delete"), "K") == "A"


def test_query_error_documents_parse() -> None:
    doc = error_document("https://iam.amazonaws.com/doc/2010-05-08/", "X", "a\x01\rb", True, "r")
    message = SafeET.fromstring(doc).find(".//{https://iam.amazonaws.com/doc/2010-05-08/}Message")
    assert message is not None and message.text == "a\ufffd\rb"


# ------------------------------------------------------------------ over HTTP


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    path: Path = tmp_path_factory.mktemp("xmltext")
    with served_store(path) as gateway:
        s3 = gateway.client()
        s3.create_bucket(Bucket=BKT)
        s3.put_bucket_versioning(Bucket=BKT, VersioningConfiguration={"Status": "Enabled"})
        yield gateway


def _body(answer: bytes) -> tuple[int, ET.Element | None]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, SafeET.fromstring(body) if body else None


def _get(gw: Gateway, path: str) -> ET.Element:
    status, doc = _body(raw_answer(gw, "GET", path))
    assert status == 200 and doc is not None
    return doc


def _listed(doc: ET.Element, element: str) -> list[str]:
    """The keys a listing names, decoded when it says it is URL-encoded."""
    encoded = doc.findtext(f"{NS}EncodingType") == "url"
    keys = [e.findtext(f"{NS}Key") or "" for e in doc.iter(f"{NS}{element}")]
    return [unquote(k) for k in keys] if encoded else keys


def _check_listing(gw: Gateway, path: str, element: str, key: str) -> None:
    """Unasked, the page is written as it is when XML can carry the key (no
    ``EncodingType``), and refused (InvalidArgument) otherwise: never encoded unasked."""
    status, doc = _body(raw_answer(gw, "GET", path))
    assert doc is not None
    if xmltext.representable(key):
        assert status == 200 and doc.findtext(f"{NS}EncodingType") is None
        assert _listed(doc, element) == [key]
    else:
        assert status == 400 and doc.findtext("Code") == "InvalidArgument"
        assert doc.findtext("ArgumentName") == "encoding-type"


def _plausible(key: str) -> bool:
    # "." and ".." path segments are resolved by HTTP clients before a request is sent.
    return len(key.encode()) <= 1024 and not any(p in (".", "..") for p in key.split("/"))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(any_text.filter(_plausible))
@example("tab\tcr\rlf\n\x01\x00&<>")
@example("\r")
def test_any_key_round_trips_through_xml_answers(gw: Gateway, key: str) -> None:
    s3 = gw.client()
    path = quote(key, safe="/~")
    s3.put_object(Bucket=BKT, Key=key, Body=b"v")
    try:
        # Listings: boto3 asks encoding-type=url and decodes; without it, the page is
        # written as it is or, if XML cannot carry a key, refused.
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=BKT)["Contents"]] == [key]
        assert [v["Key"] for v in s3.list_object_versions(Bucket=BKT)["Versions"]] == [key]
        _check_listing(gw, f"/{BKT}?list-type=2", "Contents", key)
        _check_listing(gw, f"/{BKT}", "Contents", key)
        _check_listing(gw, f"/{BKT}?versions=", "Version", key)
        asked = _get(gw, f"/{BKT}?list-type=2&encoding-type=url")
        assert _listed(asked, "Contents") == [key]
        # Multipart: CreateMultipartUpload's answer parses; the upload is listed exactly.
        upload = s3.create_multipart_upload(Bucket=BKT, Key=key)
        assert upload.get("Key") == named(key)
        try:
            _check_listing(gw, f"/{BKT}?uploads=", "Upload", key)
            listed = s3.list_multipart_uploads(Bucket=BKT, EncodingType="url")["Uploads"]
            assert [unquote(u["Key"]) for u in listed] == [key]
        finally:
            s3.abort_multipart_upload(Bucket=BKT, Key=key, UploadId=upload["UploadId"])
        # CopyObject's answer parses.
        copied = s3.copy_object(Bucket=BKT, Key=key + "~c", CopySource={"Bucket": BKT, "Key": key})
        assert copied["CopyObjectResult"]["ETag"]
        # An error document naming the key parses and shows it.
        status, error = _body(raw_answer(gw, "GET", f"/{BKT}/{path}~missing"))
        assert status == 404 and error is not None
        assert error.findtext("Code") == "NoSuchKey"
        assert error.findtext("Key") == shown(key + "~missing")
        # DeleteObjects naming the keys as S3's documentation says (references for CR and
        # for characters XML cannot carry): both deleted, the answer parses.
        names = "".join(
            "<Object><Key>"
            + "".join(
                f"&#x{ord(c):x};"
                if not xmltext.representable(c) or c == "\r"
                else {"&": "&amp;", "<": "&lt;", ">": "&gt;"}.get(c, c)
                for c in name
            )
            + "</Key></Object>"
            for name in (key, key + "~c")
        )
        doc = f"<Delete>{names}</Delete>".encode()
        md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()
        status, result = _body(
            raw_answer(gw, "POST", f"/{BKT}?delete=", doc, f"Content-MD5: {md5}\r\n")
        )
        assert status == 200 and result is not None
        deleted = [e.findtext(f"{NS}Key") for e in result.iter(f"{NS}Deleted")]
        assert deleted == [named(key), named(key + "~c")]
        for name in (key, key + "~c"):
            with pytest.raises(ClientError):
                s3.head_object(Bucket=BKT, Key=name)
    finally:
        for version in s3.list_object_versions(Bucket=BKT).get("Versions", []):
            s3.delete_object(Bucket=BKT, Key=version["Key"], VersionId=version["VersionId"])
        for marker in s3.list_object_versions(Bucket=BKT).get("DeleteMarkers", []):
            s3.delete_object(Bucket=BKT, Key=marker["Key"], VersionId=marker["VersionId"])


def test_boto3_delete_objects_with_control_characters(gw: Gateway) -> None:
    """boto3 writes such keys raw into DeleteObjects' body: they are deleted, the answer
    parses (it leaves out the keys XML cannot carry)."""
    s3 = gw.client()
    keys = ["ctl\x01key", "bell\x07/x", "plain"]
    for key in keys:
        s3.put_object(Bucket=BKT, Key=key, Body=b"v")
    out = s3.delete_objects(Bucket=BKT, Delete={"Objects": [{"Key": k} for k in keys]})
    assert len(out["Deleted"]) == 3
    assert [d["Key"] for d in out["Deleted"] if "Key" in d] == ["plain"]
    assert s3.list_objects_v2(Bucket=BKT)["KeyCount"] == 0
    for version in s3.list_object_versions(Bucket=BKT).get("Versions", []):
        s3.delete_object(Bucket=BKT, Key=version["Key"], VersionId=version["VersionId"])
    for marker in s3.list_object_versions(Bucket=BKT).get("DeleteMarkers", []):
        s3.delete_object(Bucket=BKT, Key=marker["Key"], VersionId=marker["VersionId"])


def test_complete_multipart_location_is_a_url(gw: Gateway) -> None:
    s3 = gw.client()
    key = "a b?c#d\x01"
    upload = s3.create_multipart_upload(Bucket=BKT, Key=key)
    part = s3.upload_part(Bucket=BKT, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(
        Bucket=BKT,
        Key=key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert done["Location"].endswith(f"/{BKT}/a%20b%3Fc%23d%01")
    assert "Key" not in done
    for version in s3.list_object_versions(Bucket=BKT).get("Versions", []):
        s3.delete_object(Bucket=BKT, Key=version["Key"], VersionId=version["VersionId"])
