"""Tests for objstore.iam.glob: IAM wildcard patterns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.iam.glob import Glob, Wild


def reference_match(pattern: str, text: str) -> bool:
    """Slow, obviously-correct dynamic programming matcher for '*' and '?'."""
    n = len(text)
    # reach[j]: pattern prefix consumed so far can end at text position j
    reach = [True] + [False] * n
    for ch in pattern:
        if ch == "*":
            seen = False
            for j in range(n + 1):
                seen = seen or reach[j]
                reach[j] = seen
        elif ch == "?":
            reach = [False, *reach[:-1]]
        else:
            reach = [False] + [reach[j] and text[j] == ch for j in range(n)]
    return reach[n]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("*", "anything/at:all", True),
        ("", "", True),
        ("", "a", False),
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", True),
        ("*.txt", "dir/file.txt", True),
        ("*.txt", "dir/file.txtx", False),
        ("home/*/docs/*", "home/alice/docs/x", True),
        ("home/*/docs/*", "home/alice/pics/x", False),
        ("a*b?c*d", "aXXbYcZZd", True),
        ("a*b?c*d", "abcd", False),
        ("*a*a*a*", "aaa", True),
        ("*a*a*a*", "aa", False),
        ("a*a", "a", False),
        ("??", "ab", True),
        ("??", "abc", False),
        ("*?", "", False),
        ("?*", "x", True),
    ],
)
def test_examples(pattern: str, text: str, expected: bool) -> None:
    """Hand-picked patterns match exactly as IAM documents."""
    assert Glob.compile(pattern).match(text) is expected


def test_regex_metacharacters_are_literal() -> None:
    """'.', '(', '[', '+', '\\' and '$' in a pattern are plain characters."""
    assert Glob.compile("arn:aws:s3:::b.c/(x)[y]+$\\").match("arn:aws:s3:::b.c/(x)[y]+$\\")
    assert not Glob.compile("a.c").match("abc")
    assert not Glob.compile("a.*").match("abc")
    assert Glob.compile("a.*").match("a.bc")
    assert not Glob.compile("[ab]*").match("a")
    assert not Glob.compile("x?[ab]").match("xya")
    assert Glob.compile("x?[ab]").match("xy[ab]")


def test_case_sensitivity() -> None:
    """Case-sensitive unless asked; ignore_case folds both sides."""
    assert not Glob.compile("s3:GetObject").match("s3:getobject")
    assert Glob.compile("s3:GetObject", ignore_case=True).match("S3:GETOBJECT")
    assert Glob.compile("s3:Get*", ignore_case=True).match("s3:getobjectacl")
    assert Glob.compile("S3:?ETOBJECT", ignore_case=True).match("s3:getObject")
    assert not Glob.compile("s3:Get*", ignore_case=True).match("s3:PutObject")


def test_literal_fast_path() -> None:
    """A pattern without wildcards is literal and reports its text."""
    glob = Glob.compile("arn:aws:s3:::b/k")
    assert glob.is_literal
    assert glob.literal == "arn:aws:s3:::b/k"
    assert not Glob.compile("b/*").is_literal
    assert Glob.compile("b/*").literal is None
    assert Glob.compile("*").matches_everything
    assert Glob.compile("**").matches_everything
    assert not Glob.compile("*a").matches_everything


def test_from_parts_keeps_literal_wildcard_characters() -> None:
    """'*' and '?' inside literal parts (substituted variables) are not wildcards."""
    glob = Glob.from_parts(["home/", "a*b", "/", Wild.STAR])
    assert glob.match("home/a*b/x")
    assert not glob.match("home/aXb/x")
    question = Glob.from_parts(["x", "?"])
    assert question.is_literal
    assert question.match("x?")
    assert not question.match("xy")
    assert Glob.from_parts(["x", Wild.QUESTION]).match("xy")


def test_from_parts_rejects_other_types() -> None:
    """Parts must be str or Wild: anything else is a programming error."""
    with pytest.raises(TypeError):
        Glob.from_parts([1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Glob.compile(None)  # type: ignore[arg-type]


def test_equality_and_immutability() -> None:
    """Globs compare by pattern and are frozen."""
    assert Glob.compile("a*") == Glob.compile("a**")
    assert Glob.compile("a*") != Glob.compile("a*", ignore_case=True)
    glob = Glob.compile("a*")
    with pytest.raises(AttributeError):
        glob.is_literal = True  # type: ignore[misc]
    assert str(glob) == "a*"


def test_pathological_pattern_is_fast() -> None:
    """Many stars against a long near-miss text finish quickly (no backtracking blow-up)."""
    glob = Glob.compile("*a" * 30 + "*b")
    text = "a" * 5000
    assert not glob.match(text)
    assert glob.match(text + "b")


_ALPHABET = "ab*?:/."


@settings(max_examples=600, deadline=None)
@given(st.text(_ALPHABET, max_size=10), st.text("ab:/.*?", max_size=12))
def test_matches_reference(pattern: str, text: str) -> None:
    """Glob.match agrees with a simple dynamic-programming matcher."""
    assert Glob.compile(pattern).match(text) is reference_match(pattern, text)


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=10), st.text("aAbB:/", max_size=12))
def test_ignore_case_matches_reference(pattern: str, text: str) -> None:
    """ignore_case is the reference match of the lower-cased pattern and text."""
    expected = reference_match(pattern.lower(), text.lower())
    assert Glob.compile(pattern.upper(), ignore_case=True).match(text) is expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_literal_text_matches_only_itself(text: str) -> None:
    """A pattern built from literal text matches that text and no other."""
    glob = Glob.literal_text(text)
    assert glob.match(text)
    assert not glob.match(text + "x")
    assert glob.is_literal
