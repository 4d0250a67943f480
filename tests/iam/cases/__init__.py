"""Data tables for the IAM conformance, validation and property tests.

Every module here is pure data (plus tiny builders that return dicts): the
conformance cases in ``conformance_*.py``, the invalid and valid documents in
``documents.py``. The tests in ``tests/iam`` run them through the public API
of :mod:`objstore.iam` only.
"""

from __future__ import annotations

from .conformance_conditions import CASES as _CONDITIONS
from .conformance_matching import CASES as _MATCHING
from .conformance_principals import CASES as _PRINCIPALS
from .conformance_variables import CASES as _VARIABLES
from .model import Case

CONFORMANCE: tuple[Case, ...] = (*_MATCHING, *_CONDITIONS, *_VARIABLES, *_PRINCIPALS)

__all__ = ["CONFORMANCE", "Case"]
