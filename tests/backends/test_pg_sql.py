"""The pure half of the PostgreSQL backend: URLs, names, the writer lock key, redaction."""

from __future__ import annotations

import subprocess
import sys

import pytest

from objstore.backends.pg_sql import Statements, parse_url, redacted, scrub, writer_lock_key
from objstore.errors import InvalidArgument


def test_parse_url_keeps_libpq_parameters_and_takes_its_own() -> None:
    opts = parse_url(
        "postgres://u:p@h:6543/db?sslmode=require&schema=s&table_prefix=t_&pool_min=2"
        "&pool_max=5&timeout=3.5&lock_timeout=0&application_name=x"
    )
    assert opts.conninfo == "postgres://u:p@h:6543/db?sslmode=require&application_name=x"
    assert (opts.schema, opts.table_prefix, opts.pool_min, opts.pool_max) == ("s", "t_", 2, 5)
    assert (opts.timeout, opts.lock_timeout) == (3.5, None)
    defaults = parse_url("postgresql://h/db")
    assert (defaults.conninfo, defaults.table_prefix, defaults.lock_timeout) == (
        "postgresql://h/db",
        "objstore_",
        60.0,
    )


@pytest.mark.parametrize(
    "url", ["s3://b/p", "h/db", "postgresql://h/db?pool_max=x", "postgresql://h/db?timeout="]
)
def test_parse_url_refuses(url: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_url(url)


@pytest.mark.parametrize("name", ["", "1abc", "a-b", 'a"b', "a" * 57, "é"])
def test_table_prefix_must_be_a_plain_identifier(name: str) -> None:
    if name == "":
        Statements.build(None, name)  # no prefix is allowed
        return
    with pytest.raises(InvalidArgument):
        Statements.build(None, name)


def test_statements_name_their_tables_and_lock() -> None:
    a = Statements.build("tenant", "os_")
    assert a.kv == '"tenant"."os_kv"' and a.version_table == '"tenant"."os_schema"'
    assert a.kv in a.get and a.kv in a.flush and a.commits in a.flush
    assert str(a.lock_key) in a.begin_write
    b = Statements.build(None, "os_")
    assert b.kv == '"os_kv"'
    # Stores with other names do not share the writer lock; the same names always do.
    assert len({writer_lock_key(s, p) for s in (None, "x") for p in ("a_", "b_")}) == 4
    assert writer_lock_key("x", "a_") == Statements.build("x", "a_").lock_key
    assert -(1 << 63) <= a.lock_key < 1 << 63
    # A schema the server resolved may be any name; only a named one is created.
    c = Statements.build('my "odd" schema', "os_", resolved=True)
    assert c.kv == '"my ""odd"" schema"."os_kv"' and not c.create_schema
    assert a.create_schema and not b.create_schema
    assert c.lock_key == writer_lock_key('my "odd" schema', "os_")


def test_redaction_never_shows_the_password() -> None:
    params: dict[str, str | None] = {
        "user": "u",
        "password": "pw",
        "host": "db.example",
        "port": "6000",
        "dbname": "meta",
    }
    assert redacted(params) == "postgresql://u@db.example:6000/meta"
    assert redacted({"password": "pw"}) == "postgresql://localhost:5432/"
    assert scrub('missing "=" after "hunter2"', "host=h password=hunter2 junk") == (
        'missing "=" after "***"'
    )
    assert scrub("x se cret y", "host=h password='se cret' junk") == "x *** y"
    assert scrub("oops p@ss", "postgresql://u:p%40ss@h/db") == "oops ***"


def test_pool_warnings_stay_off_a_bare_stderr_and_reach_configured_handlers() -> None:
    """Review 9m, L2: psycopg-pool's warnings during a PostgreSQL restart went to stderr
    through logging's last-resort handler in a process that configured no logging. They
    stay off it now; an application that configured logging still receives them."""
    emit = (
        "import logging, sys\n"
        "import objstore.backends.postgres\n"
        "if sys.argv[1] == 'configured':\n"
        "    logging.basicConfig(stream=sys.stdout, format='%(name)s %(message)s')\n"
        "logging.getLogger('psycopg.pool').warning('reconnection attempt failed')\n"
    )
    bare = subprocess.run(
        [sys.executable, "-c", emit, "bare"], capture_output=True, text=True, check=True
    )
    assert (bare.stdout, bare.stderr) == ("", "")
    configured = subprocess.run(
        [sys.executable, "-c", emit, "configured"], capture_output=True, text=True, check=True
    )
    assert configured.stdout == "psycopg.pool reconnection attempt failed\n"
