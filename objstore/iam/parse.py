"""Parsing and validating policy documents into compiled statements (behind ``Policy.from_json``).

:func:`parse` checks, in this order, and raises
:class:`~objstore.errors.MalformedPolicyDocument` at the first problem, naming the element
(``Statement[2].Action[0]``) and, when the problem has a place, its line and column:

1. the input is text (or UTF-8 bytes) and not empty;
2. its length, whitespace included, is at most :data:`MAX_DOCUMENT_CHARS` (AWS's cap on a
   policy document parameter), then its size, whitespace not counted, is within the limit
   of its kind (:data:`SIZE_LIMITS`);
3. every character is in the allowed set (IAM's ``\\t \\n \\r U+0020-U+00FF`` for identity,
   trust, boundary and session policies; any character but control characters for
   resource policies, whose S3 keys may be any Unicode);
4. it is strict JSON (no duplicate keys anywhere);
5. the grammar: known elements only, right value types, ``Version``, ``Effect``, ``Sid``,
   Action/NotAction, Resource/NotResource and Principal/NotPrincipal rules per kind, ARNs,
   policy variables, and the Condition block (operators and values, via ``conditions.py``).

Everything a decision needs is compiled here: action patterns (case-insensitive),
resource patterns or variable templates (case-sensitive, see ``matchers.py``), the
principal element, and the condition block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from objstore.errors import MalformedPolicyDocument
from objstore.iam import _json
from objstore.iam._json import JArray, JBool, JNumber, JObject, JsonError, JString, Node
from objstore.iam.conditions import EMPTY as EMPTY_CONDITION
from objstore.iam.conditions import ConditionBlock, operator_error
from objstore.iam.matchers import ActionMatcher, ResourceEntry, ResourceMatcher, compile_resource
from objstore.iam.principal import PrincipalElement
from objstore.iam.statement import Position, Statement

__all__ = [
    "DEFAULT_VERSION",
    "KINDS",
    "MAX_DOCUMENT_CHARS",
    "SIZE_LIMITS",
    "VERSIONS",
    "Kind",
    "Parsed",
    "document_size",
    "parse",
]

Kind: TypeAlias = Literal["identity", "resource", "trust", "boundary", "session"]
KINDS: tuple[Kind, ...] = ("identity", "resource", "trust", "boundary", "session")

# Characters, whitespace not counted. Identity and boundary policies are managed policies
# (6,144); a bucket policy is limited to 20 KB by S3; role trust policies and STS session
# policies to 2,048.
SIZE_LIMITS: Mapping[Kind, int] = {
    "identity": 6144,
    "resource": 20480,
    "trust": 2048,
    "boundary": 6144,
    "session": 2048,
}
# The longest document text accepted, whitespace included (the IAM API's PolicyDocument
# length constraint): without it a document padded with megabytes of whitespace would be
# within every size limit above and stored whole.
MAX_DOCUMENT_CHARS = 131_072
VERSIONS = ("2012-10-17", "2008-10-17")
# AWS treats a policy without Version as the original language: variables are literal.
DEFAULT_VERSION = "2008-10-17"

_TOP_KEYS = ("Version", "Id", "Statement")
_STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_WHITESPACE = " \t\n\r"
# The IAM API's policy document character set, and for resource policies: no controls.
_BAD_IAM_CHAR = re.compile(r"[^\t\n\r\x20-\xff]")
_BAD_RESOURCE_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SID = re.compile(r"[A-Za-z0-9]*")
_ACTION = re.compile(r"[A-Za-z0-9_.-]+:[A-Za-z0-9_.*?-]+")
_KINDS_WITHOUT_PRINCIPAL = ("identity", "boundary", "session")


class _Problem(Exception):
    """Internal: a validation failure at an offset; turned into MalformedPolicyDocument."""

    def __init__(self, element: str, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.element = element
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Parsed:
    """A valid document's compiled parts (``Policy.from_json`` wraps them in a Policy)."""

    version: str
    id: str | None
    statements: tuple[Statement, ...]
    source: str
    size: int


def parse(text: object, kind: Kind, *, stored: bool = False) -> Parsed:
    """Parse and validate ``text`` as a policy of ``kind`` (a known kind).

    ``stored``: the text is read back from storage, not being written. The
    :data:`MAX_DOCUMENT_CHARS` cap (step 2) is a limit on what may be written: a document
    an earlier version accepted above it is still read (every other rule holds).

    Raises MalformedPolicyDocument for anything invalid; no other exception escapes.
    """
    return _Compiler(kind, stored).compile(text)


def _a(kind: str) -> str:
    """'an identity', 'a resource' ..."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def document_size(text: str) -> int:
    """A document's size as its kind's limit counts it: characters, whitespace not
    counted (no parse needed: what a stored document weighs against a quota)."""
    return len(text) - sum(text.count(ch) for ch in _WHITESPACE)


def _malformed(message: str, element: str | None, position: tuple[int, int] | None) -> Exception:
    where = f"{element}: " if element else ""
    if position is None:
        return MalformedPolicyDocument(f"{where}{message}", element=element)
    line, column = position
    return MalformedPolicyDocument(
        f"{where}{message} (line {line}, column {column})",
        element=element,
        line=line,
        column=column,
    )


class _Compiler:
    """Walks the JSON tree of one document; raises _Problem at the first error."""

    def __init__(self, kind: Kind, stored: bool = False) -> None:
        self.kind: Kind = kind
        self.stored = stored
        self.version = DEFAULT_VERSION
        self.bad_char = _BAD_RESOURCE_CHAR if kind == "resource" else _BAD_IAM_CHAR

    def compile(self, data: object) -> Parsed:
        if not isinstance(data, str | bytes | bytearray | memoryview):
            raise _malformed(
                f"a policy document must be JSON text, not {type(data).__name__}", None, None
            )
        try:
            text = _json.decode(data)
        except JsonError as exc:
            raise _malformed(exc.message, None, None) from None
        if len(text) > MAX_DOCUMENT_CHARS and not self.stored:
            raise _malformed(
                f"the policy document has {len(text)} characters (whitespace included); "
                f"at most {MAX_DOCUMENT_CHARS} are allowed",
                None,
                None,
            )
        if not text.strip(_WHITESPACE):
            raise _malformed("the policy document is empty", None, None)
        size = document_size(text)
        limit = SIZE_LIMITS[self.kind]
        if size > limit:
            raise _malformed(
                f"the policy has {size} characters (whitespace not counted); "
                f"{_a(self.kind)} policy may have at most {limit}",
                None,
                None,
            )
        bad = self.bad_char.search(text)
        if bad is not None:
            doc_starts = _json._line_starts(text)
            raise _malformed(
                f"character U+{ord(bad.group(0)):04X} is not allowed in {_a(self.kind)} policy",
                None,
                _json._position(doc_starts, bad.start()),
            )
        try:
            doc = _json.parse(text)
        except JsonError as exc:
            raise _malformed(f"invalid JSON: {exc.message}", None, (exc.line, exc.column)) from None
        try:
            return self.document(doc, size)
        except _Problem as problem:
            position = None if problem.offset is None else doc.position(problem.offset)
            raise _malformed(problem.message, problem.element, position) from None

    # --- helpers ---

    def string(self, node: Node, element: str) -> str:
        if not isinstance(node, JString):
            raise _Problem(element, f"must be a string, not {_json.type_name(node)}", node.start)
        self.check_chars(node.value, element, node.start)
        return node.value

    def check_chars(self, value: str, element: str, offset: int) -> None:
        # Escapes such as \u0000 get past the raw-text check; decoded text must pass too.
        bad = self.bad_char.search(value)
        if bad is not None:
            raise _Problem(
                element,
                f"character U+{ord(bad.group(0)):04X} is not allowed in {_a(self.kind)} policy",
                offset,
            )

    def strings(self, node: Node, element: str) -> list[tuple[str, int]]:
        """A string or a non-empty array of strings, with their offsets."""
        if isinstance(node, JString):
            return [(self.string(node, element), node.start)]
        if isinstance(node, JArray):
            if not node.items:
                raise _Problem(element, "must not be an empty list", node.start)
            return [
                (self.string(item, f"{element}[{i}]"), item.start)
                for i, item in enumerate(node.items)
            ]
        raise _Problem(
            element,
            f"must be a string or a list of strings, not {_json.type_name(node)}",
            node.start,
        )

    # --- document ---

    def document(self, doc: _json.Document, size: int) -> Parsed:
        root = doc.root
        if not isinstance(root, JObject):
            raise _Problem(
                "Policy", f"must be a JSON object, not {_json.type_name(root)}", root.start
            )
        for member in root:
            self.check_chars(member.key, "Policy", member.key_start)
            if member.key not in _TOP_KEYS:
                raise _Problem(
                    member.key,
                    "unknown top-level element (expected Version, Id, Statement)",
                    member.key_start,
                )
        version_member = root.get("Version")
        if version_member is not None:
            version = self.string(version_member.value, "Version")
            if version not in VERSIONS:
                raise _Problem(
                    "Version",
                    f"must be 2012-10-17 or 2008-10-17, not {version!r}",
                    version_member.value.start,
                )
            self.version = version
        policy_id: str | None = None
        id_member = root.get("Id")
        if id_member is not None:
            policy_id = self.string(id_member.value, "Id")
        statement_member = root.get("Statement")
        if statement_member is None:
            raise _Problem("Statement", "is required", root.start)
        node = statement_member.value
        if isinstance(node, JObject):
            nodes: tuple[Node, ...] = (node,)
        elif isinstance(node, JArray):
            # An empty list is valid and grants nothing.
            nodes = node.items
        else:
            raise _Problem(
                "Statement",
                f"must be an object or a list of objects, not {_json.type_name(node)}",
                node.start,
            )
        statements: list[Statement] = []
        sids: dict[str, int] = {}
        for index, item in enumerate(nodes):
            label = "Statement" if isinstance(node, JObject) else f"Statement[{index}]"
            statement = self.statement(item, index, label, doc)
            if statement.sid:
                if statement.sid in sids:
                    sid_member = item.get("Sid") if isinstance(item, JObject) else None
                    raise _Problem(
                        f"{label}.Sid",
                        f"duplicate Sid {statement.sid!r} "
                        f"(also in Statement[{sids[statement.sid]}])",
                        sid_member.value.start if sid_member is not None else item.start,
                    )
                sids[statement.sid] = index
            statements.append(statement)
        return Parsed(self.version, policy_id, tuple(statements), doc.text, size)

    # --- statement ---

    def statement(self, node: Node, index: int, label: str, doc: _json.Document) -> Statement:
        if not isinstance(node, JObject):
            raise _Problem(label, f"must be an object, not {_json.type_name(node)}", node.start)
        for member in node:
            self.check_chars(member.key, label, member.key_start)
            if member.key not in _STATEMENT_KEYS:
                raise _Problem(
                    f"{label}.{member.key}",
                    "unknown statement element (expected Sid, Effect, Principal, NotPrincipal, "
                    "Action, NotAction, Resource, NotResource, Condition)",
                    member.key_start,
                )
        sid = self.sid(node, label)
        effect = self.effect(node, label)
        principal, not_principal = self.principal(node, label, effect)
        action = self.action(node, label)
        resource = self.resource(node, label)
        condition = self.condition(node, label)
        start_line, start_col = doc.position(node.start)
        end_line, end_col = doc.position(node.end)
        return Statement(
            index=index,
            sid=sid,
            effect=effect,
            action=action,
            resource=resource,
            principal=principal,
            not_principal=not_principal,
            condition=condition,
            start=Position(start_line, start_col),
            end=Position(end_line, end_col),
        )

    def sid(self, node: JObject, label: str) -> str | None:
        member = node.get("Sid")
        if member is None:
            return None
        sid = self.string(member.value, f"{label}.Sid")
        # IAM restricts Sids to letters and digits; S3 bucket policies take any text (the
        # S3 User Guide's own examples use Sids with blanks and dots), so resource
        # policies only get the character-set check ``string`` already made.
        if self.kind != "resource" and not _SID.fullmatch(sid):
            raise _Problem(
                f"{label}.Sid",
                f"{sid!r} is not a valid Sid (only letters A-Z, a-z and digits 0-9)",
                member.value.start,
            )
        return sid

    def effect(self, node: JObject, label: str) -> Literal["Allow", "Deny"]:
        member = node.get("Effect")
        if member is None:
            raise _Problem(f"{label}.Effect", "is required", node.start)
        effect = self.string(member.value, f"{label}.Effect")
        if effect == "Allow":
            return "Allow"
        if effect == "Deny":
            return "Deny"
        raise _Problem(
            f"{label}.Effect",
            f'must be "Allow" or "Deny" (case-sensitive), not {effect!r}',
            member.value.start,
        )

    def principal(
        self, node: JObject, label: str, effect: str
    ) -> tuple[PrincipalElement | None, bool]:
        positive = node.get("Principal")
        negative = node.get("NotPrincipal")
        kind = self.kind
        if kind in _KINDS_WITHOUT_PRINCIPAL:
            present = positive or negative
            if present is not None:
                raise _Problem(
                    f"{label}.{present.key}",
                    f"is not allowed in {_a(kind)} policy",
                    present.key_start,
                )
            return None, False
        if positive is not None and negative is not None:
            raise _Problem(
                f"{label}.NotPrincipal",
                "Principal and NotPrincipal cannot be used together",
                negative.key_start,
            )
        if negative is not None:
            if kind == "trust":
                raise _Problem(
                    f"{label}.NotPrincipal", "is not allowed in a trust policy", negative.key_start
                )
            if effect != "Deny":
                raise _Problem(
                    f"{label}.NotPrincipal",
                    'is only supported with "Effect": "Deny"',
                    negative.key_start,
                )
        member = positive or negative
        if member is None:
            raise _Problem(f"{label}.Principal", f"is required in {_a(kind)} policy", node.start)
        element = f"{label}.{member.key}"
        raw = self.principal_value(member.value, element)
        try:
            return PrincipalElement.compile(raw), member is negative
        except ValueError as exc:
            raise _Problem(element, str(exc), member.value.start) from None

    def principal_value(self, node: Node, element: str) -> object:
        """The element as plain values, type-checked (PrincipalElement checks the rest)."""
        if isinstance(node, JString):
            return self.string(node, element)
        if not isinstance(node, JObject):
            raise _Problem(
                element,
                f'must be "*" or an object, not {_json.type_name(node)}',
                node.start,
            )
        raw: dict[str, object] = {}
        for member in node:
            sub = f"{element}.{member.key}"
            self.check_chars(member.key, element, member.key_start)
            values = self.strings(member.value, sub)
            for value, offset in values:
                if not value:
                    raise _Problem(sub, "must not be empty", offset)
            raw[member.key] = [v for v, _ in values]
        if not raw:
            raise _Problem(element, "must not be an empty object", node.start)
        try:
            PrincipalElement.compile(raw)
        except ValueError as exc:
            # Point at the offending value when we can find it.
            offset = node.start
            for member in node:
                try:
                    PrincipalElement.compile({member.key: raw[member.key]})
                except ValueError:
                    offset = member.key_start
                    break
            raise _Problem(element, str(exc), offset) from None
        return raw

    def action(self, node: JObject, label: str) -> ActionMatcher:
        positive = node.get("Action")
        negative = node.get("NotAction")
        if positive is not None and negative is not None:
            raise _Problem(
                f"{label}.NotAction",
                "Action and NotAction cannot be used together",
                negative.key_start,
            )
        member = positive or negative
        if member is None:
            raise _Problem(f"{label}.Action", "Action or NotAction is required", node.start)
        element = f"{label}.{member.key}"
        patterns: list[str] = []
        for value, offset in self.strings(member.value, element):
            if value != "*" and not _ACTION.fullmatch(value):
                raise _Problem(
                    element,
                    f'{value!r} is not an action: expected "*" or service:ActionName '
                    "(letters, digits, * and ? after the colon)",
                    offset,
                )
            patterns.append(value)
        return ActionMatcher.compile(patterns, negated=member is negative)

    def resource(self, node: JObject, label: str) -> ResourceMatcher | None:
        positive = node.get("Resource")
        negative = node.get("NotResource")
        if self.kind == "trust":
            present = positive or negative
            if present is not None:
                raise _Problem(
                    f"{label}.{present.key}",
                    "is not allowed in a trust policy (the resource is the role itself)",
                    present.key_start,
                )
            return None
        if positive is not None and negative is not None:
            raise _Problem(
                f"{label}.NotResource",
                "Resource and NotResource cannot be used together",
                negative.key_start,
            )
        member = positive or negative
        if member is None:
            raise _Problem(f"{label}.Resource", "Resource or NotResource is required", node.start)
        element = f"{label}.{member.key}"
        entries = [
            self.resource_entry(value, element, offset)
            for value, offset in self.strings(member.value, element)
        ]
        return ResourceMatcher.compile(entries, negated=member is negative)

    def resource_entry(self, value: str, element: str, offset: int) -> ResourceEntry:
        try:
            return compile_resource(value, version=self.version)
        except ValueError as exc:
            raise _Problem(element, str(exc), offset) from None

    def condition(self, node: JObject, label: str) -> ConditionBlock:
        member = node.get("Condition")
        if member is None:
            return EMPTY_CONDITION
        element = f"{label}.Condition"
        block = member.value
        if not isinstance(block, JObject):
            raise _Problem(element, f"must be an object, not {_json.type_name(block)}", block.start)
        raw: dict[str, dict[str, list[object]]] = {}
        for op in block:
            self.check_chars(op.key, element, op.key_start)
            op_element = f"{element}.{op.key}"
            if not op.key:
                raise _Problem(element, "empty condition operator", op.key_start)
            if not isinstance(op.value, JObject):
                raise _Problem(
                    op_element,
                    f"must be an object of condition keys, not {_json.type_name(op.value)}",
                    op.value.start,
                )
            if not op.value.members:
                raise _Problem(op_element, "must name at least one condition key", op.value.start)
            keys: dict[str, list[object]] = {}
            for key in op.value:
                self.check_chars(key.key, op_element, key.key_start)
                key_element = f"{op_element}.{key.key}"
                if not key.key:
                    raise _Problem(op_element, "empty condition key", key.key_start)
                keys[key.key] = self.condition_values(key.value, key_element)
            raw[op.key] = keys
        try:
            return ConditionBlock.compile(raw, version=self.version)
        except ValueError as exc:
            first_error = str(exc)
        # Locate the problem to point at it: the operator's name, else the key's first
        # value that is wrong on its own (a date that is not a date ...), else the key.
        for op in block:
            op_element = f"{element}.{op.key}"
            bad_operator = operator_error(op.key)
            if bad_operator is not None:
                raise _Problem(op_element, bad_operator, op.key_start)
            assert isinstance(op.value, JObject)  # checked above
            for key in op.value:
                values = raw[op.key][key.key]
                try:
                    ConditionBlock.compile({op.key: {key.key: values}}, version=self.version)
                except ValueError as exc:
                    offset = key.key_start
                    if key.key.strip():
                        nodes = key.value.items if isinstance(key.value, JArray) else (key.value,)
                        for value, value_node in zip(values, nodes, strict=True):
                            try:
                                ConditionBlock.compile(
                                    {op.key: {key.key: [value]}}, version=self.version
                                )
                            except ValueError:
                                offset = value_node.start
                                break
                    raise _Problem(f"{op_element}.{key.key}", str(exc), offset) from None
        raise _Problem(element, first_error, block.start)

    def condition_values(self, node: Node, element: str) -> list[object]:
        items = node.items if isinstance(node, JArray) else (node,)
        if isinstance(node, JArray) and not items:
            raise _Problem(element, "must not be an empty list", node.start)
        values: list[object] = []
        for item in items:
            if isinstance(item, JString):
                self.check_chars(item.value, element, item.start)
                values.append(item.value)
            elif isinstance(item, JBool | JNumber):
                values.append(item.value)
            else:
                raise _Problem(
                    element,
                    "condition values must be strings, numbers or booleans, "
                    f"not {_json.type_name(item)}",
                    item.start,
                )
        return values
