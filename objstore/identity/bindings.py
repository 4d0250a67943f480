"""Principal ARNs of stored bucket and trust policies, bound to the unique ids they named.

AWS resolves the ARN of an IAM user or role in a resource or trust policy to the entity's
unique id when the policy is saved: "The policy no longer applies, even if you recreate the
user or role". The store does the same. :func:`resolve` looks each user and role ARN of this
account up when a bucket policy or trust policy is saved (one that names no existing user or
role is refused: "Invalid principal in policy") and the ``{arn: unique id}`` binding is kept
beside the document (bucket policy record ``principals``, role record ``trust_principals``);
:func:`bound` applies it to the parsed policy before the (I/O-free) engine decides, so only
the caller whose ``aws:userid`` is the bound id is named. ARNs of other accounts, accounts,
``"*"``, services and providers are not bound.

What a policy shows (:func:`render`, as AWS): each bound ARN as the current ARN of the entity
it was bound to (so a rename shows the new name), or as its unique id when that entity is
gone; a unique id written in the policy likewise. Saving the shown text back therefore
names the same entity, or nobody, never a new one of the old name; a unique id is accepted
as a Principal (``principal.UNIQUE_ID``) and names that id alone.

Stores written before bindings existed: :func:`bind_legacy` runs once when a store is opened
(a marker record says it has run) and binds every stored bucket and trust policy to the
users and roles existing then; an ARN naming nobody at that moment names nobody from then on.
A stored document it cannot read is marked so (binding ``null``) and fails closed: the
requests it would decide are refused (StoredPolicyUnreadable) until it is replaced.
Opening also raises the store's format (``meta/marker.py``, format 2), so a version that
does not bind refuses to open it afterwards; one already running on the same metadata (a
rolling upgrade) still saves policies unbound, and :func:`bound` reads those user and role
ARNs as naming nobody (fail closed) until the policy is saved again by this version; an
unbound policy in which naming nobody would grant more (a Deny's Principal, an Allow's
NotPrincipal) is refused as unreadable instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from objstore import keyspace
from objstore.errors import MalformedPolicyDocument, StoredPolicyUnreadable
from objstore.iam.parse import MAX_DOCUMENT_CHARS
from objstore.iam.policy import Kind, Policy
from objstore.iam.principal import UNIQUE_ID
from objstore.identity import repo
from objstore.meta.base import ReadTxn
from objstore.meta.scan import scan_prefix

_ENTITY_PREFIX = {"user": keyspace.IAM_USER, "role": keyspace.IAM_ROLE}
_MIGRATED = keyspace.IAM_ACCOUNT + b"principal-bindings"
# Set once the bindings were checked for documents an earlier migration misread (see
# bind_legacy); a store bound by this version has it from the start.
_REREAD = keyspace.IAM_ACCOUNT + b"principal-bindings-stored"
_BOUND: dict[tuple[int, str, tuple[tuple[str, str], ...]], tuple[Policy, Policy]] = {}
_BOUND_LIMIT = 8192


def _lookup(txn: ReadTxn, account: str, arn: str) -> str | None:
    """The unique id of the user or role ``arn`` names exactly (path and all), or None."""
    head = f"arn:aws:iam::{account}:"
    if not arn.startswith(head):
        return None
    kind, _, rest = arn[len(head) :].partition("/")
    prefix = _ENTITY_PREFIX.get(kind)
    if prefix is None:
        return None
    rec = repo.get(txn, prefix, rest.rsplit("/", 1)[-1])
    if rec is None or f"{kind}{rec['path']}{rec['name']}" != f"{kind}/{rest}":
        return None
    found: str = rec["id"]
    return found


def _current_arns(txn: ReadTxn, account: str) -> dict[str, str]:
    """``{unique id: current ARN}`` of every user and role of the account."""
    return {
        rec["id"]: f"arn:aws:iam::{account}:{kind}{rec['path']}{rec['name']}"
        for kind, prefix in _ENTITY_PREFIX.items()
        for rec in repo.scan(txn, prefix)
    }


def render(txn: ReadTxn, account: str, text: str, ids: Mapping[str, str] | None) -> str:
    """The stored policy ``text`` as shown to callers (see the module docstring).

    The text as written when every principal still names what it was bound to; otherwise
    the document re-serialised with the ``AWS`` principal values rewritten.
    """
    current: dict[str, str] | None = None  # built only when an entity moved or went

    def shown(value: object) -> object:
        nonlocal current
        if not isinstance(value, str):
            return value
        if UNIQUE_ID.fullmatch(value):
            uid = value
        elif ids is not None and value in ids:
            uid = ids[value]
            if _lookup(txn, account, value) == uid:
                return value  # the common case: no scan
        else:
            return value
        if current is None:
            current = _current_arns(txn, account)
        return current.get(uid, uid)

    try:
        doc = json.loads(text)
    except ValueError:
        return text
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    changed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        for element in ("Principal", "NotPrincipal"):
            named = statement.get(element) if isinstance(statement, dict) else None
            if not isinstance(named, dict) or "AWS" not in named:
                continue
            before = named["AWS"]
            after = [shown(v) for v in before] if isinstance(before, list) else shown(before)
            if after != before:
                named["AWS"] = after
                changed = True
    return json.dumps(doc) if changed else text


def _own(policy: Policy, account: str) -> list[str]:
    return sorted(a for a in policy.principal_arns if a.split(":", 5)[4] == account)


def resolve(txn: ReadTxn, account: str, policy: Policy) -> dict[str, str]:
    """``{arn: unique id}`` for each user and role ARN of ``account`` the policy names.

    Raises MalformedPolicyDocument ("Invalid principal in policy") for one that names no
    existing user or role of this account (callers saving a bucket policy re-raise it as
    S3's MalformedPolicy).
    """
    out: dict[str, str] = {}
    for arn in _own(policy, account):
        found = _lookup(txn, account, arn)
        if found is None:
            raise MalformedPolicyDocument(
                f'Invalid principal in policy: "AWS":"{arn}" (no such user or role)',
                principal=arn,
            )
        out[arn] = found
    return out


def _widened_by_naming_nobody(policy: Policy, account: str) -> bool:
    """Whether a statement names a user or role of ``account`` where naming nobody grants
    more: a Deny's Principal (the denial lapses) or an Allow's NotPrincipal (the exception
    lapses). A Deny's NotPrincipal or an Allow's Principal naming nobody only refuses more."""
    return any(
        s.principal is not None
        and (s.effect == "Deny") != s.not_principal
        and any(a.split(":", 5)[4] == account for a in s.principal.entity_arns)
        for s in policy.statements
    )


def bound(
    policy: Policy, account: str, ids: Mapping[str, str] | None, what: str = "policy"
) -> Policy:
    """``policy`` with its user and role ARNs of ``account`` bound to ``ids`` (memoised, so
    the engine's per-policy plans stay warm).

    ``None`` (the record carries no binding) binds to nothing: those ARNs name nobody. Every
    record this version keeps is bound (at save, or once at open for a store written
    before, :func:`bind_legacy`), so an unbound one was saved since by an older version
    still running on the same metadata, which looked nothing up: reading its ARNs by name
    would grant whoever holds the name now (fail closed instead, until saved again here).
    Naming nobody fails closed only for an Allow's Principal, though: raises
    StoredPolicyUnreadable (naming the policy ``what``) for an unbound policy with a Deny
    naming, or an Allow excepting (NotPrincipal), a user or role of ``account``, so the
    requests it would decide are refused rather than the denial lapsing.
    """
    if ids is None:
        if _widened_by_naming_nobody(policy, account):
            raise StoredPolicyUnreadable(
                f"the stored policy {what} was saved without principal bindings (by an "
                "older version) and denies or excepts users or roles by name; requests it "
                "would decide are refused until it is saved again",
                policy=what,
            )
        ids = {}
    if not policy.principal_arns:
        return policy
    memo_key = (id(policy), account, tuple(sorted(ids.items())))
    found = _BOUND.get(memo_key)
    # The source policy is kept in the entry: its id() is only unique while it lives.
    if found is not None and found[0] is policy:
        return found[1]
    result = policy.bind_principals(account, ids)
    if len(_BOUND) >= _BOUND_LIMIT:
        _BOUND.clear()
    _BOUND[memo_key] = (policy, result)
    return result


def stored_binding(record: Mapping[str, object], field: str, what: str) -> Mapping[str, str] | None:
    """The binding kept in ``record[field]`` beside a stored policy: None when there is none
    (saved by an older version still running on the metadata: :func:`bound` then names no
    user or role). Raises StoredPolicyUnreadable for a policy the migration
    could not read (``null``): it stays refused even if a later version could parse it,
    since nothing says which users and roles its ARNs stood for."""
    if field in record and record[field] is None:
        raise StoredPolicyUnreadable(
            f"the stored policy {what} could not be read when its principals were bound; "
            "requests it would decide are refused until it is replaced",
            policy=what,
        )
    found = record.get(field)
    return found if isinstance(found, Mapping) else None


def _legacy_binding(txn: ReadTxn, account: str, text: str, kind: Kind) -> dict[str, str] | None:
    """A binding to the entities that exist now; ARNs naming nobody are left out. None for
    a document that cannot be read (as stored: the cap on new documents does not apply),
    which then fails closed (see :func:`stored_binding`), never bound to nothing."""
    try:
        policy = Policy.from_json(text, kind=kind, stored=True)
    except MalformedPolicyDocument:
        return None
    found = {arn: _lookup(txn, account, arn) for arn in _own(policy, account)}
    return {arn: uid for arn, uid in found.items() if uid is not None}


def _misbound(txn: ReadTxn, account: str, text: str, kind: Kind, ids: object) -> bool:
    """Whether an earlier binding bound ``text`` to nothing only because it could not read
    it: text over the cap on new documents (which no save could have stored, so it came
    from a version before the cap) bound to ``{}`` though it names users or roles here."""
    if ids != {} or len(text) <= MAX_DOCUMENT_CHARS:
        return False
    return _legacy_binding(txn, account, text, kind) != {}


def bind_legacy(repository: repo.Repo, account: str) -> None:
    """Bind the policies a store saved before bindings existed (once per store).

    A store bound by an earlier version of this function (which read stored documents with
    the cap on new ones, and bound a document over it to nothing, so a Deny naming a user
    by ARN lapsed) has those bindings marked unreadable instead (``null``: they fail closed
    until saved again), once (a second marker record)."""
    with repository.read() as txn:
        if txn.get(_MIGRATED) is not None and txn.get(_REREAD) is not None:
            return
    with repository.meta.begin_write() as txn:
        migrated = txn.get(_MIGRATED) is not None
        if migrated and txn.get(_REREAD) is not None:
            return
        for key, raw in list(scan_prefix(txn, keyspace.BUCKET_POLICY)):
            record = json.loads(raw)
            text = record["policy"]
            # Once migrated, a record without a binding was saved by an older version
            # since: left so (see bound), not bound to whoever holds the names now.
            if "principals" not in record and not migrated:
                record["principals"] = _legacy_binding(txn, account, text, "resource")
            elif migrated and _misbound(txn, account, text, "resource", record.get("principals")):
                record["principals"] = None
            else:
                continue
            txn.put(key, json.dumps(record).encode())
        for rec in list(repo.scan(txn, keyspace.IAM_ROLE)):
            if "trust_principals" not in rec and not migrated:
                rec["trust_principals"] = _legacy_binding(txn, account, rec["trust"], "trust")
            elif migrated and _misbound(
                txn, account, rec["trust"], "trust", rec.get("trust_principals")
            ):
                rec["trust_principals"] = None
            else:
                continue
            repo.put(txn, keyspace.IAM_ROLE, rec["name"], rec)
        txn.put(_MIGRATED, b"1")
        txn.put(_REREAD, b"1")
        # Every process's authorizer reloads what it compiled before the binding.
        txn.put(repo.GENERATION_KEY, (repo.generation(txn) + 1).to_bytes(8, "big"))
