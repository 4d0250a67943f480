"""The policy simulator: many actions x resources against a set of policies, AWS-shaped.

This is the engine behind ``simulate_custom_policy`` / ``simulate_principal_policy``. It
decides with exactly the code :func:`objstore.iam.evaluate` uses (``evaluate.decide``), so
the simulator and the live authorizer cannot disagree about the same request.

Context entries take AWS's shape: ``{"ContextKeyName": "aws:SourceIp", "ContextKeyValues":
["10.0.0.1"], "ContextKeyType": "ip"}``. Values are strings, converted by type: ``numeric``
to numbers, ``boolean`` from ``true``/``false``, ``ip`` to addresses, ``binary`` from
base64, ``date`` checked as ISO 8601 or epoch seconds; ``...List`` types take any number of
values, the others exactly one.

Without a ``caller``, the policies are evaluated for an unnamed IAM user of the resource's
account: no ``aws:username`` or other principal keys are filled in (conditions on them
report missing values), and a resource policy can only grant it through ``"*"``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from objstore.errors import InvalidInput
from objstore.iam.conditions import parse_date, parse_number
from objstore.iam.context import RequestContext
from objstore.iam.evaluate import (
    ALLOWED,
    EffectName,
    MatchedStatement,
    PolicyInput,
    as_policies,
    as_policy,
    check_now,
    decide,
)
from objstore.iam.evaluate import (
    context_entries as entries_of,
)
from objstore.iam.principal import Principal, PrincipalType, as_principal

__all__ = [
    "CONTEXT_KEY_TYPES",
    "MAX_EVALUATIONS",
    "EvaluationResult",
    "context_from_entries",
    "simulate",
]

# The most (action, resource) pairs one simulation evaluates (~0.1 s of CPU per 5,000).
MAX_EVALUATIONS = 10_000

CONTEXT_KEY_TYPES = (
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
)
_TYPES = {name.lower(): name for name in CONTEXT_KEY_TYPES}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_PLACEHOLDER_ACCOUNT = "000000000000"


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """One simulated request: an action on a resource, and what was decided."""

    eval_action_name: str
    eval_resource_name: str
    eval_decision: EffectName
    matched_statements: tuple[MatchedStatement, ...]
    missing_context_values: tuple[str, ...]
    permissions_boundary_allowed: bool

    @property
    def allowed(self) -> bool:
        return self.eval_decision == ALLOWED


def _convert(name: str, base: str, value: object) -> object:
    if not isinstance(value, str):
        raise InvalidInput(f"context key {name!r}: values must be strings, not {value!r}")
    if base == "string":
        return value
    if base == "numeric":
        # The policy language's number syntax, not Python's: float() would also take
        # "nan", "inf", "1_000" and surrounding blanks, which no condition can compare.
        number = parse_number(value)
        if number is None:
            raise InvalidInput(f"context key {name!r}: {value!r} is not a number")
        if _INTEGER.fullmatch(value):
            return int(value)
        as_float = float(number)
        # Beyond float range keep the exact decimal, which Numeric operators compare.
        return as_float if math.isfinite(as_float) else number
    if base == "boolean":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise InvalidInput(f"context key {name!r}: {value!r} is not true or false")
        return lowered == "true"
    if base == "ip":
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            raise InvalidInput(f"context key {name!r}: {value!r} is not an IP address") from None
    if base == "binary":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"context key {name!r}: {value!r} is not base64") from None
    # date: keep the text (the date operators read ISO 8601 and epoch text), once checked.
    if parse_date(value) is None:
        raise InvalidInput(f"context key {name!r}: {value!r} is not an ISO 8601 or epoch date")
    return value


def context_from_entries(entries: Iterable[Mapping[str, object]]) -> dict[str, object]:
    """Context values from AWS-shaped context entries.

    Raises InvalidInput on a malformed entry, an unknown type, a value that does not fit
    its type, several values for a single-valued type, or a key given twice.
    """
    values: dict[str, object] = {}
    seen: set[str] = set()
    if isinstance(entries, Mapping | str | bytes) or not isinstance(entries, Iterable):
        raise InvalidInput("context_entries must be a list of ContextEntry mappings")
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise InvalidInput(f"context_entries[{index}] must be a mapping")
        unknown = set(entry) - {"ContextKeyName", "ContextKeyValues", "ContextKeyType"}
        if unknown:
            raise InvalidInput(f"context_entries[{index}]: unknown fields {sorted(unknown)}")
        name = entry.get("ContextKeyName")
        raw_values = entry.get("ContextKeyValues")
        raw_type = entry.get("ContextKeyType")
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"context_entries[{index}]: ContextKeyName must be a string")
        if not isinstance(raw_type, str) or raw_type.lower() not in _TYPES:
            raise InvalidInput(
                f"context key {name!r}: ContextKeyType must be one of "
                + ", ".join(CONTEXT_KEY_TYPES)
            )
        if not isinstance(raw_values, list | tuple):
            raise InvalidInput(f"context key {name!r}: ContextKeyValues must be a list of strings")
        key_type = _TYPES[raw_type.lower()]
        is_list = key_type.endswith("List")
        base = key_type[: -len("List")] if is_list else key_type
        if not is_list and len(raw_values) != 1:
            raise InvalidInput(
                f"context key {name!r}: type {key_type} takes exactly one value, "
                f"got {len(raw_values)}"
            )
        if name.lower() in seen:
            raise InvalidInput(f"context key {name!r} is given twice")
        seen.add(name.lower())
        converted = [_convert(name, base, v) for v in raw_values]
        values[name] = converted if is_list else converted[0]
    return values


def _strings(values: object, what: str, items: str) -> list[str]:
    """A non-empty list of strings from a sequence. Raises InvalidInput otherwise."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidInput(f"{what} must be a list of {items}")
    out = list(values)
    if not all(isinstance(v, str) for v in out):
        raise InvalidInput(f"{what} must be a list of {items}")
    if not out:
        raise InvalidInput(f"{what} must not be empty")
    return out


def simulate(
    policies: Sequence[PolicyInput],
    action_names: Sequence[str],
    resource_arns: Sequence[str] = ("*",),
    *,
    resource_policy: PolicyInput | None = None,
    boundary_policies: Sequence[PolicyInput] = (),
    context_entries: Iterable[Mapping[str, object]] = (),
    caller: str | Principal | None = None,
    resource_account: str | None = None,
    now: datetime | None = None,
) -> list[EvaluationResult]:
    """Evaluate every action on every resource; one result each, actions outermost.

    ``policies``: identity policies (JSON text or Policy). ``boundary_policies``: act as
    one permissions boundary (their statements together; AWS accepts one). ``caller``: the
    principal (ARN, Principal ...); see the module docstring when omitted.
    ``resource_account`` and ``now`` mean what they mean for :func:`evaluate`.

    Raises InvalidInput for malformed arguments or context entries, and
    MalformedPolicyDocument for invalid policy text.
    """
    actions = _strings(action_names, "action_names", "action names")
    resources = _strings(resource_arns, "resource_arns", "resource ARNs")
    if len(actions) * len(resources) > MAX_EVALUATIONS:
        # Every pair is one evaluation kept in the answer: without a bound one request
        # of a few hundred KiB asked for hundreds of millions (review rev11a, M2).
        raise InvalidInput(
            f"{len(actions)} actions x {len(resources)} resources is more than the "
            f"{MAX_EVALUATIONS:,} evaluations one simulation may make; split the request"
        )
    if isinstance(boundary_policies, str | bytes):
        raise InvalidInput("boundary_policies must be a list of policies")
    if resource_account is not None and type(resource_account) is not str:
        raise InvalidInput("resource_account must be a str")
    check_now(now)
    identity = as_policies(policies, "identity", "policies")
    rp = (
        None
        if resource_policy is None
        else as_policy(resource_policy, "resource", "resource_policy")
    )
    bounds = as_policies(boundary_policies, "boundary", "boundary_policies")
    context = entries_of(RequestContext.from_mapping(context_from_entries(context_entries)))
    if caller is None:
        principal = Principal(
            arn=f"arn:aws:iam::{resource_account or _PLACEHOLDER_ACCOUNT}:user/simulated-caller",
            type=PrincipalType.USER,
            account=resource_account or _PLACEHOLDER_ACCOUNT,
        )
        fill_principal = False
    else:
        principal = as_principal(caller)
        fill_principal = True
    results: list[EvaluationResult] = []
    for action in actions:
        for resource in resources:
            decision = decide(
                principal,
                action,
                resource,
                context=context,
                identity=identity,
                resource_policy=rp,
                boundaries=bounds,
                resource_account=resource_account,
                now=now,
                fill_principal=fill_principal,
            )
            results.append(
                EvaluationResult(
                    action,
                    resource,
                    decision.effect,
                    decision.matched_statements,
                    decision.missing_context_values,
                    decision.boundary_allowed,
                )
            )
    return results
