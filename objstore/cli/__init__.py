"""The ``objstore`` command line.

Every sub-command opens the store named by ``--store`` or ``$OBJSTORE_DIR``
(default ``./.objstore-data``). Errors print one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from objstore.errors import ObjstoreError


def _parser() -> argparse.ArgumentParser:
    from objstore.cli import demo, storage

    parser = argparse.ArgumentParser(
        prog="objstore", description="An embeddable object store with S3 semantics."
    )
    parser.add_argument(
        "--store",
        default=os.environ.get("OBJSTORE_DIR", ".objstore-data"),
        help="store directory (default: $OBJSTORE_DIR or ./.objstore-data)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    storage.register(sub)
    demo.register(sub)
    try:
        from objstore.cli import policy
    except ImportError:  # pragma: no cover - the IAM package is optional at this layer
        pass
    else:
        policy.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except ObjstoreError as exc:
        print(f"objstore: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"objstore: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("objstore: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
