"""The ``objstore`` command line.

Every sub-command opens the store named by ``--store`` or ``$OBJSTORE_DIR``
(default ``./.objstore-data``), or by ``--metadata`` / ``--chunks`` URLs (or
``$OBJSTORE_METADATA`` / ``$OBJSTORE_CHUNKS``) for a store on shared backends; only
``mb`` (and ``demo``/``bench``) create a missing one.
Errors print one line and exit non-zero. Keys and other names are printed escaped
(see :mod:`objstore.cli.escape`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from objstore.cli.common import CliError, add_backend_flags
from objstore.cli.escape import shown
from objstore.errors import ObjstoreError

_EPILOG = """\
Only 'mb' creates a store; other commands refuse a --store that holds none.

A store on shared backends (several nodes, one store) is named by two URLs instead:
  --metadata postgresql://user@host:5432/db | lmdb:///dir | memory:
  --chunks   s3://bucket/prefix?endpoint=http://host:port&region=R | file:///dir | memory:
Credentials come from the environment (PG*, AWS_*); the secret key that seals IAM
credentials from $OBJSTORE_SECRET_KEY (base64) or $OBJSTORE_SECRET_KEY_FILE, the same on
every node. With both URLs, --store is not used unless given.

Keys, bucket names and metadata are printed as one line of inert text: a backslash
is printed as \\\\, newline/CR/tab as \\n \\r \\t, and other control characters (and
Unicode line separators and bidi overrides) as \\xHH or \\uHHHH, as in Python strings.
"""


def _parser() -> argparse.ArgumentParser:
    from objstore.cli import bench, demo, maint, storage

    parser = argparse.ArgumentParser(
        prog="objstore",
        description="An embeddable object store with S3 semantics.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store",
        help="store directory (default: $OBJSTORE_DIR or ./.objstore-data)",
    )
    add_backend_flags(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    storage.register(sub)
    maint.register(sub)
    demo.register(sub)
    bench.register(sub)
    try:
        from objstore.cli import policy
    except ImportError:  # pragma: no cover - the IAM package is optional at this layer
        pass
    else:
        policy.register(sub)
    from objstore.cli import iam

    iam.register(sub)
    from objstore.cli import serve

    serve.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    # `bench` must know whether a store was named (it never runs in one by default).
    args.explicit_store = args.store
    args.store = args.store or os.environ.get("OBJSTORE_DIR") or ".objstore-data"
    try:
        status: int = args.func(args)
    except ObjstoreError as exc:
        print(f"objstore: {exc.code}: {shown(exc.message)}", file=sys.stderr)
        return 1
    except (CliError, OSError, ValueError) as exc:
        print(f"objstore: {shown(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("objstore: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
