"""AWS Query parameters: the flat form of a request, decoded against declared input shapes.

The Query protocol flattens structured arguments into dotted names:
``Tags.member.1.Key=k&Tags.member.1.Value=v`` is a list of structures,
``ActionNames.member.2=s3:GetObject`` a list of strings, ``Tags=`` an empty list.
:func:`parse_form` turns the pairs into a tree of :class:`Node` (no interpretation yet);
an input shape (:data:`TEXT`, :data:`INTEGER`, :data:`BOOLEAN`, :class:`ListOf`,
:class:`StructOf`, :data:`JSON_OBJECT`) then reads one node into a Python value, raising
ValidationError for anything that does not fit. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from objstore.errors import ValidationError

__all__ = [
    "BOOLEAN",
    "INTEGER",
    "JSON_OBJECT",
    "STRINGS",
    "TEXT",
    "InShape",
    "ListOf",
    "Node",
    "StructOf",
    "missing",
    "parse_form",
]

_INTEGER = re.compile(r"-?[0-9]{1,18}")
# A list index: AWS numbers members from 1; a bound keeps a hostile index from meaning much.
_INDEX = re.compile(r"[1-9][0-9]{0,5}")


@dataclass(slots=True)
class Node:
    """One dotted name: its own value (if the form gave one) and the names under it."""

    value: str | None = None
    children: dict[str, Node] = field(default_factory=dict)


def parse_form(form: Sequence[tuple[str, str]]) -> Node:
    """The form as a tree of names. Raises ValidationError for a name given twice."""
    root = Node()
    for name, value in form:
        node = root
        for part in name.split("."):
            node = node.children.setdefault(part, Node())
        if node.value is not None:
            # Two values for one name would let a proxy and this server read different
            # requests from the same bytes; AWS never needs it.
            raise ValidationError(f"parameter {name!r} is given more than once")
        node.value = value
    return root


class InShape(Protocol):
    """Reads one parameter's node into the value the library call takes."""

    def decode(self, name: str, node: Node) -> Any: ...


def _scalar(name: str, node: Node) -> str:
    if node.children or node.value is None:
        raise ValidationError(f"parameter {name!r} must be a single value")
    return node.value


class _Text:
    def decode(self, name: str, node: Node) -> str:
        return _scalar(name, node)


class _Integer:
    def decode(self, name: str, node: Node) -> int:
        text = _scalar(name, node)
        if not _INTEGER.fullmatch(text):
            raise ValidationError(f"parameter {name!r} must be an integer, not {text!r}")
        return int(text)


class _Boolean:
    def decode(self, name: str, node: Node) -> bool:
        text = _scalar(name, node).lower()
        if text not in ("true", "false"):
            raise ValidationError(f"parameter {name!r} must be true or false")
        return text == "true"


class _JsonObject:
    """A JSON object given as text (objstore's extensions, e.g. an OIDC provider's JWKS)."""

    def decode(self, name: str, node: Node) -> dict[str, Any]:
        text = _scalar(name, node)
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # deep nesting: review 10c, F1
            raise ValidationError(f"parameter {name!r} must be a JSON object") from None
        if not isinstance(value, dict):
            raise ValidationError(f"parameter {name!r} must be a JSON object")
        return value


@dataclass(frozen=True, slots=True)
class ListOf:
    """``Name.member.N`` (N from 1); ``Name=`` alone is the empty list."""

    item: InShape

    def decode(self, name: str, node: Node) -> list[Any]:
        if node.value not in (None, "") or set(node.children) - {"member"}:
            raise ValidationError(f"parameter {name!r} must be a list (Name.member.N)")
        members = node.children.get("member")
        if members is None:
            return []
        if members.value is not None or not all(_INDEX.fullmatch(i) for i in members.children):
            raise ValidationError(f"parameter {name!r}: list members are numbered from 1")
        ordered = sorted(members.children.items(), key=lambda kv: int(kv[0]))
        return [self.item.decode(f"{name}.member.{i}", child) for i, child in ordered]


@dataclass(frozen=True, slots=True)
class StructOf:
    """``Name.Field``: a structure, read as a dict of its fields' wire names."""

    fields: dict[str, InShape]
    required: tuple[str, ...] = ()

    def decode(self, name: str, node: Node) -> dict[str, Any]:
        if node.value is not None:
            raise ValidationError(f"parameter {name!r} must be a structure")
        unknown = sorted(set(node.children) - set(self.fields))
        if unknown:
            raise ValidationError(f"parameter {name!r} has no field {unknown[0]!r}")
        out = {
            key: self.fields[key].decode(f"{name}.{key}", child)
            for key, child in node.children.items()
        }
        for key in self.required:
            if key not in out:
                raise missing(f"{name}.{key}")
        return out


def missing(name: str) -> ValidationError:
    """AWS's answer to a required parameter that is absent."""
    last = name.rsplit(".", 1)[-1]
    camel = last[:1].lower() + last[1:]
    return ValidationError(
        f"1 validation error detected: Value null at '{camel}' failed to satisfy "
        "constraint: Member must not be null"
    )


TEXT: InShape = _Text()
INTEGER: InShape = _Integer()
BOOLEAN: InShape = _Boolean()
JSON_OBJECT: InShape = _JsonObject()
STRINGS: InShape = ListOf(TEXT)
