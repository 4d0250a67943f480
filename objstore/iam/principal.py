"""Who is asking: principals, their ARNs, and the ``Principal`` / ``NotPrincipal`` elements.

A request is made by one :class:`Principal`: the account root, an IAM user, a role (or a
session of it), an STS federated user, an AWS service, a web-identity/SAML provider, or
nobody (anonymous). :meth:`Principal.from_arn` and :func:`as_principal` build one from the
strings callers use; :meth:`Principal.context_values` supplies the global condition keys
(``aws:username``, ``aws:PrincipalArn`` ...) that AWS derives from the caller.

:class:`PrincipalElement` is the compiled ``Principal`` / ``NotPrincipal`` element of a
resource or trust policy. :meth:`PrincipalElement.grant` says *how* a statement names the
caller, because the evaluation order depends on it (see ``evaluate.py``):

* ``DIRECT``: the caller itself (user ARN, role-session ARN, federated-user ARN, service,
  provider, canonical user; the account for its own root);
* ``EVERYONE``: ``"*"`` or ``{"AWS": "*"}`` (equivalent, as AWS documents); a grant to
  everyone reaches the caller itself, so in the caller's own account it is not limited by a
  permissions boundary or session policy either (AWS documents this for ``"*"`` with an
  ``aws:PrincipalArn`` condition, and a condition can only narrow a grant);
* ``ROLE``: the role of an assumed-role session (limited by boundary and session policy);
* ``ACCOUNT``: the caller's account (``"111122223333"`` or ``arn:aws:iam::111122223333:root``),
  which delegates the decision to that account's own IAM policies.

The values an element lists are alternatives (an OR): :meth:`PrincipalElement.grant`
answers with the strongest way any of them names the caller, so
``{"AWS": ["111122223333", "*"]}`` names a user of that account as everyone, not merely
through its account.

Wildcards other than a bare ``"*"`` are not allowed in principal values (AWS rejects them).
Principal ARNs compare exactly; a role is matched by account and name, because a session ARN
carries no role path and role names are unique in an account whatever their path.

**Bound principals.** AWS turns the ARN of an IAM user or role in a resource or trust policy
into that entity's unique id when the policy is saved, so a user or role deleted and created
again under the same name is not granted by the old policy. The store does the lookup (this
module does no I/O) and :meth:`PrincipalElement.bind` applies it: the user and role ARNs of
the bound account are replaced by the unique ids they stood for (``AIDA...``, ``AROA...``),
matched against the caller's ``user_id`` (for a role session, the part before the colon).
An ARN of that account left out of the binding names nobody. A unique id written as an
``AWS`` principal (what a store shows once the named entity is gone) names that id alone.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from objstore.errors import InvalidInput

__all__ = [
    "Grant",
    "Principal",
    "PrincipalElement",
    "PrincipalType",
    "as_principal",
]

_ACCOUNT = re.compile(r"[0-9]{12}")
# The unique id of an IAM user or role as this store makes them (``identity/ids.py``): what
# a stored policy shows for a Principal whose user or role was deleted, so saving it back
# names that id alone (the entity while it exists, nobody after).
UNIQUE_ID = re.compile(r"(?:AIDA|AROA)[A-Z0-9]{17}")
_PARTITION = r"aws(?:-[a-z0-9]+)*"
# IAM identity ARNs a caller can have (or a policy can name).
_IAM_ARN = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):(?P<service>iam|sts)::(?P<account>[0-9]{{12}}):"
    r"(?P<resource>.+)",
    re.DOTALL,
)
# IAM paths and names: '/' or '/a/b/', names of [\w+=,.@-]. The path is one run of
# printable characters between the first and the last '/': a single quantifier, because
# nesting quantifiers over '/' (segments of [!-~]+ each ending in '/') backtracks
# exponentially on a hostile ARN such as user/a/a/.../a! (2^n ways to split the path).
_PATH_NAME = re.compile(r"(?P<path>/(?:[\x21-\x7e]+/)?)(?P<name>[\w+=,.@-]+)", re.ASCII)
_SESSION = re.compile(r"(?P<role>[\w+=,.@-]+)/(?P<session>[\w+=,.@-]+)", re.ASCII)
_SERVICE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")
_PROVIDER = re.compile(r"(?:saml|oidc)-provider/[\x21-\x7e]+")
_CANONICAL = re.compile(r"[0-9a-fA-F]{64}")


class PrincipalType(enum.StrEnum):
    """The kind of caller. Values are ``aws:PrincipalType`` where AWS defines one."""

    ROOT = "Account"
    USER = "User"
    ROLE = "Role"  # a role ARN given as the caller: treated as a session of that role
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "Service"
    WEB_IDENTITY = "WebIdentity"  # an OIDC / SAML provider (AssumeRoleWith* callers)
    ANONYMOUS = "Anonymous"


class Grant(enum.IntEnum):
    """How a Principal element names the caller; higher grants more (see the module doc)."""

    NONE = 0
    ACCOUNT = 1
    ROLE = 2
    EVERYONE = 3
    DIRECT = 4


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller. Build with :meth:`from_arn`, :meth:`service`, :meth:`anonymous` or directly.

    ``arn`` is the caller's ARN (for a service its name, for a provider its ARN or host,
    ``"anonymous"`` for nobody). ``role_arn`` is the role of a session (``aws:PrincipalArn``);
    give it with its path when known. ``user_id`` is the unique id AWS would put in
    ``aws:userid`` (``AIDA...`` for users, ``AROA...:session`` for sessions); unknown ids are
    left out of the context rather than invented.
    """

    arn: str
    type: PrincipalType
    account: str | None = None
    user_id: str | None = None
    username: str | None = None
    session_name: str | None = None
    role_arn: str | None = None
    canonical_user: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Derived once: the role's (account, lower-cased name) for role matching, and the
    # context keys this principal supplies.
    _role_key: tuple[str, str] | None = field(init=False, repr=False, compare=False)
    # The unique id of the user or role behind the caller (bound principals match on it).
    _entity_id: str | None = field(init=False, repr=False, compare=False)
    _context: Mapping[str, object] = field(init=False, repr=False, compare=False, hash=False)
    # Derived data other modules compute once per principal (evaluate keeps the context
    # entries here); never part of equality.
    _memo: dict[str, object] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_role_key", _role_key_of(self))
        object.__setattr__(self, "_entity_id", _entity_id_of(self))
        object.__setattr__(self, "_context", MappingProxyType(_context_of(self)))
        object.__setattr__(self, "_memo", {})

    # --- constructors --------------------------------------------------------------------

    @staticmethod
    def from_arn(
        arn: str,
        *,
        user_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        role_arn: str | None = None,
        canonical_user: str | None = None,
    ) -> Principal:
        """A principal from an IAM/STS ARN: root, user, role, assumed-role, federated-user,
        or a SAML/OIDC provider. Raises InvalidInput if ``arn`` is none of those, or if
        ``tags`` is not a mapping of str to str or an id/ARN argument is not a str."""
        parsed = _parse_identity_arn(arn)
        if parsed is None:
            raise InvalidInput(f"not a principal ARN: {arn!r}")
        for what, value in (
            ("user_id", user_id),
            ("role_arn", role_arn),
            ("canonical_user", canonical_user),
        ):
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{what} must be a str, not {type(value).__name__}")
        if tags is not None and (
            not isinstance(tags, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items())
        ):
            raise InvalidInput("tags must map tag keys (str) to tag values (str)")
        ptype, account, name, session = parsed
        username = name if ptype is PrincipalType.USER else None
        if ptype is PrincipalType.ASSUMED_ROLE and role_arn is None:
            partition = arn.split(":", 2)[1]
            role_arn = f"arn:{partition}:iam::{account}:role/{name}"
        if ptype is PrincipalType.ROLE and role_arn is None:
            role_arn = arn
        return Principal(
            arn=arn,
            type=ptype,
            account=account,
            user_id=user_id,
            username=username,
            session_name=session,
            role_arn=role_arn,
            canonical_user=canonical_user,
            tags=dict(tags or {}),
        )

    @staticmethod
    def service(name: str) -> Principal:
        """An AWS service principal such as ``ec2.amazonaws.com``. Raises InvalidInput."""
        if not isinstance(name, str) or not _SERVICE.fullmatch(name):
            raise InvalidInput(f"not a service principal: {name!r}")
        return Principal(arn=name, type=PrincipalType.SERVICE)

    @staticmethod
    def anonymous() -> Principal:
        """The unauthenticated caller."""
        return _ANONYMOUS

    # --- derived facts -------------------------------------------------------------------

    @property
    def role_name(self) -> str | None:
        """The role's name for a role or role session, else None."""
        if self.type is PrincipalType.ROLE:
            return (self.role_arn or self.arn).rsplit("/", 1)[-1]
        if self.type is PrincipalType.ASSUMED_ROLE:
            if self.role_arn is not None:
                return self.role_arn.rsplit("/", 1)[-1]
            parsed = _parse_identity_arn(self.arn)
            return None if parsed is None else parsed[2]
        return None

    @property
    def is_iam_identity(self) -> bool:
        """True for users, roles and sessions: the callers permissions boundaries apply to."""
        return self.type in _BOUNDED

    def context_values(self) -> Mapping[str, object]:
        """The global condition keys AWS derives from this caller (read-only mapping)."""
        return self._context


_BOUNDED = frozenset({PrincipalType.USER, PrincipalType.ROLE, PrincipalType.ASSUMED_ROLE})


def _parse_identity_arn(
    arn: str,
) -> tuple[PrincipalType, str, str | None, str | None] | None:
    """``(type, account, name, session)`` of a principal ARN, or None."""
    if not isinstance(arn, str):
        return None
    found = _IAM_ARN.fullmatch(arn)
    if found is None:
        return None
    service, account, resource = found["service"], found["account"], found["resource"]
    kind, _, rest = resource.partition("/")
    if service == "iam":
        if resource == "root":
            return PrincipalType.ROOT, account, None, None
        if kind in ("user", "role"):
            named = _PATH_NAME.fullmatch("/" + rest)
            if named is None or not rest:
                return None
            ptype = PrincipalType.USER if kind == "user" else PrincipalType.ROLE
            return ptype, account, named["name"], None
        if _PROVIDER.fullmatch(resource):
            return PrincipalType.WEB_IDENTITY, account, None, None
        return None
    if kind == "assumed-role":
        session = _SESSION.fullmatch(rest)
        if session is None:
            return None
        return PrincipalType.ASSUMED_ROLE, account, session["role"], session["session"]
    if kind == "federated-user" and re.fullmatch(r"[\w+=,.@-]+", rest, re.ASCII):
        return PrincipalType.FEDERATED_USER, account, rest, None
    return None


def _role_key_of(p: Principal) -> tuple[str, str] | None:
    if p.account is None:
        return None
    if p.type is PrincipalType.ROLE:
        return p.account, (p.role_arn or p.arn).rsplit("/", 1)[-1].lower()
    if p.type is PrincipalType.ASSUMED_ROLE:
        if p.role_arn is not None:
            return p.account, p.role_arn.rsplit("/", 1)[-1].lower()
        parsed = _parse_identity_arn(p.arn)
        if parsed is not None and parsed[2] is not None:
            return p.account, parsed[2].lower()
    return None


def _entity_id_of(p: Principal) -> str | None:
    """The user's id, or the role's id of a role (session): ``AROA...:session`` -> ``AROA...``."""
    if p.user_id is None:
        return None
    if p.type is PrincipalType.USER:
        return p.user_id
    if p.type in (PrincipalType.ROLE, PrincipalType.ASSUMED_ROLE):
        return p.user_id.partition(":")[0]
    return None


def _context_of(p: Principal) -> dict[str, object]:
    """The aws:* keys AWS puts in every request of this caller."""
    values: dict[str, object] = {}
    t = p.type
    if t is PrincipalType.SERVICE:
        values["aws:PrincipalServiceName"] = p.arn
        values["aws:PrincipalIsAWSService"] = True
        return values
    values["aws:PrincipalIsAWSService"] = False
    if t is PrincipalType.ANONYMOUS:
        values["aws:PrincipalType"] = "Anonymous"
        values["aws:userid"] = p.user_id or "anonymous"
        return values
    if p.account is not None:
        values["aws:PrincipalAccount"] = p.account
    if t is PrincipalType.WEB_IDENTITY:
        return values
    values["aws:PrincipalType"] = "AssumedRole" if t is PrincipalType.ROLE else t.value
    if t in (PrincipalType.ROLE, PrincipalType.ASSUMED_ROLE):
        if p.role_arn is not None:
            values["aws:PrincipalArn"] = p.role_arn
    else:
        values["aws:PrincipalArn"] = p.arn
    user_id = p.user_id
    if user_id is None:
        if t is PrincipalType.ROOT:
            user_id = p.account
        elif t is PrincipalType.FEDERATED_USER and p.account is not None:
            user_id = f"{p.account}:{p.arn.rsplit('/', 1)[-1]}"
    if user_id is not None:
        values["aws:userid"] = user_id
    if p.username is not None:
        values["aws:username"] = p.username
    for key, value in p.tags.items():
        values[f"aws:PrincipalTag/{key}"] = value
    return values


_ANONYMOUS = Principal(arn="anonymous", type=PrincipalType.ANONYMOUS)


def as_principal(value: str | Principal) -> Principal:
    """Accept a :class:`Principal`, a principal ARN, a 12-digit account id (its root),
    a service principal name or ``"anonymous"``. Raises InvalidInput otherwise."""
    if isinstance(value, Principal):
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"principal must be a str or Principal, not {type(value).__name__}")
    cached = _PARSED.get(value)
    if cached is not None:
        return cached
    if value == "anonymous":
        result = _ANONYMOUS
    elif _ACCOUNT.fullmatch(value):
        result = Principal.from_arn(f"arn:aws:iam::{value}:root")
    elif value.startswith("arn:"):
        result = Principal.from_arn(value)
    elif _SERVICE.fullmatch(value):
        result = Principal.service(value)
    else:
        raise InvalidInput(f"not a principal: {value!r}")
    # Principals parsed from plain strings carry no secrets or tags: memoising the parse is
    # safe and saves most of a decision's cost when callers pass ARN strings.
    if len(_PARSED) >= 4096:
        _PARSED.clear()
    _PARSED[value] = result
    return result


_PARSED: dict[str, Principal] = {}


# --- the Principal / NotPrincipal element ---------------------------------------------


def _values(raw: object, what: str) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple) and raw and all(isinstance(v, str) for v in raw):
        return list(raw)
    raise ValueError(f"{what} must be a string or a non-empty list of strings")


@dataclass(frozen=True, slots=True)
class PrincipalElement:
    """A compiled ``Principal`` or ``NotPrincipal`` element (what it lists, not its polarity)."""

    everyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()  # users, sessions, federated users (exact)
    roles: frozenset[tuple[str, str]] = frozenset()  # (account, lower-cased role name)
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    canonical: frozenset[str] = frozenset()
    # IAM user and role ARNs as written (what a store binds to unique ids, see bind()).
    entity_arns: frozenset[str] = frozenset()
    # Unique ids of the users and roles a bound element names (AIDA..., AROA...), and the
    # ones written as such.
    entity_ids: frozenset[str] = frozenset()

    @staticmethod
    def compile(raw: object) -> PrincipalElement:
        """Compile the JSON value of a Principal element (``"*"`` or an object of lists).

        ``raw`` holds plain Python values: str, or a dict of str -> str | list[str].
        Raises ValueError with a message naming the offending entry.
        """
        if raw == "*":
            return PrincipalElement(everyone=True)
        if isinstance(raw, str):
            raise ValueError(
                'must be "*" or an object such as {"AWS": ...}, {"Service": ...}, '
                f'{{"Federated": ...}}, {{"CanonicalUser": ...}}; got the string {raw!r}'
            )
        if not isinstance(raw, Mapping) or not raw:
            raise ValueError('must be "*" or a non-empty object of principal types')
        everyone = False
        accounts: set[str] = set()
        arns: set[str] = set()
        roles: set[tuple[str, str]] = set()
        services: set[str] = set()
        federated: set[str] = set()
        canonical: set[str] = set()
        entities: set[str] = set()
        unique_ids: set[str] = set()
        for kind, value in raw.items():
            if kind == "AWS":
                for item in _values(value, "AWS"):
                    if item == "*":
                        everyone = True
                        continue
                    if UNIQUE_ID.fullmatch(item):
                        unique_ids.add(item)
                        continue
                    if _add_aws(item, accounts, arns, roles):
                        entities.add(item)
            elif kind == "Service":
                for item in _values(value, "Service"):
                    if not _SERVICE.fullmatch(item):
                        raise ValueError(f"invalid service principal {item!r}")
                    services.add(item)
            elif kind == "Federated":
                for item in _values(value, "Federated"):
                    parsed = _parse_identity_arn(item) if item.startswith("arn:") else None
                    ok = parsed is not None and parsed[0] is PrincipalType.WEB_IDENTITY
                    if not ok and not _SERVICE.fullmatch(item):
                        raise ValueError(f"invalid federated principal {item!r}")
                    federated.add(item)
            elif kind == "CanonicalUser":
                for item in _values(value, "CanonicalUser"):
                    if not _CANONICAL.fullmatch(item):
                        raise ValueError(f"invalid canonical user id {item!r}")
                    canonical.add(item.lower())
            else:
                raise ValueError(
                    f"unknown principal type {kind!r} "
                    "(expected AWS, Service, Federated or CanonicalUser)"
                )
        return PrincipalElement(
            everyone,
            frozenset(accounts),
            frozenset(arns),
            frozenset(roles),
            frozenset(services),
            frozenset(federated),
            frozenset(canonical),
            frozenset(entities),
            frozenset(unique_ids),
        )

    def bind(self, account: str, ids: Mapping[str, str]) -> PrincipalElement:
        """This element with the user and role ARNs of ``account`` replaced by the unique
        ids ``ids`` maps them to (an ARN absent from ``ids`` then names nobody); ARNs of
        other accounts are kept as they are."""
        own: dict[str, tuple[PrincipalType, str | None]] = {}
        for arn in self.entity_arns:
            parsed = _parse_identity_arn(arn)
            if parsed is not None and parsed[1] == account:
                own[arn] = (parsed[0], parsed[2])
        if not own:
            return self
        users = {arn for arn, (ptype, _) in own.items() if ptype is PrincipalType.USER}
        roles = {
            (account, (name or "").lower())
            for ptype, name in own.values()
            if ptype is PrincipalType.ROLE
        }
        bound = frozenset(ids[arn] for arn in own if arn in ids)
        return dataclasses.replace(
            self,
            arns=self.arns - users,
            roles=self.roles - roles,
            entity_ids=self.entity_ids | bound,
        )

    def _names_entity(self, p: Principal) -> bool:
        """Whether a bound id of this element is the caller's user or role."""
        return p._entity_id is not None and p._entity_id in self.entity_ids

    def grant(self, p: Principal) -> Grant:
        """The strongest way any listed value names ``p`` (NONE when none does).

        Checked strongest first, so the first hit is the answer.
        """
        t = p.type
        if t is PrincipalType.SERVICE:
            listed = p.arn in self.services
        elif t is PrincipalType.WEB_IDENTITY:
            listed = p.arn in self.federated
        elif t is PrincipalType.ANONYMOUS:
            listed = False
        else:
            if p.arn in self.arns:
                return Grant.DIRECT
            is_user = t is PrincipalType.USER
            if is_user and self.entity_ids and self._names_entity(p):
                return Grant.DIRECT
            if p.canonical_user is not None and p.canonical_user.lower() in self.canonical:
                return Grant.DIRECT
            in_account = p.account is not None and p.account in self.accounts
            if in_account and t is PrincipalType.ROOT:
                return Grant.DIRECT
            if self.everyone:
                return Grant.EVERYONE
            if (p._role_key is not None and p._role_key in self.roles) or (
                not is_user and self.entity_ids and self._names_entity(p)
            ):
                # Naming the role (not the session) leaves boundary and session policy in force.
                return Grant.ROLE
            return Grant.ACCOUNT if in_account else Grant.NONE
        if listed:
            return Grant.DIRECT
        return Grant.EVERYONE if self.everyone else Grant.NONE

    def excludes(self, p: Principal, *, has_boundary: bool) -> bool:
        """Whether ``p`` is exempt from a ``NotPrincipal`` statement listing this element.

        AWS evaluates the caller as each of its identities (account, then role, then
        session), so a caller is exempt only when every one of them is listed: a user
        with its account, a role session with its role and its account; listing a user
        without its account does not exempt the user. AWS also
        documents that a NotPrincipal deny always applies to users and roles that have a
        permissions boundary, whatever the element lists.
        """
        if has_boundary and p.is_iam_identity:
            return False
        if self.everyone:
            return True
        t = p.type
        if t is PrincipalType.SERVICE:
            return p.arn in self.services
        if t is PrincipalType.WEB_IDENTITY:
            return p.arn in self.federated
        if t is PrincipalType.ANONYMOUS:
            return False
        if p.canonical_user is not None and p.canonical_user.lower() in self.canonical:
            return True
        if p.account is None or p.account not in self.accounts:
            return False
        if t is PrincipalType.ROOT:
            return True
        if t is PrincipalType.USER:
            return p.arn in self.arns or self._names_entity(p)
        role_listed = (p._role_key is not None and p._role_key in self.roles) or (
            self._names_entity(p)
        )
        if t is PrincipalType.ROLE:
            return role_listed
        if t is PrincipalType.ASSUMED_ROLE:
            return role_listed and p.arn in self.arns
        return p.arn in self.arns


def _add_aws(
    item: str,
    accounts: set[str],
    arns: set[str],
    roles: set[tuple[str, str]],
) -> bool:
    """Sort one ``AWS`` principal value into its set; raise ValueError if it is invalid.

    True for an IAM user or role ARN (a value a store binds to a unique id)."""
    if _ACCOUNT.fullmatch(item):
        accounts.add(item)
        return False
    if "*" in item or "?" in item:
        raise ValueError(
            f"invalid principal {item!r}: wildcards are not allowed in principal ARNs "
            '(only "*" alone)'
        )
    parsed = _parse_identity_arn(item)
    if parsed is None or parsed[0] is PrincipalType.WEB_IDENTITY:
        raise ValueError(
            f"invalid principal {item!r}: expected an account id or the ARN of an account "
            "root, user, role, assumed-role session or federated user"
        )
    ptype, account, name, _ = parsed
    if ptype is PrincipalType.ROOT:
        accounts.add(account)
    elif ptype is PrincipalType.ROLE:
        assert name is not None
        roles.add((account, name.lower()))
    else:
        arns.add(item)
    return ptype in (PrincipalType.USER, PrincipalType.ROLE)
