"""Outcomes of an s3-tests run, read from its junit XML report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

OUTCOMES = ("passed", "failed", "errors", "skipped")


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    outcome: str  # one of OUTCOMES
    message: str  # the first line of the failure, error or skip message ("" when passed)


# When one test has several outcomes, the first of these is its outcome.
_RANK = {"failed": 0, "errors": 1, "skipped": 2, "passed": 3}


def read_junit(path: Path) -> list[Result]:
    """One Result per test, in the report's order. pytest writes a second test case for a test
    whose tear-down errored after its call failed; a test that failed counts as failed, one that
    passed but errored in its set-up or tear-down as an error (pytest's summary line counts that
    one twice, as passed and as an error)."""
    results: dict[str, Result] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "?")
        outcome, message = "passed", ""
        for tag, kind in (("failure", "failed"), ("error", "errors"), ("skipped", "skipped")):
            found = case.find(tag)
            if found is not None:
                text = found.get("message") or (found.text or "")
                outcome, message = kind, (text.strip().splitlines() or [""])[0]
                break
        seen = results.get(name)
        if seen is None or _RANK[outcome] < _RANK[seen.outcome]:
            results[name] = Result(name, outcome, message)
    return list(results.values())


def format_counts(results: list[Result], expected: int) -> str:
    """``"249 passed, 210 failed, 2 errors, 2 skipped of 463"``."""
    counts = Counter(r.outcome for r in results)
    body = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
    return f"{body} of {expected}"


def write_failures(results: list[Result], path: Path) -> None:
    """Every test that did not pass, sorted by name: outcome, name, first line of its message."""
    lines = [
        f"{r.outcome:8} {r.name}  {r.message[:300]}"
        for r in sorted(results, key=lambda r: r.name)
        if r.outcome != "passed"
    ]
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
