"""The validation table: invalid policy documents and the error each must give,
and valid but tricky documents that must parse (tests/iam/cases/documents.py).
"""

from __future__ import annotations

import re

import pytest

from objstore.errors import MalformedPolicyDocument
from objstore.iam import Policy

from .cases.documents import INVALID, VALID, Invalid, Valid

# Documents where the engine disagrees with the documented rule (strict: remove the
# entry once the engine is fixed).
XFAIL_INVALID: dict[str, str] = {}
XFAIL_VALID: dict[str, str] = {}


def _params(rows: list[Invalid] | list[Valid], xfail: dict[str, str]) -> list[object]:
    out: list[object] = []
    for row in rows:
        marks = []
        if row.id in xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=xfail[row.id]))
        out.append(pytest.param(row, id=row.id, marks=marks))
    return out


def _line_of(err: MalformedPolicyDocument) -> int | None:
    line = err.details.get("line")
    if isinstance(line, int):
        return line
    found = re.search(r"\bline\W*(\d+)", err.message, re.IGNORECASE)
    return int(found.group(1)) if found else None


@pytest.mark.parametrize("case", _params(INVALID, XFAIL_INVALID))
def test_invalid_document(case: Invalid) -> None:
    """The document is rejected with MalformedPolicyDocument naming the offending element."""
    with pytest.raises(MalformedPolicyDocument) as caught:
        Policy.from_json(case.text, kind=case.kind)
    message = caught.value.message.lower()
    assert any(needle.lower() in message for needle in case.needles), (
        f"{case.id}: {caught.value.message!r} names none of {case.needles}"
    )
    if case.line is not None:
        assert _line_of(caught.value) == case.line, f"{case.id}: {caught.value.message!r}"


@pytest.mark.parametrize("case", _params(VALID, XFAIL_VALID))
def test_valid_document(case: Valid) -> None:
    """The document parses, keeps its source text and yields its statements."""
    policy = Policy.from_json(case.text, kind=case.kind)
    text = case.text.decode("utf-8") if isinstance(case.text, bytes) else case.text
    assert policy.source == text
    assert policy.kind == case.kind


def test_tables_are_large_and_unique() -> None:
    """At least 100 invalid documents; ids unique across both tables."""
    assert len(INVALID) >= 100
    ids = [row.id for row in INVALID] + [row.id for row in VALID]
    assert len(set(ids)) == len(ids)
    assert set(XFAIL_INVALID) <= {row.id for row in INVALID}
    assert set(XFAIL_VALID) <= {row.id for row in VALID}
