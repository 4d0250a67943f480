"""AWS Query answers: output shapes that write a result as XML, and the two documents.

An output shape writes one value under one element name: scalars (:data:`TEXT`,
:data:`INTEGER`, :data:`BOOLEAN`, :data:`TIME` as ISO 8601 UTC, :data:`POLICY` URL-encoded
as IAM returns policy documents, :data:`BLOB` base64), :class:`Members` (a list as
``<Name><member>..</member></Name>``), :class:`Struct` (named fields read from a result
object; a field whose value is None is left out, as AWS leaves out absent members) and
:data:`TAGS` (a mapping as AWS's list of Key/Value pairs). :func:`response_document` and
:func:`error_document` wrap them in the envelopes botocore's Query parser reads. Pure.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

from objstore.gateway import xmltext

__all__ = [
    "BLOB",
    "BOOLEAN",
    "INTEGER",
    "POLICY",
    "TAGS",
    "TEXT",
    "TIME",
    "Field",
    "Members",
    "OutShape",
    "Struct",
    "error_document",
    "field",
    "iso8601",
    "response_document",
    "write_fields",
]

# Element text goes through the gateway's one escaping path (S3's answers use it too):
# markup escaped, carriage returns kept, characters XML 1.0 cannot carry as U+FFFD.
escape = xmltext.escape


def iso8601(when: datetime) -> str:
    """``2026-11-30T21:50:19Z`` (with microseconds when there are any), in UTC."""
    when = when.astimezone(UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}"
    return text + "Z"


class OutShape(Protocol):
    def write(self, out: list[str], name: str, value: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class _Scalar:
    render: Callable[[Any], str]

    def write(self, out: list[str], name: str, value: Any) -> None:
        out.append(f"<{name}>{escape(self.render(value))}</{name}>")


def _boolean(value: Any) -> str:
    return "true" if value else "false"


def _integer(value: Any) -> str:
    return str(int(value))


def _blob(value: Any) -> str:
    raw = value.encode() if isinstance(value, str) else bytes(value)
    return base64.b64encode(raw).decode("ascii")


def _policy(value: Any) -> str:
    # IAM returns policy documents URL-encoded (RFC 3986); boto3 decodes them again.
    return quote(str(value), safe="-_.~")


TEXT: OutShape = _Scalar(str)
INTEGER: OutShape = _Scalar(_integer)
BOOLEAN: OutShape = _Scalar(_boolean)
TIME: OutShape = _Scalar(iso8601)
BLOB: OutShape = _Scalar(_blob)
POLICY: OutShape = _Scalar(_policy)


@dataclass(frozen=True, slots=True)
class Field:
    """One member of a structure: its element name, how to read it, its shape."""

    name: str
    get: Callable[[Any], Any]
    shape: OutShape


def field(name: str, get: str | Callable[[Any], Any], shape: OutShape = TEXT) -> Field:
    """A :class:`Field` reading attribute ``get`` (or calling it) on the value."""
    if isinstance(get, str):
        attr = get

        def read(value: Any) -> Any:
            return getattr(value, attr)

        return Field(name, read, shape)
    return Field(name, get, shape)


def write_fields(out: list[str], fields: tuple[Field, ...], value: Any) -> None:
    for f in fields:
        item = f.get(value)
        if item is not None:
            f.shape.write(out, f.name, item)


@dataclass(frozen=True, slots=True)
class Struct:
    fields: tuple[Field, ...]

    def write(self, out: list[str], name: str, value: Any) -> None:
        out.append(f"<{name}>")
        write_fields(out, self.fields, value)
        out.append(f"</{name}>")


@dataclass(frozen=True, slots=True)
class Members:
    item: OutShape

    def write(self, out: list[str], name: str, value: Any) -> None:
        out.append(f"<{name}>")
        for member in value:
            self.item.write(out, "member", member)
        out.append(f"</{name}>")


_TAG = Struct((field("Key", lambda kv: kv[0]), field("Value", lambda kv: kv[1])))


class _Tags:
    def write(self, out: list[str], name: str, value: Any) -> None:
        pairs: Mapping[str, str] = value
        Members(_TAG).write(out, name, list(pairs.items()))


TAGS: OutShape = _Tags()

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def response_document(
    action: str, namespace: str, result: list[str] | None, request_id: str
) -> bytes:
    """``<ActionResponse xmlns=..><ActionResult>..</ActionResult><ResponseMetadata>``; an
    action without output has no Result element, as AWS answers."""
    parts = [_DECLARATION, f'<{action}Response xmlns="{namespace}">']
    if result is not None:
        parts.append(f"<{action}Result>")
        parts.extend(result)
        parts.append(f"</{action}Result>")
    parts.append(
        f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
    )
    parts.append(f"</{action}Response>")
    return "".join(parts).encode("utf-8")


def error_document(namespace: str, code: str, message: str, sender: bool, request_id: str) -> bytes:
    """AWS's Query error: ``<ErrorResponse><Error><Type>Sender|Receiver</Type><Code/>
    <Message/></Error><RequestId/></ErrorResponse>``."""
    return (
        f'{_DECLARATION}<ErrorResponse xmlns="{namespace}"><Error>'
        f"<Type>{'Sender' if sender else 'Receiver'}</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    ).encode()
