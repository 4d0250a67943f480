"""``objstore policy check|simulate``: validate policy files and run the policy simulator.

``objstore policy check FILE... [--kind KIND]``
    Parses each file as a policy of KIND (identity by default) and prints ``FILE: OK`` with
    its statement count and size, or ``FILE:LINE:COLUMN: message``. Every file is
    checked; exit status 0 when every file is valid, 1 when one is not, 2 when a file
    cannot be read.

``objstore policy simulate --policy FILE --action ACTION --resource ARN [...]``
    Evaluates every action on every resource against the policies and prints a table in
    the manner of the AWS console's simulator: action, resource, decision, the statements
    that decided (policy, Sid, line:column span) and the context keys that were missing.
    ``--context key=type:value`` supplies a condition key; type is one of the simulator's
    (string, numeric, boolean, ip, binary, date, and their ...List forms, whose values are
    comma-separated) and may be left out for a string. Exit status 0 when every request
    is allowed, 1 when one is denied, 2 on an unreadable file or invalid input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from objstore.errors import ObjstoreError
from objstore.iam.policy import KINDS, Kind, Policy
from objstore.iam.simulate import CONTEXT_KEY_TYPES, EvaluationResult, simulate

__all__ = ["EXIT_DENIED", "EXIT_ERROR", "EXIT_INVALID", "EXIT_OK", "main", "register"]

EXIT_OK = 0
EXIT_INVALID = 1  # check: a policy is invalid
EXIT_DENIED = 1  # simulate: a request was denied
EXIT_ERROR = 2  # unreadable file, invalid arguments or policies given to simulate

_TYPES = {t.lower(): t for t in CONTEXT_KEY_TYPES}


class _UsageError(Exception):
    pass


def _read(path: str) -> str:
    """The file's text (``-`` is standard input). Raises _UsageError if unreadable."""
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"{path}: cannot read: {exc}") from None


def _load(path: str, kind: Kind) -> Policy:
    """The policy in a file, named after the file (results show where statements are)."""
    return Policy.from_json(_read(path), kind=kind, name=path)


def _check(args: argparse.Namespace) -> int:
    out: TextIO = sys.stdout
    status = EXIT_OK
    for path in args.files:
        try:
            text = _read(path)
        except _UsageError as exc:
            # Keep checking the other files: one unreadable file must not hide problems
            # in the rest. The worst outcome decides the status.
            print(str(exc), file=sys.stderr)
            status = EXIT_ERROR
            continue
        try:
            policy = Policy.from_json(text, kind=args.kind)
        except ObjstoreError as exc:
            line = exc.details.get("line")
            column = exc.details.get("column")
            where = f"{path}:{line}:{column}" if line is not None else path
            # The message already ends in "(line L, column C)": keep it for humans.
            print(f"{where}: {exc.code}: {exc.message}", file=out)
            status = max(status, EXIT_INVALID)
            continue
        count = len(policy.statements)
        print(
            f"{path}: OK ({args.kind} policy, version {policy.version}, "
            f"{count} statement{'s' if count != 1 else ''}, {policy.size} characters)",
            file=out,
        )
    return status


def parse_context(items: Sequence[str]) -> list[dict[str, object]]:
    """``key=type:value`` strings as AWS context entries. Raises _UsageError."""
    entries: list[dict[str, object]] = []
    for item in items:
        key, eq, rest = item.partition("=")
        if not eq or not key:
            raise _UsageError(f"--context {item!r}: expected key=type:value")
        prefix, colon, value = rest.partition(":")
        key_type = _TYPES.get(prefix.lower()) if colon else None
        if key_type is None:
            key_type, value = "string", rest
        values = value.split(",") if key_type.endswith("List") else [value]
        entries.append(
            {"ContextKeyName": key, "ContextKeyValues": values, "ContextKeyType": key_type}
        )
    return entries


def _span(result: EvaluationResult) -> str:
    parts = []
    for m in result.matched_statements:
        sid = f" {m.sid}" if m.sid else f" #{m.index}"
        parts.append(
            f"{m.source_policy_id}{sid} "
            f"({m.start.line}:{m.start.column}-{m.end.line}:{m.end.column})"
        )
    return "; ".join(parts) or "-"


def format_table(results: Sequence[EvaluationResult], *, show_boundary: bool) -> str:
    """The results as a fixed-width table, one row per action and resource."""
    header = ["Action", "Resource", "Decision", "Matched statements", "Missing context"]
    if show_boundary:
        header.insert(3, "Boundary")
    rows = [header]
    for r in results:
        row = [
            r.eval_action_name,
            r.eval_resource_name,
            r.eval_decision,
            _span(r),
            ", ".join(r.missing_context_values) or "-",
        ]
        if show_boundary:
            row.insert(3, "allowed" if r.permissions_boundary_allowed else "denied")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _simulate(args: argparse.Namespace) -> int:
    try:
        policies = [_load(path, "identity") for path in args.policy]
        resource_policy = (
            _load(args.resource_policy, args.resource_policy_kind) if args.resource_policy else None
        )
        boundaries = [_load(args.boundary, "boundary")] if args.boundary else []
        results = simulate(
            policies,
            args.action,
            args.resource or ["*"],
            resource_policy=resource_policy,
            boundary_policies=boundaries,
            context_entries=parse_context(args.context or []),
            caller=args.caller,
            resource_account=args.resource_account,
        )
    except _UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR
    except ObjstoreError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    print(format_table(results, show_boundary=bool(boundaries)))
    return EXIT_OK if all(r.allowed for r in results) else EXIT_DENIED


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``policy`` command (``check`` and ``simulate``) to a CLI's sub-parsers."""
    parser = subparsers.add_parser(
        "policy", help="validate IAM policies and simulate requests against them"
    )
    commands = parser.add_subparsers(dest="policy_command", metavar="COMMAND", required=True)

    check = commands.add_parser("check", help="validate policy documents and print problems")
    check.add_argument("files", nargs="+", metavar="FILE", help="policy JSON file ('-': stdin)")
    check.add_argument("--kind", choices=KINDS, default="identity", help="policy kind")
    check.set_defaults(func=_check)

    sim = commands.add_parser(
        "simulate", help="evaluate actions on resources against policies (a console-like table)"
    )
    sim.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="FILE",
        help="identity policy file (repeatable)",
    )
    sim.add_argument(
        "--action",
        action="append",
        required=True,
        metavar="ACTION",
        help="action to simulate, e.g. s3:GetObject (repeatable)",
    )
    sim.add_argument(
        "--resource", action="append", metavar="ARN", help="resource ARN (repeatable; default '*')"
    )
    sim.add_argument("--resource-policy", metavar="FILE", help="resource (bucket) policy file")
    sim.add_argument("--resource-policy-kind", choices=("resource", "trust"), default="resource")
    sim.add_argument("--boundary", metavar="FILE", help="permissions boundary policy file")
    sim.add_argument("--caller", metavar="ARN", help="the principal making the requests")
    sim.add_argument("--resource-account", metavar="ACCOUNT", help="account owning the resources")
    sim.add_argument(
        "--context",
        action="append",
        metavar="KEY=TYPE:VALUE",
        help="condition key value (repeatable)",
    )
    sim.set_defaults(func=_simulate)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``policy ...`` standalone (what ``objstore policy ...`` does). Returns the status."""
    parser = argparse.ArgumentParser(prog="objstore")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
