"""``python -m objstore.testing.services install|start|stop|env|status [postgres|ceph ...]``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from objstore.testing.services import install
from objstore.testing.services._proc import ServiceError
from objstore.testing.services.control import SERVICES, start, status, stop
from objstore.testing.services.state import ENV_VAR, load, state_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m objstore.testing.services")
    parser.add_argument("command", choices=["install", "start", "stop", "env", "status"])
    parser.add_argument(
        "services", nargs="*", help="any of: " + ", ".join(SERVICES) + " (default: all)"
    )
    args = parser.parse_args(argv)
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown services: {', '.join(sorted(unknown))}")
    names = tuple(args.services) or SERVICES
    try:
        if args.command == "install":
            install.install(names)
        elif args.command == "start":
            began = time.monotonic()
            state = start(names)
            took = time.monotonic() - began
            print(f"services ready in {took:.1f} s; state in {state.state_dir}/env.json")
            print(f"  other checkouts: export {ENV_VAR}={state.state_dir}")
            if state.postgres is not None:
                print(f"  PostgreSQL: {state.postgres.dsn}")
            if state.rgw is not None:
                print(
                    f"  Ceph RGW:   {state.rgw.endpoint}  access key {state.rgw.access_key}"
                    f"  secret {state.rgw.secret_key}  region {state.rgw.region}"
                )
        elif args.command == "stop":
            stopped = stop(names)
            print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        elif args.command == "env":
            loaded = load()
            if loaded is None:
                print(f"no services state in {state_dir()}: run `make services`", file=sys.stderr)
                return 1
            print(loaded.shell_exports())
        else:
            print(json.dumps(status(), indent=2))
    except ServiceError as exc:
        print(f"services: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
