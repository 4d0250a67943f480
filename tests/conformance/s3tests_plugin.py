"""A pytest plugin loaded into the s3-tests run (``-p s3tests_plugin``): a bucket prefix per test.

The suite draws one random bucket prefix per session and empties and deletes that prefix's
buckets before and after every test, raising when one cannot be deleted; one undeletable bucket
(a server defect, or a feature the server lacks) then fails the set-up of every later test. A
fresh prefix before each test keeps every test's outcome its own.
"""

from __future__ import annotations

import configparser
import os
from typing import Any

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: Any) -> None:
    import s3tests.functional as suite  # the suite's package, on its rootdir's path

    if suite.prefix is None:  # the session fixture has not configured the suite yet
        return
    cfg = configparser.RawConfigParser()
    cfg.read(os.environ["S3TEST_CONF"])
    template = cfg.get("fixtures", "bucket prefix", fallback="test-{random}-")
    suite.prefix = suite.choose_bucket_prefix(template=template)
