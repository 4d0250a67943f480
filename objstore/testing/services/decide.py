"""What a test does when a service it needs is unavailable: pure rules, no I/O.

Outside CI a machine without the binaries skips the distributed tests (loudly: the reason is
repeated in the summary); in CI (``CI=true``, which ``.ci/run`` runs under) a missing or failing
service fails the tests, because a skipped suite would pass CI without testing anything. A
service whose binaries are present but that fails to start is a failure everywhere: that is a
bug in the services or the machine, not an optional feature.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Outcome(enum.Enum):
    USE = "use"
    SKIP = "skip"
    FAIL = "fail"


def ci_enabled(environ: Mapping[str, str]) -> bool:
    """True when ``environ`` says the tests run in CI (``CI`` set to true/1/yes)."""
    return environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def decide(*, ci: bool, binaries_present: bool, error: str | None) -> Outcome:
    """USE when the service is up (``error`` None), else SKIP or FAIL per the module's rules."""
    if error is None:
        return Outcome.USE
    if ci or binaries_present:
        return Outcome.FAIL
    return Outcome.SKIP
