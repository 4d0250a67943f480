"""Backend URLs (objstore/backends/urls.py): parsing, redaction, lazy construction."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import objstore
from objstore.backends import urls
from objstore.backends.urls import parse_chunks_url, parse_metadata_url, redact
from objstore.blob.files import FileChunkStore
from objstore.errors import InvalidArgument, ObjstoreError
from objstore.meta.lmdb_store import LmdbMetadataStore

GOOD_METADATA = [
    ("postgresql://objstore@127.0.0.1:5432/objstore", "postgresql", None),
    ("postgres://u@db.example/store?sslmode=require", "postgres", None),
    ("postgresql:///objstore", "postgresql", None),  # the local socket
    ("lmdb:///var/lib/objstore/meta", "lmdb", "/var/lib/objstore/meta"),
    ("lmdb://localhost/srv/meta", "lmdb", "/srv/meta"),
    ("lmdb:rel/meta", "lmdb", "rel/meta"),
    ("LMDB:///upper/case/scheme", "lmdb", "/upper/case/scheme"),
    ("lmdb:///with%20space/%C3%A9", "lmdb", "/with space/\u00e9"),
    ("memory:", "memory", None),
    ("memory://", "memory", None),
]

GOOD_CHUNKS = [
    ("s3://bucket/prefix?endpoint=http://127.0.0.1:7480&region=us-east-1", "s3", None),
    ("s3://bucket", "s3", None),
    ("s3://bucket/a/b/c/", "s3", None),
    ("file:///srv/chunks", "file", "/srv/chunks"),
    ("file:rel/chunks", "file", "rel/chunks"),
    ("memory:", "memory", None),
]

BAD_METADATA = [
    ("", "scheme"),
    ("meta", "scheme"),
    ("/abs/dir", "scheme"),
    ("mysql://h/db", "scheme"),
    ("s3://bucket", "scheme"),
    ("file:///x", "scheme"),
    ("postgresql://h:99999/db", "not a URL"),
    ("postgresql://h:port/db", "not a URL"),
    ("postgresql://h/db#frag", "fragment"),
    ("postgresql://h/db/extra", "database name"),
    ("postgresql://h/db?a=1&&b", "query"),
    ("lmdb://otherhost/dir", "local directory"),
    ("lmdb:///dir?map_size=1", "no parameters"),
    ("lmdb://", "missing"),
    ("lmdb:///a%00b", "NUL"),
    ("lmdb:///%ff%fe", "UTF-8"),
    ("memory:x", "nothing after"),
    ("memory:?a=b", "nothing after"),
    (" memory:", "whitespace"),
    ("memory:\n", "whitespace"),
    ("lmdb:///" + "a" * 9000, "longer than"),
]

BAD_CHUNKS = [
    ("s3://", "bucket is missing"),
    ("s3:///prefix", "bucket is missing"),
    ("s3://AKIA:secret@bucket/p", "credentials"),
    ("s3://bucket/p?endpoint=ftp://x", "endpoint"),
    ("s3://bucket/p?endpoint=127.0.0.1:7480", "endpoint"),
    ("file://host/dir", "local directory"),
    ("postgresql://h/db", "scheme"),
    ("lmdb:///x", "scheme"),
]


@pytest.mark.parametrize("url,scheme,path", GOOD_METADATA)
def test_metadata_urls_parse(url: str, scheme: str, path: str | None) -> None:
    spec = parse_metadata_url(url)
    assert (spec.role, spec.scheme, spec.path) == ("metadata", scheme, path)
    assert spec.persistent == (scheme != "memory")


@pytest.mark.parametrize("url,scheme,path", GOOD_CHUNKS)
def test_chunk_urls_parse(url: str, scheme: str, path: str | None) -> None:
    spec = parse_chunks_url(url)
    assert (spec.role, spec.scheme, spec.path) == ("chunks", scheme, path)


@pytest.mark.parametrize("url,why", BAD_METADATA)
def test_bad_metadata_urls_are_invalid_argument(url: str, why: str) -> None:
    with pytest.raises(InvalidArgument, match=why) as err:
        parse_metadata_url(url)
    assert err.value.details["argument"] == "metadata"


@pytest.mark.parametrize("url,why", BAD_CHUNKS)
def test_bad_chunk_urls_are_invalid_argument(url: str, why: str) -> None:
    with pytest.raises(InvalidArgument, match=why) as err:
        parse_chunks_url(url)
    assert "secret" not in err.value.message  # the s3 credentials case: never echoed


@pytest.mark.parametrize("value", [None, 5, b"memory:", ["memory:"]])
def test_a_url_that_is_not_text_is_invalid_argument(value: object) -> None:
    with pytest.raises(InvalidArgument, match="URL string"):
        parse_metadata_url(value)
    with pytest.raises(InvalidArgument, match="URL string"):
        parse_chunks_url(value)


def test_redaction_of_passwords_query_secrets_and_fragments() -> None:
    cases = {
        "postgresql://u:pw%40x@h:5432/db": "postgresql://u:***@h:5432/db",
        "postgresql://u@h/db?sslmode=require&password=hunter2": (
            "postgresql://u@h/db?sslmode=require&password=***"
        ),
        "s3://b/p?endpoint=http://h:1&aws_secret_access_key=abc&X-Amz-Security-Token=t": (
            "s3://b/p?endpoint=http://h:1&aws_secret_access_key=***&X-Amz-Security-Token=***"
        ),
        "postgresql://u:pw@h/db#anything": "postgresql://u:***@h/db#***",
        "lmdb:///plain/dir": "lmdb:///plain/dir",
        "file:rel/dir": "file:rel/dir",
        "postgresql://h:notaport/db": "postgresql:<unparsable>",
        "postgresql://[::1/db": "postgresql:<unparsable>",
    }
    for url, shown in cases.items():
        assert redact(url) == shown
    spec = parse_metadata_url("postgresql://u:pw%40x@h/db?password=hunter2")
    assert "pw" not in repr(spec) and "hunter2" not in repr(spec) and "hunter2" not in str(spec)


# Secrets that cannot be mistaken for any other part of the URL.
_secret = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24
).map(lambda s: "Zq7" + s + "Wk")


@given(password=_secret, user=st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_a_password_never_shows(password: str, user: str) -> None:
    url = f"postgresql://{user}:{quote(password, safe='')}@db.example:5432/objstore"
    spec = parse_metadata_url(url)
    for text in (redact(url), spec.shown, repr(spec), str(spec)):
        assert password not in text and quote(password, safe="") not in text
    assert spec.scrub(f"failed: {url} ({password})") == f"failed: {spec.shown} (***)"


@given(
    name=st.sampled_from(["password", "sslpassword", "secret", "aws_session_token", "apikey"]),
    value=_secret,
)
def test_a_secret_query_value_never_shows(name: str, value: str) -> None:
    url = f"postgresql://u@h/db?sslmode=require&{name}={quote(value, safe='')}"
    shown = redact(url)
    assert value not in shown and quote(value, safe="") not in shown
    assert shown.endswith(f"&{name}=***")
    with pytest.raises(InvalidArgument) as err:
        parse_chunks_url(url)  # a metadata URL where chunks belong: the message shows it
    assert value not in err.value.message and quote(value, safe="") not in err.value.message


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_invalid_argument(text: str) -> None:
    """Nothing but InvalidArgument ever escapes, and redact never raises."""
    redact(text)
    for parse in (parse_metadata_url, parse_chunks_url):
        try:
            spec = parse(text)
        except InvalidArgument:
            continue
        assert spec.scheme in urls.METADATA_SCHEMES + urls.CHUNK_SCHEMES


_dir = st.lists(
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="/"
        ),
        min_size=1,
        max_size=12,
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "/" + "/".join(parts))


@given(path=_dir, scheme=st.sampled_from(["lmdb", "file"]))
def test_local_paths_round_trip(path: str, scheme: str) -> None:
    url = f"{scheme}://{quote(path)}"
    parse = parse_metadata_url if scheme == "lmdb" else parse_chunks_url
    assert parse(url).path == path


def test_local_backends_are_built(tmp_path: Path) -> None:
    meta = urls.open_metadata(parse_metadata_url(f"lmdb://{tmp_path}/m"))
    chunks = urls.open_chunks(parse_chunks_url(f"file://{tmp_path}/c"))
    try:
        assert isinstance(meta, LmdbMetadataStore) and isinstance(chunks, FileChunkStore)
        assert (tmp_path / "m" / "data.mdb").exists() and (tmp_path / "c").is_dir()
    finally:
        meta.close()
        chunks.close()


def test_construction_errors_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a backend raises while opening leaves without the URL's secrets."""
    spec = parse_metadata_url("postgresql://u:hunter2@h/db")

    def failing(url: str) -> object:
        raise ObjstoreError(f"could not connect with {url}")

    monkeypatch.setattr(urls, "_from_url", lambda module, cls, url: failing(url))
    with pytest.raises(ObjstoreError) as err:
        urls.open_metadata(spec)
    assert "hunter2" not in str(err.value) and "postgresql://u:***@h/db" in str(err.value)

    def raising_value_error(url: str) -> object:
        raise ValueError(f"bad option in {url}")

    monkeypatch.setattr(urls, "_from_url", lambda module, cls, url: raising_value_error(url))
    with pytest.raises(InvalidArgument) as bad:
        urls.open_chunks(parse_chunks_url("s3://b/p?secret=hunter2"))
    assert "hunter2" not in str(bad.value)


def _chain(exc: BaseException) -> str:
    """The text of every exception ``exc`` was raised from, as a reporter walking
    ``__cause__`` / ``__context__`` would see it."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc.__cause__, exc.__context__]
    while todo:
        e = todo.pop()
        if e is not None and all(e is not s for s in seen):
            seen.append(e)
            todo += [e.__cause__, e.__context__]
    return " ".join(f"{e} {e.args!r}" for e in seen)


def test_no_exception_a_construction_error_was_raised_from_keeps_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review 9i, L1: the message was scrubbed, but ``from None`` only hides the driver's
    error from tracebacks: ``__context__`` still held it, password in the clear."""
    pytest.importorskip("psycopg")
    with pytest.raises(InvalidArgument) as bad:  # a malformed %-escape: refused by libpq
        objstore.open(metadata="postgresql://u:Sekr3t-%zz@127.0.0.1:1/db", chunks="memory:")
    assert "Sekr3t" not in str(bad.value) + _chain(bad.value)

    def wrapped(url: str) -> object:
        try:
            raise ValueError(f"cannot use {url}")
        except ValueError as exc:
            raise ObjstoreError("opening failed") from exc

    for fails in (wrapped, lambda url: int(f"port of {url}")):
        monkeypatch.setattr(urls, "_from_url", lambda module, cls, url, f=fails: f(url))
        with pytest.raises(ObjstoreError) as err:
            urls.open_metadata(parse_metadata_url("postgresql://u:hunter2@h/db"))
        assert "hunter2" not in str(err.value) + _chain(err.value)


def test_the_embedded_default_imports_no_client_library(tmp_path: Path) -> None:
    """Opening the default store (and parsing every URL form) imports neither psycopg nor
    an S3 client: backends are imported only when their scheme is opened."""
    code = (
        "import sys, objstore\n"
        "from objstore.backends import urls\n"
        f"s = objstore.open({str(tmp_path / 's')!r}); s.close()\n"
        "urls.parse_metadata_url('postgresql://u@h/db')\n"
        "urls.parse_chunks_url('s3://b/p?endpoint=http://h:1')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('psycopg', 'psycopg_pool', 'boto3', 'botocore', 'aioboto3', 'obstore')]\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "url",
    [
        "s3://bkt/pre?endpoint=http://127.0.0.1:1&region=a%0Ab",
        "s3://bkt/pre?endpoint=http://127.0.0.1:1/%0A",
        "s3://bkt/p%00x?endpoint=http://127.0.0.1:1",
        "postgresql://u@h/db?application_name=a%0Db",
    ],
)
def test_percent_encoded_control_characters_are_refused(url: str) -> None:
    """A control character hidden by percent-encoding is InvalidArgument at parse time
    (it reached obstore, which panicked: a BaseException, not an objstore error)."""
    parse = parse_chunks_url if url.startswith("s3:") else parse_metadata_url
    with pytest.raises(InvalidArgument, match="control characters"):
        parse(url)


@pytest.mark.parametrize(
    "url,why",
    [
        ("s3://bx1/../..?endpoint=http://127.0.0.1:1", "segment"),
        ("s3://bx1/a//b?endpoint=http://127.0.0.1:1", "segment"),
        ("s3://bx1/./a?endpoint=http://127.0.0.1:1", "segment"),
        ("s3://Bad_Bucket!/p?endpoint=http://127.0.0.1:1", "cannot name an S3 bucket"),
        ("s3://ab/p?endpoint=http://127.0.0.1:1", "cannot name an S3 bucket"),
        ("s3://-bkt/p?endpoint=http://127.0.0.1:1", "cannot name an S3 bucket"),
        ("s3://bkt/p?endpoint=http://127.0.0.1:1/some/path&create=1", "host\\[:port\\] only"),
        ("s3://bkt/p?endpoint=http://127.0.0.1:1/?x=1", "host\\[:port\\] only"),
        ("s3://bkt/p?endpoint=http://127.0.0.1:99999", "not a URL"),
        ("s3://bkt/p?endpoint=http://:80", "http:// or https://"),
        ("s3://bkt/p?endpoint=http://127.0.0.1:1&endpoint=http://127.0.0.1:2", "twice"),
        ("s3://bkt/p?endpoint=http://127.0.0.1:1&region=a&region=b", "twice"),
    ],
)
def test_malformed_s3_parts_are_invalid_argument_before_any_request(url: str, why: str) -> None:
    """Break-it review of issue 9, F3: these reached the S3 client and came back as
    InternalError; ``objstore.open`` refuses them by name, opening nothing."""
    with pytest.raises(InvalidArgument, match=why):
        objstore.open(metadata="memory:", chunks=url)


def test_s3_chunk_store_arguments_are_checked_as_the_url_is() -> None:
    from objstore.backends.s3 import S3ChunkStore

    with pytest.raises(InvalidArgument, match="cannot name an S3 bucket"):
        S3ChunkStore("", endpoint="http://127.0.0.1:1")
    with pytest.raises(InvalidArgument, match="segment"):
        S3ChunkStore("bkt", "a/../b", endpoint="http://127.0.0.1:1")
    with pytest.raises(InvalidArgument, match="host\\[:port\\] only"):
        S3ChunkStore("bkt", endpoint="http://127.0.0.1:1/x")
    # Break-it review L2: from_url dropped a fragment, and with it the rest of the URL.
    for url in (
        "s3://bkt/h#f?endpoint=http://127.0.0.1:1",
        "s3://bkt/h?endpoint=http://127.0.0.1:1#",
    ):
        with pytest.raises(InvalidArgument, match="fragment"):
            S3ChunkStore.from_url(url)


@pytest.mark.parametrize(
    "value",
    [
        "host=127.0.0.1 user=objstore password=Zq7secretWk dbname=objstore",  # libpq form
        "postgresql:/objstore:Zq7secretWk@127.0.0.1:5432/objstore",  # one slash missing
        "postgresql:objstore:Zq7secretWk@127.0.0.1/objstore",
        "jdbc:postgresql://objstore:Zq7secretWk@127.0.0.1:5432/objstore",
        "s3:/AKIA:Zq7secretWk@bkt/p?endpoint=http://127.0.0.1:1",
        "s3:AKIA:Zq7secretWk@bkt/p",
        "postgresql://objstore:Zq7secretWk@127.0.0.1/objstore ",  # a trailing blank
    ],
)
def test_a_malformed_url_never_shows_its_password(value: str) -> None:
    """Review 9m, H1: only a password in the place a URL keeps one was hidden; a value
    that is not a proper URL was quoted whole in the error (and so on the CLI's stderr)."""
    assert "Zq7secretWk" not in redact(value)
    for parse in (parse_metadata_url, parse_chunks_url):
        with pytest.raises(InvalidArgument) as err:
            parse(value)
        assert "Zq7secretWk" not in str(err.value)
