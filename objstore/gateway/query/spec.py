"""The shape of an action table row, and the generic work each row drives.

An :class:`Action` is data: the Query action's name, the client method it calls, its
parameters (wire name, input shape, keyword of the call), what its Result element holds
and, for list calls, a :class:`Page` (AWS's ``MaxItems``/``Marker``/``IsTruncated``, done
here over the library's whole list). :func:`decode_args` reads a request against a row;
:func:`render_result` writes the call's return value. Pure.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from objstore.errors import ValidationError
from objstore.gateway.query.form import INTEGER, TEXT, InShape, Node, missing
from objstore.gateway.query.xml import (
    BOOLEAN,
    Field,
    Members,
    OutShape,
    write_fields,
)
from objstore.gateway.query.xml import (
    TEXT as TEXT_OUT,
)

__all__ = [
    "MISSING",
    "Action",
    "Page",
    "Param",
    "decode_args",
    "param",
    "render_result",
]

MISSING: Any = object()
"""A parameter's default when nothing is passed to the call for an absent parameter."""

# Names every Query request may carry that are not arguments of the action.
_ENVELOPE = frozenset({"Action", "Version"})
_SIGV4_QUERY = "X-Amz-"
_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

DEFAULT_MAX_ITEMS = 100  # AWS's page size when MaxItems is not given
MAX_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class Param:
    """One request parameter. ``arg`` None: read by the gateway itself (paging, filters)."""

    wire: str
    shape: InShape
    arg: str | None
    required: bool
    default: Any


def param(
    wire: str,
    shape: InShape = TEXT,
    *,
    required: bool = False,
    arg: str | None = MISSING,
    default: Any = MISSING,
) -> Param:
    """A parameter passed to the call as the snake_case of its wire name unless ``arg`` says
    otherwise (None: the gateway's own); ``default`` is passed when it is absent."""
    name = _SNAKE.sub("_", wire).lower() if arg is MISSING else arg
    return Param(wire, shape, name, required, default)


@dataclass(frozen=True, slots=True)
class Page:
    """A paginated list in the Result: its element name, item shape and where the items are.

    ``key`` orders the items and makes markers point at an item (a page stays right when
    entries are added or removed between requests); without one, markers are positions.
    ``native``: the library call pages itself (``marker`` and ``max_items`` arguments, a
    :class:`~objstore.identity.results.Page` back), the gateway only writes the page.
    """

    name: str
    item: OutShape
    items: Callable[[Any], Sequence[Any]] = lambda value: value
    key: Callable[[Any], str] | None = None
    native: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """One Query action: the client method it calls and how its answer is written.

    ``result`` None and no ``page``: the answer has no Result element. ``view`` turns the
    call's return value (and the request's parameters, by wire name) into what the result
    fields read, for answers that hold more than the library's result.
    """

    name: str
    method: str
    params: tuple[Param, ...] = ()
    result: tuple[Field, ...] | None = None
    page: Page | None = None
    view: Callable[[Mapping[str, Any], Any], Any] | None = None

    def all_params(self) -> tuple[Param, ...]:
        if self.page is None:
            return self.params
        if self.page.native:
            return (
                *self.params,
                Param("MaxItems", INTEGER, "max_items", False, DEFAULT_MAX_ITEMS),
                Param("Marker", TEXT, "marker", False, MISSING),
            )
        return (
            *self.params,
            Param("MaxItems", INTEGER, None, False, MISSING),
            Param("Marker", TEXT, None, False, MISSING),
        )


def decode_args(action: Action, root: Node) -> tuple[dict[str, Any], dict[str, Any]]:
    """The call's keyword arguments and every given parameter's value by wire name.

    Raises ValidationError: a required parameter is absent, a value does not fit its
    shape, or a parameter the action does not take is present (objstore does not carry
    it out, and ignoring it would silently change what the caller asked for).
    """
    declared = {p.wire: p for p in action.all_params()}
    for name in root.children:
        if name not in declared and name not in _ENVELOPE and not name.startswith(_SIGV4_QUERY):
            raise ValidationError(f"{action.name} does not support the parameter {name!r}")
    kwargs: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for p in declared.values():
        node = root.children.get(p.wire)
        if node is None:
            if p.required:
                raise missing(p.wire)
            if p.default is not MISSING and p.arg is not None:
                kwargs[p.arg] = p.default
            continue
        value = p.shape.decode(p.wire, node)
        values[p.wire] = value
        if p.arg is not None:
            kwargs[p.arg] = value
    return kwargs, values


def render_result(action: Action, values: Mapping[str, Any], result: Any) -> list[str] | None:
    """The Result element's content (None: the action answers without one)."""
    if action.result is None and action.page is None:
        return None
    value = action.view(values, result) if action.view is not None else result
    out: list[str] = []
    write_fields(out, action.result or (), value)
    if action.page is not None:
        _write_page(out, action.page, value, values)
    return out


def _write_page(out: list[str], page: Page, value: Any, values: Mapping[str, Any]) -> None:
    if page.native:
        Members(page.item).write(out, page.name, list(value))
        BOOLEAN.write(out, "IsTruncated", value.is_truncated)
        if value.is_truncated:
            TEXT_OUT.write(out, "Marker", value.marker)
        return
    limit = values.get("MaxItems", DEFAULT_MAX_ITEMS)
    if not 1 <= limit <= MAX_ITEMS:
        raise ValidationError(f"MaxItems must be between 1 and {MAX_ITEMS}")
    items = list(page.items(value))
    marker = values.get("Marker")
    if page.key is not None:
        key = page.key
        items.sort(key=key)
        if marker is not None:
            after = _unmark(marker, "k")
            items = [item for item in items if key(item) > after]
    elif marker is not None:
        start = _unmark(marker, "p")
        if not start.isdigit():
            raise ValidationError("the Marker is not one this service gave")
        items = items[int(start) :]
    Members(page.item).write(out, page.name, items[:limit])
    truncated = len(items) > limit
    BOOLEAN.write(out, "IsTruncated", truncated)
    if truncated:
        if page.key is not None:
            next_marker = _mark("k", page.key(items[limit - 1]))
        else:
            done = int(_unmark(marker, "p")) if marker is not None else 0
            next_marker = _mark("p", str(done + limit))
        TEXT_OUT.write(out, "Marker", next_marker)


def _mark(kind: str, text: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{text}".encode()).decode("ascii")


def _unmark(marker: str, kind: str) -> str:
    try:
        text = base64.urlsafe_b64decode(marker.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationError("the Marker is not one this service gave") from None
    head, sep, rest = text.partition(":")
    if head != kind or not sep:
        raise ValidationError("the Marker is not one this service gave")
    return rest
