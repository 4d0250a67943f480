"""The choke point: authenticate -> authorize -> execute -> audit.

Every public operation arrives here as ``(caller, operation name, params)``.
The engine looks the operation up in :mod:`objstore.actions`, asks the
authorizer once per permission, and only then calls the namespace. Nothing
below this module knows who the caller is. What a decision settles beyond yes or no
reaches the operation as data: the optional actions allowed (which of a GET's Object Lock
fields the result shows) and what the decision read (``Operation.decided_param``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from objstore.actions import (
    BUCKET,
    ENTITY_KIND,
    IAM_KEY_OWNER,
    IAM_RESOURCES,
    OBJECT,
    OPERATIONS,
    Operation,
    Permission,
    Reveal,
    tag_context,
)
from objstore.authz import (
    AuthorizationRequest,
    Authorizer,
    CallerMoved,
    Identity,
    decided_facts,
    decided_request,
    is_allowed,
    optional_allowed,
)
from objstore.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidClientTokenId,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
    ObjstoreError,
    ServiceUnavailable,
    StoreClosed,
)
from objstore.ns import decided, locking
from objstore.ns.namespace import Namespace

log = logging.getLogger("objstore.audit")
EXISTING_TAG = "s3:ExistingObjectTag/"
CURRENT_BOUNDARY = "iam:PermissionsBoundary"
# The tags of an IAM user or role, under both keys AWS documents for them.
RESOURCE_TAG_PREFIXES = ("aws:ResourceTag/", "iam:ResourceTag/")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One operation as the audit trail records it."""

    time_ns: int
    principal: str
    operation: str
    resources: tuple[str, ...]
    outcome: str  # "ok" or the error code
    actions: tuple[str, ...] = ()  # the IAM actions asked, one per resource
    denied: bool = False  # whether authentication or authorization refused the call


AuditSink = Callable[[AuditEvent], None]
# Builds the ARN of an IAM resource a permission names (the identity layer knows paths).
ArnResolver = Callable[[Permission, Mapping[str, Any], Identity], str]
# Re-checks a caller's credentials (still active, not expired) before each call and
# returns the caller the call runs as (the same one, or its user renamed or moved since).
Authenticator = Callable[[Identity, Operation], Identity]
# How many times one call is run again for a caller its operation found renamed since.
_MAX_MOVES = 3
# Decisions made again because the object changed under one (see objstore.ns.decided).
_MAX_STALE = 5
# The tags of the IAM user or role an ARN names (empty for no such entity).
ResourceTags = Callable[[str], Mapping[str, str]]
# The ARN of the permissions boundary of the user or role an ARN names (None: none).
ResourceBoundary = Callable[[str], str | None]


def _log_sink(event: AuditEvent) -> None:
    if log.isEnabledFor(logging.INFO):
        log.info(
            "%s %s %s -> %s",
            event.principal,
            event.operation,
            ",".join(event.resources),
            event.outcome,
        )


class Engine:
    """Runs operations for callers, through the authorizer."""

    def __init__(
        self,
        ns: Namespace,
        authorizer: Authorizer,
        *,
        audit: AuditSink | None = None,
        account: str | None = None,
        targets: Mapping[str, object] | None = None,
        resolve_arn: ArnResolver | None = None,
        authenticate: Authenticator | None = None,
        resource_tags: ResourceTags | None = None,
        resource_boundary: ResourceBoundary | None = None,
    ) -> None:
        self.ns = ns
        self.resource_boundary = resource_boundary
        self.authorizer = authorizer
        self.audit = audit or _log_sink
        self.closed = False
        self.account = account
        # Who runs an operation: the namespace, or (IAM, STS, bucket policies) the
        # identity layer; Operation.target names one.
        self.targets: dict[str, object] = {"ns": ns, **(targets or {})}
        self.resolve_arn = resolve_arn
        self.authenticate = authenticate
        self.resource_tags = resource_tags
        self.closed_reason = "the store is closed"

    def _request(
        self,
        caller: Identity,
        op: Operation,
        perm: Permission,
        params: Mapping[str, Any],
        owners: dict[str, tuple[str | None, bool]] | None = None,
        reveals: tuple[Reveal, ...] = (),
        pins: decided.Pins | None = None,
    ) -> AuthorizationRequest:
        owner = None
        locked = False
        loaders: list[tuple[str, Callable[[], Mapping[str, object]]]] = []
        if perm.resource in IAM_RESOURCES:
            if self.resolve_arn is None:
                raise AccessDenied("this store has no identity layer")
            resource = self.resolve_arn(perm, params, caller)
            owner = self.account
            if self.resource_tags is not None:
                # aws:ResourceTag/* and iam:ResourceTag/* of the user or role acted on (a
                # read: loaded like an object's tags, below). Offered for every IAM
                # resource, whatever kind the row declares: an ARN that turns out to name a
                # user or role (a key's owner, a simulated principal, an assumed role)
                # cannot miss its tags; for any other ARN there are none.
                loaders.extend(_entity_tag_loaders(self.resource_tags, resource))
            if perm.current_boundary and self.resource_boundary is not None:
                read_boundary, arn = self.resource_boundary, resource

                def boundary() -> Mapping[str, object]:
                    found = read_boundary(arn)
                    return {} if found is None else {CURRENT_BOUNDARY: found}

                loaders.append((CURRENT_BOUNDARY, boundary))
        else:
            resource = perm.resource_for(params)
        if perm.resource not in IAM_RESOURCES and perm.resource != "*":
            bucket = params[perm.bucket_param]
            # Batch operations pass a dict so each bucket's owner is read once.
            if owners is None:
                owner, locked = self.ns.bucket_owner_and_lock(bucket)
            elif isinstance(bucket, str) and bucket in owners:  # else the lookup refuses it
                owner, locked = owners[bucket]
            else:
                owner, locked = owners[bucket] = self.ns.bucket_owner_and_lock(bucket)
        context = perm.context_for(params)
        if perm.lock_context:
            context.update(locking.condition_values(params, self.ns.clock()))
        deferred: tuple[tuple[str, Callable[[], Mapping[str, object]]], ...] = ()
        if perm.existing_tags:
            # Declared by the permission: the stored object's tags.
            bucket, key = params[perm.bucket_param], params[perm.key_param]
            version = params.get(perm.version_param) if perm.version_param else None

            def existing_tags() -> Mapping[str, object]:
                stored, stamp = self.ns.object_tags(bucket, key, version)
                if pins is not None:
                    # The operation must act on the very version these tags are of.
                    pins[(bucket, key, version)] = stamp
                return tag_context(EXISTING_TAG, stored.items())

            loaders.append((EXISTING_TAG, existing_tags))
        if loaders:
            # Tags cost a transaction to read, so an authorizer that can tell whether a
            # policy reads them loads them only then; any other gets them read first.
            if getattr(self.authorizer, "defers_context", False):
                deferred = tuple(loaders)
            else:
                for _prefix, load in loaders:
                    context.update(load())
        return AuthorizationRequest(
            principal=caller,
            action=perm.action_for(params),
            resource=resource,
            context=context,
            operation=op.name,
            resource_account=owner,
            deferred=deferred,
            # Only a version in a bucket with Object Lock has lock fields to reveal.
            optional=tuple(r.action for r in reveals if locked or not r.object_lock)
            if reveals
            else (),
            rebuild=lambda who: self._request(who, op, perm, params, owners, reveals, pins),
        )

    def _audit(self, event: AuditEvent) -> None:
        """Record ``event``; a failing sink never changes the operation's outcome.

        The operation has committed (or failed) by now: an error here would tell a caller
        that a stored write failed, and its retry would store it again or lose a
        conditional race it won (review rev11d, M1). The sink keeps what it could not
        write (the store's audit log retries it with its next write)."""
        try:
            self.audit(event)
        except Exception:
            log.exception(
                "the audit sink failed to record %s by %s", event.operation, event.principal
            )

    def _allowed(self, req: AuthorizationRequest) -> bool:
        return is_allowed(self.authorizer.authorize(req))

    @staticmethod
    def _denied(
        caller: Identity, req: AuthorizationRequest, named: str | None = None
    ) -> AccessDenied:
        resource = req.resource if named is None else named
        return AccessDenied(
            # The action and resource only: which policies were consulted, or why they
            # did not allow, is for the account's administrators (the simulator), not
            # for the caller.
            f"not authorized to perform {req.action} on resource {resource}",
            action=req.action,
            resource=resource,
        )

    def call(
        self,
        caller: Identity,
        name: str,
        params: dict[str, Any],
        *,
        _moves: int = 0,
        _stale: int = 0,
    ) -> Any:
        """Authorize and run operation ``name``. Raises AccessDenied or the operation's errors."""
        if self.closed:
            raise StoreClosed(self.closed_reason)
        op = OPERATIONS[name]
        resources: list[str] = []
        actions: list[str] = []
        outcome = "ok"
        denied = False
        moved: Identity | None = None
        shown: frozenset[str] = frozenset()  # the reveals allowed
        read: dict[str, str] = {}  # what the decisions read (Verdict.read)
        pins: decided.Pins = {}  # the object versions whose tags the decisions read
        stale = False
        given = params  # as passed: a run again starts from them, not from what was added
        try:
            if self.authenticate is not None:
                try:
                    caller = self.authenticate(caller, op)
                except AccessDenied:
                    denied = True
                    raise
            if op.per_item:
                ran_as = [caller]
                try:
                    return self._call_items(ran_as, op, params, resources, actions)
                finally:
                    caller = ran_as[0]
            if op.parse:
                # Before any permission is asked: refused input decides nothing, and the
                # authorizer sees the very value the operation will act on.
                params = _parsed(op, params)
            for i, perm in enumerate(op.permissions):
                if not perm.applies(params):
                    continue
                reveals = op.reveals if i == 0 else ()
                req = self._request(caller, op, perm, params, reveals=reveals, pins=pins)
                resources.append(req.resource)
                actions.append(req.action)
                answer = self.authorizer.authorize(req)
                # Asked instead for the caller as it is now (its user renamed or moved since
                # its identity was made): the rest of the call runs as it.
                req = decided_request(answer, req)
                caller, resources[-1] = req.principal, req.resource
                if not is_allowed(answer):
                    if perm.optional and perm.only_with is not None:
                        params = {**params, perm.only_with: False}
                        continue
                    missing = _missing_bucket(op, perm, params, req)
                    if missing is not None:
                        raise missing
                    denied = True
                    raise self._denied(caller, req, _as_named(perm, params, req.resource))
                if req.optional:
                    shown = optional_allowed(answer, req)
                facts = decided_facts(answer)
                if facts and not _merge_read(read, facts):
                    # Two decisions of the call read different states of one thing (a role
                    # deleted and created again between them): act on neither.
                    denied = True
                    raise self._denied(caller, req, _as_named(perm, params, req.resource))
                if op.owner_account_only and _outside_owner_account(caller, req):
                    denied = True
                    raise MethodNotAllowed(
                        "The specified method is not allowed against this resource.",
                        action=req.action,
                        resource=req.resource,
                    )
            if op.owner_param:
                params = {**params, op.owner_param: caller.account}
            if op.caller_param:
                params = {**params, op.caller_param: caller}
            if op.decided_param:
                params = {**params, op.decided_param: dict(read)}
            try:
                run = getattr(self.targets[op.target], op.method)
                if pins:  # only when a decision read an object's tags: no cost otherwise
                    with decided.acting_on(pins):
                        result = run(**params)
                else:
                    result = run(**params)
            except (NoSuchKey, NoSuchVersion) as exc:
                need = op.not_found_requires
                hidden = (
                    need is not None
                    and not exc.details.get("delete_marker")
                    and not self._allowed(self._request(caller, op, need, params))
                )
                if hidden:
                    # Without ListBucket a caller must not learn what does not exist.
                    raise AccessDenied("access denied") from None
                raise
            try:
                for reveal in op.reveals:
                    if reveal.action not in shown and any(
                        getattr(result, name, None) is not None for name in reveal.fields
                    ):
                        result = _withheld(result, reveal.fields)
            except BaseException:
                close = getattr(result, "close", None)
                if close is not None:  # an opened body is not left open
                    close()
                raise
            return result
        except CallerMoved as exc:
            # The operation found the caller's user renamed or moved since the call was
            # authorized, before it did anything: the call runs again as the user it is
            # now, decisions included, and only that run is audited.
            if _moves >= _MAX_MOVES:
                outcome, denied = InvalidClientTokenId.code, True
                raise InvalidClientTokenId(
                    "The security token included in the request is invalid."
                ) from None
            moved = exc.identity
        except decided.DecisionStale:
            # The object changed between the decision and the operation, which stopped
            # before reading or writing anything: decide again on what is there now, and
            # audit only that run. A key rewritten faster than the decision can be made
            # is answered as S3 answers overload.
            if _stale >= _MAX_STALE:
                outcome = ServiceUnavailable.code
                raise ServiceUnavailable(
                    "the object changed while the request was being authorized; retry"
                ) from None
            stale = True
        except ObjstoreError as exc:
            outcome = exc.code
            # Credentials refused (by the authenticator or an authorizer that re-checks them).
            denied = denied or isinstance(exc, InvalidClientTokenId | ExpiredToken)
            raise
        except Exception as exc:
            outcome = "InternalError"
            if self.closed:
                # Closing the store under a running call makes its backends fail
                # with their own exceptions; the caller is owed the documented error.
                outcome = StoreClosed.code
                raise StoreClosed("the store was closed during the call") from exc
            raise
        finally:
            if moved is None and not stale:
                self._audit(
                    AuditEvent(
                        time.time_ns(),
                        caller.arn,
                        op.name,
                        tuple(resources),
                        outcome,
                        tuple(actions),
                        denied,
                    )
                )
        if stale:
            return self.call(caller, name, given, _moves=_moves, _stale=_stale + 1)
        assert moved is not None  # every other way out of the try returned or raised
        return self.call(moved, name, given, _moves=_moves + 1, _stale=_stale)

    def _call_items(
        self,
        ran_as: list[Identity],
        op: Operation,
        params: dict[str, Any],
        resources: list[str],
        actions: list[str],
    ) -> Any:
        """Authorize each item, then run the operation on them all. ``ran_as`` holds the
        caller, as the decisions find it (its user renamed or moved since)."""
        denied: dict[int, ObjstoreError] = {}
        withheld: dict[int, set[str]] = {}
        owners: dict[str, tuple[str | None, bool]] = {}
        for i, entry in enumerate(params["items"]):
            item = {**params, **dict(zip(op.per_item, entry, strict=False))}
            for perm in op.permissions:
                if not perm.applies(item):
                    continue
                req = self._request(ran_as[0], op, perm, item, owners)
                resources.append(req.resource)
                actions.append(req.action)
                answer = self.authorizer.authorize(req)
                req = decided_request(answer, req)
                ran_as[0], resources[-1] = req.principal, req.resource
                if not is_allowed(answer):
                    if perm.optional and perm.only_with is not None:
                        # This item goes on without what the permission enables.
                        withheld.setdefault(i, set()).add(perm.only_with)
                        continue
                    exc = self._denied(ran_as[0], req)
                    if not op.partial:
                        raise exc
                    denied[i] = exc
                    break
        if withheld:
            params = {**params, "withheld": withheld}
        if op.partial:
            return getattr(self.ns, op.method)(**params, denied=denied)
        return getattr(self.ns, op.method)(**params)


def _merge_read(into: dict[str, str], read: Mapping[str, str]) -> bool:
    """Add what one decision read to what the call's earlier ones read; False when it
    read another value of a fact an earlier one read."""
    return all(into.setdefault(name, value) == value for name, value in read.items())


def _withheld(result: Any, names: tuple[str, ...]) -> Any:
    """``result`` without the attributes ``names`` (None): a frozen dataclass is copied,
    an open body (a plain object) changed in place."""
    cleared = dict.fromkeys(names)
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.replace(result, **cleared)
    for name, value in cleared.items():
        setattr(result, name, value)
    return result


def _parsed(op: Operation, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the parameters ``op`` declares parsed (see ``Operation.parse``);
    unset ones (None) stay unset. Raises what the parsers raise."""
    out = dict(params)
    for name, parse in op.parse:
        if out.get(name) is not None:
            out[name] = parse(out[name])
    return out


def _as_named(perm: Permission, params: Mapping[str, Any], resolved: str) -> str:
    """The resource a refusal names. A user, group or role the caller names, and the
    owner of an access key, are resolved to their stored ARN to decide (the path; whose
    key it is), which a refused caller must not learn that way (review rev11a, L4): the
    refusal names them as the caller did, as AWS's messages do ("on resource: user NAME").
    The audit log keeps the resolved ARN."""
    if perm.resource == IAM_KEY_OWNER and perm.name_param:
        return f"access key {params.get(perm.name_param)}"
    entity = ENTITY_KIND.get(perm.resource)
    given = perm.renames or perm.name_param
    if entity is not None and given and isinstance(params.get(given), str):
        return f"{entity} {params[given]}"
    return resolved


def _entity_tag_loaders(
    read_tags: ResourceTags, arn: str
) -> list[tuple[str, Callable[[], Mapping[str, object]]]]:
    """Loaders of the tags of the user or role ``arn`` under each of its prefixes; the
    tags are read once, by whichever a policy needs first."""
    cache: list[Mapping[str, str]] = []

    def tags() -> Mapping[str, str]:
        if not cache:
            cache.append(read_tags(arn))
        return cache[0]

    def loader(prefix: str) -> Callable[[], Mapping[str, object]]:
        return lambda: tag_context(prefix, tags().items())

    return [(prefix, loader(prefix)) for prefix in RESOURCE_TAG_PREFIXES]


def _outside_owner_account(caller: Identity, req: AuthorizationRequest) -> bool:
    """Whether ``caller`` is not an identity of the account owning the resource (a bucket
    that does not exist has no owner: its call goes on to answer NoSuchBucket)."""
    return req.resource_account is not None and req.resource_account != caller.account


def _missing_bucket(
    op: Operation, perm: Permission, params: Mapping[str, Any], req: AuthorizationRequest
) -> NoSuchBucket | None:
    """The NoSuchBucket a refused request on a bucket that does not exist is answered.

    Bucket names are global and public in S3, which answers 404 NoSuchBucket for a missing
    bucket whoever asks (an anonymous caller included); a denial would pretend it exists.
    Only when the answer is already a refusal: nothing is revealed that a caller allowed the
    action would not learn from the namespace itself.
    """
    if op.name == "CreateBucket" or perm.resource not in (BUCKET, OBJECT):
        return None
    if req.resource_account is not None:  # the bucket exists (its owner was read)
        return None
    bucket = params[perm.bucket_param]
    return NoSuchBucket(f"bucket {bucket!r} does not exist", bucket=bucket)
