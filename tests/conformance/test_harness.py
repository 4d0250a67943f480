"""The conformance harness's own logic: the store and s3tests.conf it prepares, and how it counts
a junit report. (The suite itself runs only from ``make conformance``.)"""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

import objstore
from objstore.errors import AccessDenied
from tests.conformance.accounts import Conf, moto_conf, objstore_conf, write_conf
from tests.conformance.report import format_counts, read_junit, write_failures

# The sections and options the suite's configure() reads (s3tests/functional/__init__.py).
USER_OPTIONS = {"access_key", "secret_key", "user_id", "email"}
REQUIRED = {
    "s3 main": USER_OPTIONS | {"display_name"},
    "s3 alt": USER_OPTIONS | {"display_name"},
    "s3 tenant": USER_OPTIONS | {"display_name", "tenant"},
    "iam": USER_OPTIONS | {"display_name"},
    "iam root": USER_OPTIONS,
    "iam alt root": USER_OPTIONS,
}


def _read(conf: Conf, tmp_path: Path) -> configparser.RawConfigParser:
    path = tmp_path / "s3tests.conf"
    write_conf(conf, "127.0.0.1", 8123, path)
    cfg = configparser.RawConfigParser()
    cfg.read(path)
    return cfg


@pytest.mark.parametrize("make", [moto_conf, None], ids=["moto", "objstore"])
def test_conf_has_what_the_suite_reads(make: object, tmp_path: Path) -> None:
    conf = moto_conf() if make is not None else objstore_conf(tmp_path / "store")
    cfg = _read(conf, tmp_path)
    assert cfg.get("DEFAULT", "host") == "127.0.0.1"
    assert cfg.getint("DEFAULT", "port") == 8123
    assert not cfg.getboolean("DEFAULT", "is_secure")
    assert "{random}" in cfg.get("fixtures", "bucket prefix")
    for section, options in REQUIRED.items():
        assert options <= set(cfg.options(section)), section


def test_objstore_identities_map_as_documented(tmp_path: Path) -> None:
    conf = objstore_conf(tmp_path / "store")
    cfg = _read(conf, tmp_path)
    with objstore.open(str(tmp_path / "store")) as store:

        def client(section: str) -> objstore.Client:
            return store.client(cfg.get(section, "access_key"), cfg.get(section, "secret_key"))

        # main and [iam root]: the account root, owner id = the account id.
        assert cfg.get("s3 main", "user_id") == store.account_id
        main = client("s3 main")
        main.create_bucket("bkt")
        main.put_object("bkt", "k", b"v")
        assert client("iam root").get_object("bkt", "k").read() == b"v"
        # alt: lists and creates buckets, nothing else unless a bucket policy lets it.
        alt = client("s3 alt")
        assert [b.name for b in alt.list_buckets()] == ["bkt"]
        alt.create_bucket("alt-bkt")
        with pytest.raises(AccessDenied):
            alt.get_object("bkt", "k")
        with pytest.raises(AccessDenied):
            alt.put_object("alt-bkt", "k", b"v")
        # tenant and [iam]: full S3 rights.
        assert client("s3 tenant").get_object("bkt", "k").read() == b"v"
        assert client("iam").get_object("bkt", "k").read() == b"v"


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="s3tests.functional.test_s3" name="test_ok" time="0.1"/>
<testcase classname="s3tests.functional.test_s3" name="test_bad" time="0.1">
  <failure message="AssertionError: assert 403 == 200&#10;more">trace</failure></testcase>
<testcase classname="s3tests.functional.test_s3" name="test_bad" time="0.1">
  <error message="failed on teardown with &quot;BucketNotEmpty&quot;">trace</error></testcase>
<testcase classname="s3tests.functional.test_s3" name="test_teardown" time="0.1"/>
<testcase classname="s3tests.functional.test_s3" name="test_teardown" time="0.1">
  <error message="failed on teardown with &quot;KeyError&quot;">trace</error></testcase>
<testcase classname="s3tests.functional.test_s3" name="test_skip" time="0.0">
  <skipped type="pytest.skip" message="no api_name configured">why</skipped></testcase>
</testsuite></testsuites>
"""


def test_junit_counts_each_test_once(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    results = read_junit(path)
    outcomes = {r.name: (r.outcome, r.message) for r in results}
    assert outcomes == {
        "test_ok": ("passed", ""),
        "test_bad": ("failed", "AssertionError: assert 403 == 200"),
        "test_teardown": ("errors", 'failed on teardown with "KeyError"'),
        "test_skip": ("skipped", "no api_name configured"),
    }
    assert format_counts(results, 463) == "1 passed, 1 failed, 1 errors, 1 skipped of 463"
    write_failures(results, tmp_path / "failures.txt")
    lines = (tmp_path / "failures.txt").read_text().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["failed", "test_bad"],
        ["skipped", "test_skip"],
        ["errors", "test_teardown"],
    ]
