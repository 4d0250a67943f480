"""Bucket CORS: S3's rules for a CORS configuration and how a request is matched (pure).

A configuration is 1 to 100 :class:`~objstore.types.CORSRule`. Each rule names its
``AllowedMethod`` values (``GET``, ``PUT``, ``HEAD``, ``POST``, ``DELETE``, as written:
S3 refuses ``get``), at least one ``AllowedOrigin`` and optionally ``AllowedHeader``,
``ExposeHeader``, ``MaxAgeSeconds`` and an ``ID`` (at most 255 characters). An origin or
allowed header may hold one ``*``, which matches any run of characters (``*`` alone:
everything).

Matching (S3 User Guide, "How does Amazon S3 evaluate the CORS configuration"): the first
rule whose origins match the request's ``Origin``, whose methods hold the request's
method (on a preflight: its ``Access-Control-Request-Method``), and, on a preflight, whose
allowed headers match every header of ``Access-Control-Request-Headers``. Origins compare
case-sensitively (browsers send them in lower case), header names case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from objstore.errors import (
    AccessForbidden,
    BadRequest,
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
)
from objstore.types import CORSRule

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_RULES = 100
MAX_ID = 255
# What caches must key an answer on: it depends on these request headers.
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
# The rule fields in S3's (and boto3's) spelling, as a mapping gives them.
_FIELDS = {
    "AllowedMethods": "allowed_methods",
    "AllowedOrigins": "allowed_origins",
    "AllowedHeaders": "allowed_headers",
    "ExposeHeaders": "expose_headers",
    "MaxAgeSeconds": "max_age_seconds",
    "ID": "id",
}


def _strings(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{what} must be a list of strings")
    out = tuple(value)
    if not all(isinstance(v, str) for v in out):
        raise InvalidArgument(f"{what} must be a list of strings")
    return out


def as_rule(rule: object) -> CORSRule:
    """A :class:`CORSRule` from itself or a mapping of S3's names (``AllowedMethods``,
    ``AllowedOrigins``, ...). Raises InvalidArgument (not a rule, unknown field, wrong
    types)."""
    if isinstance(rule, CORSRule):
        fields: dict[str, object] = {
            "allowed_methods": rule.allowed_methods,
            "allowed_origins": rule.allowed_origins,
            "allowed_headers": rule.allowed_headers,
            "expose_headers": rule.expose_headers,
            "max_age_seconds": rule.max_age_seconds,
            "id": rule.id,
        }
    elif isinstance(rule, Mapping):
        unknown = sorted(str(k) for k in rule if k not in _FIELDS)
        if unknown:
            raise InvalidArgument(f"unknown CORS rule field {unknown[0]!r}")
        fields = {_FIELDS[k]: v for k, v in rule.items()}
    else:
        raise InvalidArgument("a CORS rule is a CORSRule or a mapping of its fields")
    lists = {
        name: _strings(fields.get(name, ()), name)
        for name in ("allowed_methods", "allowed_origins", "allowed_headers", "expose_headers")
    }
    max_age = fields.get("max_age_seconds")
    if max_age is not None and (not isinstance(max_age, int) or isinstance(max_age, bool)):
        raise InvalidArgument("max_age_seconds must be an integer")
    rule_id = fields.get("id")
    if rule_id is not None and not isinstance(rule_id, str):
        raise InvalidArgument("a CORS rule's id must be a string")
    return CORSRule(max_age_seconds=max_age, id=rule_id, **lists)


def check_rules(rules: object) -> tuple[CORSRule, ...]:
    """A valid CORS configuration from rules (:func:`as_rule` forms). Raises
    InvalidArgument (types), MalformedXML (no rule, more than 100, a rule without a
    method or an origin, an ID over 255 characters, a negative MaxAgeSeconds),
    InvalidRequest (an unsupported method, an origin or allowed header with more than
    one ``*``, as S3; an empty origin or header name, or one holding a control
    character: answers could not carry it)."""
    if isinstance(rules, str | bytes | Mapping) or not isinstance(rules, Iterable):
        raise InvalidArgument("a CORS configuration is a list of rules")
    checked = tuple(as_rule(rule) for rule in rules)
    if not checked:
        raise MalformedXML("a CORS configuration needs at least one CORSRule")
    if len(checked) > MAX_RULES:
        raise MalformedXML(f"a CORS configuration has at most {MAX_RULES} rules")
    for rule in checked:
        if not rule.allowed_methods or not rule.allowed_origins:
            raise MalformedXML("every CORSRule needs an AllowedMethod and an AllowedOrigin")
        for method in rule.allowed_methods:
            if method not in METHODS:
                raise InvalidRequest(
                    "Found unsupported HTTP method in CORS config. Unsupported method is " + method
                )
        for what, values in (
            ("AllowedOrigin", rule.allowed_origins),
            ("AllowedHeader", rule.allowed_headers),
        ):
            for value in values:
                if value.count("*") > 1:
                    raise InvalidRequest(f'{what} "{value}" can not have more than one wildcard.')
        for what, values in (
            ("AllowedOrigin", rule.allowed_origins),
            ("AllowedHeader", rule.allowed_headers),
            ("ExposeHeader", rule.expose_headers),
        ):
            # They are written into answer headers, which cannot carry control characters.
            if any(not value or _CONTROL.search(value) for value in values):
                raise InvalidRequest(f"an empty {what}, or one with a control character")
        if rule.id is not None and len(rule.id) > MAX_ID:
            raise MalformedXML(f"a CORSRule's ID is at most {MAX_ID} characters")
        if rule.max_age_seconds is not None and rule.max_age_seconds < 0:
            raise MalformedXML("MaxAgeSeconds must not be negative")
    return checked


def encode(rules: Sequence[CORSRule]) -> list[dict[str, object]]:
    """The rules as JSON-ready data (the stored form)."""
    out: list[dict[str, object]] = []
    for r in rules:
        d: dict[str, object] = {"m": list(r.allowed_methods), "o": list(r.allowed_origins)}
        if r.allowed_headers:
            d["h"] = list(r.allowed_headers)
        if r.expose_headers:
            d["e"] = list(r.expose_headers)
        if r.max_age_seconds is not None:
            d["a"] = r.max_age_seconds
        if r.id is not None:
            d["i"] = r.id
        out.append(d)
    return out


def decode(data: object) -> tuple[CORSRule, ...]:
    """The rules of :func:`encode`'s form. Raises ValueError (not that form)."""
    if not isinstance(data, list):
        raise ValueError("stored CORS rules are a list")
    try:
        return tuple(
            CORSRule(
                allowed_methods=tuple(d["m"]),
                allowed_origins=tuple(d["o"]),
                allowed_headers=tuple(d.get("h", ())),
                expose_headers=tuple(d.get("e", ())),
                max_age_seconds=d.get("a"),
                id=d.get("i"),
            )
            for d in data
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError("stored CORS rules are damaged") from exc


def wildcard_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern``, whose one ``*`` (if any) matches any run of
    characters, the empty one included."""
    head, star, tail = pattern.partition("*")
    if not star:
        return pattern == value
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def request_headers(value: str | None) -> list[str]:
    """The header names of an ``Access-Control-Request-Headers`` value, lower-cased."""
    if not value:
        return []
    return [name.strip().lower() for name in value.split(",") if name.strip()]


def _origin_pattern(rule: CORSRule, origin: str) -> str | None:
    for pattern in rule.allowed_origins:
        if wildcard_match(pattern, origin):
            return pattern
    return None


def _headers_allowed(rule: CORSRule, asked: Iterable[str]) -> bool:
    allowed = [h.lower() for h in rule.allowed_headers]
    return all(any(wildcard_match(p, name) for p in allowed) for name in asked)


def find_rule(
    rules: Sequence[CORSRule], origin: str, method: str, asked_headers: Iterable[str] = ()
) -> tuple[CORSRule, str] | None:
    """The first rule allowing the request, with the origin pattern that matched; None
    when no rule does. ``asked_headers``: a preflight's requested headers, lower-cased."""
    asked = list(asked_headers)
    for rule in rules:
        pattern = _origin_pattern(rule, origin)
        if pattern is None or method not in rule.allowed_methods:
            continue
        if _headers_allowed(rule, asked):
            return rule, pattern
    return None


def answer_headers(
    rule: CORSRule, pattern: str, origin: str, asked_headers: Sequence[str] | None = None
) -> dict[str, str]:
    """The ``Access-Control-*`` headers S3 answers for a request ``rule`` allows (a
    preflight when ``asked_headers`` is given: it echoes them as allowed)."""
    out: dict[str, str] = {}
    if pattern == "*":
        out["Access-Control-Allow-Origin"] = "*"
    else:
        # A named origin may send credentials (cookies, authorization), as S3 says.
        out["Access-Control-Allow-Origin"] = origin
        out["Access-Control-Allow-Credentials"] = "true"
    out["Access-Control-Allow-Methods"] = ", ".join(rule.allowed_methods)
    if asked_headers:
        out["Access-Control-Allow-Headers"] = ", ".join(asked_headers)
    if rule.expose_headers:
        out["Access-Control-Expose-Headers"] = ", ".join(rule.expose_headers)
    if rule.max_age_seconds is not None:
        out["Access-Control-Max-Age"] = str(rule.max_age_seconds)
    out["Vary"] = VARY
    return out


def check_preflight(origin: str | None, method: str | None) -> tuple[str, str]:
    """A preflight's origin and requested method. Raises BadRequest (no origin, no or
    an unknown method), as S3."""
    if not origin:
        raise BadRequest("Insufficient information. Origin request header needed.")
    if not method or method not in METHODS:
        raise BadRequest(f"Invalid Access-Control-Request-Method: {method or 'null'}")
    return origin, method


def preflight(
    rules: Sequence[CORSRule] | None,
    origin: str | None,
    method: str | None,
    asked_headers: str | None,
    *,
    resource_type: str = "OBJECT",
) -> dict[str, str]:
    """The answer headers of a preflight (``OPTIONS``) request: its ``Origin``,
    ``Access-Control-Request-Method`` and ``-Headers`` against the bucket's rules (None:
    no configuration). Raises BadRequest (no origin, no or an unknown method),
    AccessForbidden (no configuration, or no rule allows the request), as S3."""
    origin, method = check_preflight(origin, method)
    if rules is None:
        raise AccessForbidden(
            "CORSResponse: CORS is not enabled for this bucket.",
            Method=method,
            ResourceType=resource_type,
        )
    asked = request_headers(asked_headers)
    found = find_rule(rules, origin, method, asked)
    if found is None:
        raise AccessForbidden(
            "CORSResponse: This CORS request is not allowed. This is usually because the "
            "evaluation of Origin, request method / Access-Control-Request-Method or "
            "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            Method=method,
            ResourceType=resource_type,
        )
    rule, pattern = found
    return answer_headers(rule, pattern, origin, asked)


def actual(rules: Sequence[CORSRule] | None, origin: str | None, method: str) -> dict[str, str]:
    """The CORS headers of the answer to an actual (not preflight) request: those of the
    first rule allowing its origin and method, or none."""
    if not rules or not origin:
        return {}
    found = find_rule(rules, origin, method)
    if found is None:
        return {}
    rule, pattern = found
    return answer_headers(rule, pattern, origin)
