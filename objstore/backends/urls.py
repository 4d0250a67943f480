"""One URL form for the two backends: ``metadata=`` and ``chunks=`` of ``objstore.open``.

========================================  ===========================================
metadata                                  chunks
========================================  ===========================================
``postgresql://user@host:5432/db``        ``s3://bucket/prefix?endpoint=http://h:port``
``lmdb:///abs/dir`` (``lmdb:rel/dir``)    ``file:///abs/dir`` (``file:rel/dir``)
``memory:``                               ``memory:``
========================================  ===========================================

Parsing (:func:`parse_metadata_url`, :func:`parse_chunks_url`) is pure: it checks the
form and never touches a network, a file or a client library. Construction
(:func:`open_metadata`, :func:`open_chunks`) imports a backend only when its scheme is
used, so the embedded default (LMDB + chunk files) never imports psycopg or an S3 client;
PostgreSQL and S3 are built by their backends' ``from_url(url)``, which read
credentials from the usual environment (``PG*``, ``AWS_*``, profiles).

A URL may still carry a secret (``postgresql://u:pw@h/db``, ``?password=``): every
message, repr and log line shows :func:`redact`-ed text only, and errors raised by a
backend while opening are scrubbed of the secrets too.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit

from objstore.blob.chunkstore import ChunkStore
from objstore.errors import InvalidArgument, ObjstoreError, ServiceUnavailable
from objstore.meta.base import MetadataStore

__all__ = [
    "BackendUrl",
    "open_chunks",
    "open_metadata",
    "parse_chunks_url",
    "parse_metadata_url",
    "redact",
]

Role = Literal["metadata", "chunks"]

METADATA_SCHEMES: Final = ("postgresql", "postgres", "lmdb", "memory")
CHUNK_SCHEMES: Final = ("s3", "file", "memory")
HIDDEN: Final = "***"
# Query parameters whose values are secrets (or may be): never shown.
_SECRET_PARAM = re.compile(r"pass|secret|token|credential|key|auth|sig", re.IGNORECASE)
_MAX_URL = 8192

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class BackendUrl:
    """A checked backend URL. ``shown`` is safe to print; ``url`` may hold a secret
    and is never part of the repr."""

    role: Role
    scheme: str
    url: str = field(repr=False)
    shown: str
    path: str | None = None  # lmdb / file: the directory
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def persistent(self) -> bool:
        """Whether what is stored outlives the process (everything but ``memory:``)."""
        return self.scheme != "memory"

    def scrub(self, text: str) -> str:
        """``text`` with this URL's secrets (and the raw URL) replaced."""
        out = text.replace(self.url, self.shown)
        for secret in self.secrets:
            out = out.replace(secret, HIDDEN)
        return out

    def __str__(self) -> str:
        return self.shown


def _secrets(url: str) -> tuple[str, ...]:
    """The secret parts of ``url`` as they appear in it (raw and decoded)."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return ()
    if password:
        netloc_pw = parts.netloc.rpartition("@")[0].partition(":")[2]
        found += [netloc_pw, unquote(netloc_pw)]
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and _SECRET_PARAM.search(name):
            found += [value, quote(value, safe=""), quote(value)]
    # Longest first, so a secret containing another one is replaced whole.
    return tuple(sorted({s for s in found if s}, key=len, reverse=True))


def redact(url: str) -> str:
    """``url`` with its password, secret query values and fragment replaced by ``***``;
    everything else is shown as written.

    Never raises: text that is not a parsable URL is shown by its scheme only.
    """
    if not isinstance(url, str):
        return f"<{type(url).__name__}>"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return _scheme_only(url, "unparsable")
    if any(c in parts.path for c in "@=") or any(c.isspace() for c in url):
        # Not scheme://user:password@host/...: a password may sit where no URL keeps one
        # ('postgresql:/u:pw@h/db', 'jdbc:postgresql://u:pw@h', a libpq 'host=h
        # password=pw' string). Nothing past the scheme is shown (review 9m, H1).
        return _scheme_only(url, "not shown: not a scheme://host/... URL")
    out = url
    if parts.fragment:
        out = out[: -len(parts.fragment)] + HIDDEN
    if parts.query:
        # The query is the text after the first "?" (the netloc cannot hold one).
        at = out.index("?") + 1
        shown = "&".join(_redact_pair(pair) for pair in parts.query.split("&"))
        out = out[:at] + shown + out[at + len(parts.query) :]
    if parts.password is not None:
        at = len(parts.scheme) + 3  # after "scheme://"
        user = parts.netloc.rpartition("@")[0].partition(":")[0]
        host = parts.netloc.rpartition("@")[2]
        out = out[:at] + f"{user}:{HIDDEN}@{host}" + out[at + len(parts.netloc) :]
    return out


def _scheme_only(url: str, why: str) -> str:
    scheme = url.partition(":")[0] if ":" in url else ""
    return f"{scheme}:<{why}>" if scheme.isalnum() else f"<URL {why}>"


def _redact_pair(pair: str) -> str:
    name, eq, value = pair.partition("=")
    if value and _SECRET_PARAM.search(unquote(name)):
        return f"{name}{eq}{HIDDEN}"
    return pair


def _bad(role: Role, shown: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"{role} URL {shown}: {why}", argument=role)


def _local_path(role: Role, scheme: str, parts: SplitResult, shown: str) -> str:
    if parts.netloc not in ("", "localhost"):
        raise _bad(role, shown, f"{scheme}: names a local directory ({scheme}:///abs/dir)")
    if parts.query or parts.fragment:
        raise _bad(role, shown, f"{scheme}: takes no parameters")
    path = unquote(parts.path, errors="strict")
    if not path:
        raise _bad(role, shown, "the directory is missing")
    if "\0" in path:
        raise _bad(role, shown, "the directory name holds a NUL")
    return path


def _parse(url: object, role: Role, schemes: tuple[str, ...]) -> BackendUrl:
    if not isinstance(url, str):
        raise InvalidArgument(
            f"{role} must be a URL string or a backend object, not {type(url).__name__}",
            argument=role,
        )
    shown = redact(url)
    if len(url) > _MAX_URL:
        raise _bad(role, shown[:80] + "...", f"longer than {_MAX_URL} characters")
    if url != url.strip() or any(c in url for c in "\r\n\t\0"):
        raise _bad(role, shown, "holds whitespace or control characters")
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme not in schemes:
        raise _bad(role, shown, f"the scheme must be one of {', '.join(s + ':' for s in schemes)}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise _bad(role, shown, f"not a URL ({exc})") from None
    secrets = _secrets(url)
    if scheme == "memory":
        if parts.netloc or parts.path or parts.query or parts.fragment:
            raise _bad(role, shown, "memory: takes nothing after the colon")
        return BackendUrl(role, scheme, url, shown)
    if scheme in ("lmdb", "file"):
        try:
            path = _local_path(role, scheme, parts, shown)
        except UnicodeDecodeError:
            raise _bad(role, shown, "the directory is not valid UTF-8") from None
        return BackendUrl(role, scheme, url, shown, path=path)
    if parts.fragment:
        raise _bad(role, shown, "a fragment (#...) means nothing here")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _bad(role, shown, "the query is not name=value pairs joined by &") from None
    # The raw URL was checked above; percent-encoding can still smuggle control characters
    # into a decoded value or path, which a client library may reject with a panic.
    decoded = [unquote(parts.path), *(text for pair in pairs for text in pair)]
    if any(ord(c) < 0x20 or ord(c) == 0x7F for text in decoded for c in text):
        raise _bad(role, shown, "a decoded value or path holds control characters")
    if scheme == "s3":
        if parts.username is not None or parts.password is not None:
            raise _bad(
                role,
                shown,
                "credentials are never read from an s3:// URL: use the AWS_* environment "
                "variables or a profile",
            )
        if not parts.hostname:
            raise _bad(role, shown, "the bucket is missing (s3://bucket/prefix)")
        endpoint = dict(parse_qsl(parts.query)).get("endpoint")
        if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
            raise _bad(role, shown, "endpoint= must be an http:// or https:// URL")
    else:  # postgresql
        if parts.path not in ("", "/") and "/" in parts.path[1:]:
            raise _bad(role, shown, "the database name holds a '/'")
    return BackendUrl(role, scheme, url, shown, secrets=secrets)


def parse_metadata_url(url: object) -> BackendUrl:
    """Check a metadata URL (``postgresql://``, ``lmdb://``, ``memory:``); opens nothing.

    Raises InvalidArgument (its message shows the URL redacted).
    """
    return _parse(url, "metadata", METADATA_SCHEMES)


def parse_chunks_url(url: object) -> BackendUrl:
    """Check a chunk store URL (``s3://``, ``file://``, ``memory:``); opens nothing.

    Raises InvalidArgument (its message shows the URL redacted).
    """
    return _parse(url, "chunks", CHUNK_SCHEMES)


def _build(spec: BackendUrl, make: Callable[[], _T]) -> _T:
    """Run a backend's constructor; whatever it raises leaves with the URL's secrets scrubbed."""
    error: ObjstoreError
    try:
        return make()
    except ObjstoreError as exc:
        clean = spec.scrub(exc.message)
        if clean != exc.message:
            exc.message = clean
            exc.args = (clean,)
        error = exc
    except ImportError as exc:
        error = InvalidArgument(
            f"{spec.role} URL {spec.shown} needs a backend that is not installed "
            f"({spec.scrub(str(exc))})",
            argument=spec.role,
        )
    except (ValueError, TypeError) as exc:
        error = _bad(spec.role, spec.shown, spec.scrub(str(exc)))
    except OSError as exc:
        error = ServiceUnavailable(
            f"cannot open the {spec.role} backend {spec.shown}: {spec.scrub(str(exc))}"
        )
    # The exceptions it was raised from may quote the URL unscrubbed: ``from None`` only
    # hides them from tracebacks, __context__ still holds them (break-it review 9i, L1).
    if _leaks(error, spec):
        error.__cause__ = error.__context__ = None
        error.__suppress_context__ = True
    raise error


def _leaks(error: BaseException, spec: BackendUrl) -> bool:
    """Whether an exception ``error`` was raised from shows a secret of ``spec``."""
    seen: set[int] = set()
    todo = [error.__cause__, error.__context__]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        text = f"{exc} {exc.args!r}"
        if spec.url in text or any(secret in text for secret in spec.secrets):
            return True
        todo += [exc.__cause__, exc.__context__]
    return False


# (role, scheme) -> module, class, what its constructor takes ("url": its ``from_url``).
_BACKENDS: Final[dict[tuple[str, str], tuple[str, str, str]]] = {
    ("metadata", "memory"): ("objstore.meta.memory", "MemoryMetadataStore", ""),
    ("metadata", "lmdb"): ("objstore.meta.lmdb_store", "LmdbMetadataStore", "path"),
    ("metadata", "postgresql"): ("objstore.backends.postgres", "PostgresMetadataStore", "url"),
    ("metadata", "postgres"): ("objstore.backends.postgres", "PostgresMetadataStore", "url"),
    ("chunks", "memory"): ("objstore.blob.memory", "MemoryChunkStore", ""),
    ("chunks", "file"): ("objstore.blob.files", "FileChunkStore", "path"),
    ("chunks", "s3"): ("objstore.backends.s3", "S3ChunkStore", "url"),
}


def _open(spec: BackendUrl) -> object:
    module, cls, takes = _BACKENDS[spec.role, spec.scheme]

    def make() -> object:
        if takes == "url":
            return _from_url(module, cls, spec.url)
        backend: Any = getattr(importlib.import_module(module), cls)
        return backend(os.path.abspath(spec.path or "")) if takes == "path" else backend()

    return _build(spec, make)


def open_metadata(spec: BackendUrl) -> MetadataStore:
    """A metadata store for a parsed URL (``lmdb:`` creates its directory).

    Raises InvalidArgument (bad URL, backend not installed), what the backend raises
    (with secrets scrubbed), ServiceUnavailable when it cannot be reached.
    """
    store = _open(spec)
    if not isinstance(store, MetadataStore):
        raise InvalidArgument(f"{spec.shown} did not open a MetadataStore", argument="metadata")
    return store


def open_chunks(spec: BackendUrl) -> ChunkStore:
    """A chunk store for a parsed URL (``file:`` creates its directory).

    Raises InvalidArgument (bad URL, backend not installed), what the backend raises
    (with secrets scrubbed), ServiceUnavailable when it cannot be reached.
    """
    store = _open(spec)
    if not isinstance(store, ChunkStore):
        raise InvalidArgument(f"{spec.shown} did not open a ChunkStore", argument="chunks")
    return store


def _from_url(module: str, cls: str, url: str) -> object:
    """``<module>.<cls>.from_url(url)``, imported only now (the client library it needs is
    imported with it)."""
    backend: Any = getattr(importlib.import_module(module), cls)
    return backend.from_url(url)
