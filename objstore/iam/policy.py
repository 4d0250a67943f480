"""Policy documents: parse and validate once, into immutable, compiled statements.

:meth:`Policy.from_json` is the only way in; ``parse.py`` holds the checks it makes, in
order, and the element names and positions its MalformedPolicyDocument errors carry.
A per-policy memo maps a request's action to the statements whose Action/NotAction
element accepts it, so a decision only looks at statements that can apply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from objstore.errors import InvalidInput
from objstore.iam.matchers import ActionMatcher, ResourceMatcher
from objstore.iam.parse import DEFAULT_VERSION, KINDS, SIZE_LIMITS, VERSIONS, Kind, parse
from objstore.iam.statement import Position, Statement

__all__ = [
    "DEFAULT_VERSION",
    "KINDS",
    "SIZE_LIMITS",
    "VERSIONS",
    "ActionMatcher",
    "Kind",
    "Policy",
    "Position",
    "ResourceMatcher",
    "Statement",
]

# The action memo is bounded so hostile action names cannot grow it without limit.
_MEMO_LIMIT = 1024


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A parsed, validated, compiled policy document (immutable).

    Compared and hashed by identity: a parsed policy is a compiled object (compare
    ``source`` to compare documents), and identity hashing keeps decision memos cheap.

    ``source`` is the text as given; ``name`` an optional label for results (the
    simulator's source policy id); ``size`` the character count without whitespace.
    """

    kind: Kind
    version: str
    id: str | None
    statements: tuple[Statement, ...]
    source: str
    name: str | None = None
    size: int = 0
    uses_time: bool = False  # whether any statement reads aws:CurrentTime / aws:EpochTime
    _memo: dict[str, tuple[Statement, ...]] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )
    # Results derived from this policy by other modules (evaluate keeps its reported
    # statement records here, keyed by label and statement index).
    _results: dict[tuple[str, int], object] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    @staticmethod
    def from_json(
        text: str | bytes,
        *,
        kind: Kind = "identity",
        name: str | None = None,
        stored: bool = False,
    ) -> Policy:
        """Parse and validate a policy document of the given kind.

        ``text`` is JSON text or UTF-8 bytes. ``stored``: it is read back from storage
        (the 131,072-character cap on documents being written does not apply; see
        ``parse.parse``). Raises MalformedPolicyDocument for anything invalid (the message
        names the element and, where it has one, line and column), and InvalidInput for
        an unknown ``kind`` or a ``name`` that is not a str. No other exception escapes.
        """
        if kind not in KINDS:
            raise InvalidInput(f"unknown policy kind {kind!r}; expected one of {', '.join(KINDS)}")
        if name is not None and not isinstance(name, str):
            raise InvalidInput(f"policy name must be a str, not {type(name).__name__}")
        parsed = parse(text, kind, stored=stored)
        return Policy(
            kind=kind,
            version=parsed.version,
            id=parsed.id,
            statements=parsed.statements,
            source=parsed.source,
            name=name,
            size=parsed.size,
            uses_time=any(s.uses_time for s in parsed.statements),
        )

    def reads_keys_under(self, prefix: str) -> bool:
        """Whether a condition or policy variable reads a context key starting with
        ``prefix`` (compared case-insensitively), e.g. ``s3:ExistingObjectTag/``."""
        lower = prefix.lower()
        return any(k.startswith(lower) for s in self.statements for k in s.context_keys)

    @property
    def uses_variables(self) -> bool:
        """Whether any resource uses a policy variable."""
        return any(s.resource is not None and s.resource.uses_variables for s in self.statements)

    def candidates(self, action_lower: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction element accepts the lower-cased action.

        Memoised per policy (the policy is immutable, so the answer never changes).
        """
        memo = self._memo
        found = memo.get(action_lower)
        if found is None:
            found = tuple(s for s in self.statements if s.action.matches(action_lower))
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[action_lower] = found
        return found

    @property
    def principal_arns(self) -> frozenset[str]:
        """The IAM user and role ARNs its Principal / NotPrincipal elements name, as written
        (what :meth:`bind_principals` binds)."""
        return frozenset(
            arn
            for s in self.statements
            if s.principal is not None
            for arn in s.principal.entity_arns
        )

    def bind_principals(self, account: str, ids: Mapping[str, str]) -> Policy:
        """This policy with the user and role ARNs of ``account`` in its Principal elements
        bound to the unique ids ``ids`` maps them to (see ``PrincipalElement.bind``): a user
        or role deleted and created again is not the one the policy named. An ARN of
        ``account`` missing from ``ids`` names nobody. A new Policy; this one is unchanged."""
        statements = tuple(
            s
            if s.principal is None or not s.principal.entity_arns
            else dataclasses.replace(s, principal=s.principal.bind(account, ids))
            for s in self.statements
        )
        return self.with_statements(statements)

    def with_statements(self, statements: tuple[Statement, ...]) -> Policy:
        """A new Policy of these statements (derived from this one's, e.g. a subset),
        with this one's kind, text, name and size; this one is unchanged."""
        return Policy(
            kind=self.kind,
            version=self.version,
            id=self.id,
            statements=statements,
            source=self.source,
            name=self.name,
            size=self.size,
            uses_time=any(s.uses_time for s in statements),
        )

    def statement_by_sid(self, sid: str) -> Statement | None:
        """The statement with this Sid, or None."""
        for statement in self.statements:
            if statement.sid == sid:
                return statement
        return None
