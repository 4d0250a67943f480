"""Maintenance sub-commands: fsck (check, optionally repair) and stats."""

from __future__ import annotations

import argparse
import time
from typing import Any

from objstore.blob.leases import list_leases, reap_lease
from objstore.cli.common import CliError, open_from
from objstore.cli.escape import shown


def cmd_fsck(args: argparse.Namespace) -> int:
    """Exit 0 when healthy, 1 when anything is missing, corrupt, unreadable, orphaned or
    inconsistent."""
    with open_from(args, accept_chunk_loss=args.accept_chunk_loss) as store:
        lost = store.binding.lost
        r = store.fsck(verify_data=not args.no_verify_data, repair=args.repair)
    if lost is not None:
        # The check of a rebind (this one, or one an earlier open did not finish).
        for cid in lost:
            print(f"rebind: chunk {cid.hex()} is not at this location (quarantined)")
        print(
            f"rebind: {len(lost)} chunks the metadata names are missing at this location; "
            "the objects using them read as corrupt until their bytes are uploaded again"
        )
    print(f"fsck: {r.chunks_checked} chunks checked, {r.bytes_verified} bytes verified")
    for label, items in (
        ("missing", r.missing),
        ("corrupt", r.corrupt),
        ("unreadable", r.unreadable),
        ("orphaned", r.orphaned),
    ):
        for hex_id in items:
            print(f"{label}: chunk {hex_id}")
    if r.failure is not None:
        print(f"unreadable: the first: {shown(r.failure)}")  # names a path
    for line in r.inconsistent:
        print(f"inconsistent: {shown(line)}")  # may name a key
    if r.inconsistencies > len(r.inconsistent):
        print(f"inconsistent: ... {r.inconsistencies - len(r.inconsistent)} more")
    for hex_id in r.quarantined:
        print(f"quarantined: chunk {hex_id} (an upload of its bytes rewrites it)")
    if r.healthy:
        print("fsck: healthy")
        return 0
    print(
        f"fsck: unhealthy: {len(r.missing)} missing, {len(r.corrupt)} corrupt, "
        f"{len(r.unreadable)} unreadable, {len(r.orphaned)} orphaned (gc removes them), "
        f"{r.inconsistencies} inconsistent"
    )
    return 1


def cmd_stats(args: argparse.Namespace) -> int:
    with open_from(args) as store:
        s = store.stats()
    print(f"objects:       {s.objects}")
    print(f"versions:      {s.versions}")
    print(f"logical bytes: {s.logical_bytes}")
    print(f"stored bytes:  {s.stored_bytes} in {s.chunk_count} chunks (+{s.inline_bytes} inline)")
    print(f"dedup ratio:   {s.dedup_ratio:.2f}")
    return 0


def cmd_leases(args: argparse.Namespace) -> int:
    """List the store handles' leases; ``--reap ID`` deletes one whose node is dead."""
    with open_from(args) as store:
        meta, own = store.blobs.meta, store.blobs.leases.lease_id
        if args.reap is not None:
            try:
                lease_id = bytes.fromhex(args.reap)
            except ValueError:
                raise CliError(f"--reap takes a lease id in hex, not {args.reap!r}") from None
            if lease_id == own:
                raise CliError("that lease is this command's own")
            if not reap_lease(meta, lease_id):
                raise CliError(f"no lease {args.reap} (reaped already?)")
            print(f"reaped lease {args.reap}: gc no longer waits for it")
            return 0
        now = time.time_ns()
        for info in list_leases(meta):
            ttl = f"{info.ttl_ns / 1e9:g} s" if info.ttl_ns else "default"
            where = "this host" if info.here else "another host"
            mine = " (this command)" if info.lease_id == own else ""
            print(
                f"lease {info.lease_id.hex()}: pid {info.pid} on {where}, heartbeat "
                f"{(now - info.heartbeat_ns) / 1e9:.0f} s ago, ttl {ttl}{mine}"
            )
    return 0


def register(sub: Any) -> None:
    """Add the maintenance sub-commands to the ``objstore`` parser."""
    p = sub.add_parser("fsck", help="check every reference and chunk; exit 1 if unhealthy")
    p.add_argument(
        "--no-verify-data",
        action="store_true",
        help="check that chunk files exist, not their hashes",
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="quarantine missing/corrupt chunks (re-uploading their bytes heals) and recount stats",
    )
    p.add_argument(
        "--accept-chunk-loss",
        action="store_true",
        help="rebind the store to the chunk location given when it is refused as not the "
        "recorded one: what only the recorded location held is lost, and it is refused "
        "from then on (docs/scale-out.md)",
    )
    p.set_defaults(func=cmd_fsck)
    p = sub.add_parser(
        "leases",
        help="list the leases of the nodes using the store (gc keeps what they may use)",
    )
    p.add_argument(
        "--reap",
        metavar="ID",
        help="delete the lease ID of a node known to be dead, so that gc stops waiting for "
        "its ttl (never for a live node: a chunk deletion of its in flight could remove "
        "bytes stored again since)",
    )
    p.set_defaults(func=cmd_leases)
    p = sub.add_parser("stats", help="objects, versions, bytes and dedup ratio")
    p.set_defaults(func=cmd_stats)
