"""objstore.iam: the AWS IAM policy language as a pure library (no I/O).

Parse and validate with :meth:`Policy.from_json`, decide one request with
:func:`evaluate`, run the policy simulator with :func:`simulate`, and fetch the shipped
AWS managed policies with :func:`managed_policy`. For many decisions for one caller,
compile the caller's policies once: ``PolicySet.compile(identity, boundaries=...,
sessions=...).bind(principal)`` gives a :class:`BoundPolicySet` whose ``decide(action,
resource, context=..., resource_policy=...)`` returns the same :class:`Decision` as
:func:`evaluate` (see ``objstore/iam/compiled.py``). Everything invalid raises an error
from :mod:`objstore.errors` (``MalformedPolicyDocument``, ``InvalidInput``,
``NoSuchEntity``). See ``docs/iam.md`` for the supported language.
"""

from objstore.iam.compiled import BoundPolicySet, PolicySet
from objstore.iam.context import RequestContext
from objstore.iam.evaluate import Decision, MatchedStatement, evaluate
from objstore.iam.managed import managed_policy, managed_policy_arns
from objstore.iam.policy import Policy, Position, Statement
from objstore.iam.principal import Principal, PrincipalType
from objstore.iam.simulate import EvaluationResult, simulate

__all__ = [
    "BoundPolicySet",
    "Decision",
    "EvaluationResult",
    "MatchedStatement",
    "Policy",
    "PolicySet",
    "Position",
    "Principal",
    "PrincipalType",
    "RequestContext",
    "Statement",
    "evaluate",
    "managed_policy",
    "managed_policy_arns",
    "simulate",
]
