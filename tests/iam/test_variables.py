"""Tests for objstore.iam.variables: policy variables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objstore.iam.context import RequestContext
from objstore.iam.glob import Wild
from objstore.iam.variables import Template

V12 = "2012-10-17"
V08 = "2008-10-17"


def ctx(**values: object) -> RequestContext:
    """A context from keyword arguments; '__' stands for ':' and '_' for '/' in names."""
    return RequestContext.from_mapping(
        {k.replace("__", ":").replace("_", "/"): v for k, v in values.items()}
    )


def test_substitutes_username() -> None:
    """${aws:username} becomes the user name."""
    template = Template.compile("arn:aws:s3:::bucket/home/${aws:username}/*", version=V12)
    assert template.has_variables
    assert template.variables == frozenset({"aws:username"})
    assert template.variable_names == ("aws:username",)
    assert template.render(ctx(aws__username="alice")) == "arn:aws:s3:::bucket/home/alice/*"


def test_names_are_case_insensitive() -> None:
    """${AWS:UserName} finds aws:username; tag keys too."""
    context = RequestContext.from_mapping({"aws:username": "bob", "aws:PrincipalTag/Team": "red"})
    assert Template.compile("${AWS:UserName}", version=V12).render(context) == "bob"
    template = Template.compile("x-${aws:principaltag/team}", version=V12)
    assert template.variables == frozenset({"aws:principaltag/team"})
    assert template.render(context) == "x-red"


def test_unresolved_renders_none() -> None:
    """A missing key without default makes the value unresolvable."""
    template = Template.compile("home/${aws:username}", version=V12)
    assert template.render(RequestContext.from_mapping({})) is None
    assert template.render_glob(RequestContext.from_mapping({})) is None
    assert template.render_parts(RequestContext.from_mapping({})) is None
    assert template.missing_variables(RequestContext.from_mapping({})) == ["aws:username"]
    assert template.missing_variables(ctx(aws__username="x")) == []


def test_multivalued_key_is_unresolved() -> None:
    """A key with several (or zero) values cannot be a variable."""
    template = Template.compile("${aws:TagKeys}", version=V12)
    assert template.render(RequestContext.from_mapping({"aws:TagKeys": ["a", "b"]})) is None
    assert template.render(RequestContext.from_mapping({"aws:TagKeys": []})) is None
    assert template.render(RequestContext.from_mapping({"aws:TagKeys": ["a"]})) == "a"


def test_default_values() -> None:
    """${key, 'default'} supplies the default only when the key is unusable."""
    template = Template.compile("bucket-${aws:PrincipalTag/team, 'company-wide'}", version=V12)
    assert template.render(RequestContext.from_mapping({})) == "bucket-company-wide"
    team = RequestContext.from_mapping({"aws:PrincipalTag/team": "yellow"})
    assert template.render(team) == "bucket-yellow"
    many = RequestContext.from_mapping({"aws:PrincipalTag/team": ["a", "b"]})
    assert template.render(many) == "bucket-company-wide"
    assert template.missing_variables(RequestContext.from_mapping({})) == []
    # Blanks around the comma are optional; an empty default is allowed.
    assert Template.compile("${a:b,'x'}", version=V12).render(ctx()) == "x"
    assert Template.compile("${a:b ,  ''}", version=V12).render(ctx()) == ""
    # A default may contain characters that are special elsewhere.
    assert Template.compile("${a:b, '}*{'}", version=V12).render(ctx()) == "}*{"


def test_default_is_literal_in_glob() -> None:
    """A '*' in a default value is a literal character, not a wildcard."""
    glob = Template.compile("${a:b, 'x*'}", version=V12).render_glob(ctx())
    assert glob is not None
    assert glob.match("x*")
    assert not glob.match("xyz")


def test_escapes() -> None:
    """${*} ${?} ${$} are literal characters."""
    template = Template.compile("a${*}b${?}c${$}d", version=V12)
    assert not template.has_variables
    assert template.render(ctx()) == "a*b?c$d"
    glob = template.render_glob(ctx())
    assert glob is not None
    assert glob.is_literal
    assert glob.match("a*b?c$d")
    assert not glob.match("aXbYc$d")


def test_template_wildcards_stay_wild_but_values_do_not() -> None:
    """A user name containing '*' or '?' must not become a wildcard."""
    template = Template.compile("home/${aws:username}/*", version=V12)
    sneaky = ctx(aws__username="*")
    glob = template.render_glob(sneaky)
    assert glob is not None
    assert glob.match("home/*/file")
    assert not glob.match("home/alice/file")
    question = template.render_glob(ctx(aws__username="a?"))
    assert question is not None
    assert question.match("home/a?/x")
    assert not question.match("home/ab/x")
    parts = template.render_parts(sneaky)
    assert parts == ["home/", "*", "/", Wild.STAR]


def test_render_glob_ignore_case() -> None:
    """render_glob can build a case-insensitive pattern."""
    template = Template.compile("Home/${aws:username}", version=V12)
    glob = template.render_glob(ctx(aws__username="Alice"), ignore_case=True)
    assert glob is not None
    assert glob.match("home/alice")
    static = Template.compile("A*", version=V12).render_glob(ctx(), ignore_case=True)
    assert static is not None
    assert static.match("abc")


def test_old_version_is_literal() -> None:
    """Under 2008-10-17 (or no Version) variables are plain text."""
    template = Template.compile("home/${aws:username}/${*}", version=V08)
    assert not template.has_variables
    assert template.render(ctx(aws__username="alice")) == "home/${aws:username}/${*}"
    glob = template.render_glob(ctx())
    assert glob is not None
    assert glob.match("home/${aws:username}/${x}")  # the template '*' is still a wildcard
    assert Template.compile("${", version=V08).render(ctx()) == "${"


def test_dollar_without_brace_is_literal() -> None:
    """A lone '$' or '}' is ordinary text."""
    template = Template.compile("a$b}c$", version=V12)
    assert template.render(ctx()) == "a$b}c$"


@pytest.mark.parametrize(
    "text",
    [
        "${aws:username",
        "${}",
        "${  }",
        "x${a${b}}",
        "${a, default}",
        "${a, 'x}",
        "${a, 'x' 'y'}",
        "${a, 'it's'}",
        "${a'b}",
        "${a\tb}",
    ],
)
def test_malformed_references(text: str) -> None:
    """Malformed ${...} raise ValueError naming the text."""
    with pytest.raises(ValueError, match="variable"):
        Template.compile(text, version=V12)


def test_non_string_is_value_error() -> None:
    """A non-string value is a ValueError, never a TypeError."""
    with pytest.raises(ValueError):
        Template.compile(5, version=V12)  # type: ignore[arg-type]


def test_typed_values_render_as_text() -> None:
    """Booleans, numbers and datetimes render as AWS prints them."""
    template = Template.compile("${k}", version=V12)
    assert template.render(ctx(k=True)) == "true"
    assert template.render(ctx(k=10)) == "10"
    assert template.render(ctx(k=2.5)) == "2.5"
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert template.render(ctx(k=when)) == "2024-01-02T03:04:05Z"
    assert template.render(ctx(k={"not": "renderable"}.keys())) is None


def test_several_variables_and_spaces_in_tag_keys() -> None:
    """Several references render in order; tag keys may contain spaces."""
    template = Template.compile("${aws:PrincipalTag/cost center}/${aws:username}", version=V12)
    context = RequestContext.from_mapping(
        {"aws:principaltag/cost center": "cc1", "aws:username": "u"}
    )
    assert template.render(context) == "cc1/u"
    assert template.variable_names == ("aws:PrincipalTag/cost center", "aws:username")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.text(max_size=12))
def test_substituted_values_never_act_as_wildcards(username: str, other: str) -> None:
    """Whatever the user name, the rendered pattern is exactly the prefix 'home/<name>/'."""
    template = Template.compile("home/${aws:username}/*", version=V12)
    glob = template.render_glob(ctx(aws__username=username))
    assert glob is not None
    assert glob.match(f"home/{username}/file")
    candidate = f"home/{other}/file"
    assert glob.match(candidate) is candidate.startswith(f"home/{username}/")
