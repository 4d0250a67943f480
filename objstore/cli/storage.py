"""Storage sub-commands: mb, rb, ls, put, get, rm, versioning, stat, gc."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from objstore.cli.common import CliError, open_from, split_path
from objstore.cli.escape import shown
from objstore.cli.progress import CountingReader, Progress
from objstore.errors import InvalidArgument
from objstore.store import Store


def _meta(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidArgument(f"metadata must be NAME=VALUE, got {pair!r}")
        out[name] = value
    return out


def cmd_mb(args: argparse.Namespace) -> int:
    with open_from(args, create=True) as store:
        store.root.create_bucket(args.bucket)
    print(f"make_bucket: {shown(args.bucket)}")
    return 0


def cmd_rb(args: argparse.Namespace) -> int:
    with open_from(args) as store:
        store.root.delete_bucket(args.bucket)
    print(f"remove_bucket: {shown(args.bucket)}")
    return 0


def _all_objects(store: Store, bucket: str, prefix: str, delimiter: str | None) -> Iterator[Any]:
    token = None
    while True:
        page = store.root.list_objects(
            bucket, prefix=prefix, delimiter=delimiter, continuation_token=token
        )
        yield from (("PRE", p) for p in page.common_prefixes)
        yield from (("OBJ", o) for o in page.contents)
        if not page.is_truncated:
            return
        token = page.next_continuation_token


def cmd_ls(args: argparse.Namespace) -> int:
    with open_from(args) as store:
        if not args.path:
            for b in store.root.list_buckets():
                print(f"{b.creation_date:%Y-%m-%d %H:%M:%S} {shown(b.name)}")
            return 0
        bucket, prefix = split_path(args.path, key_required=False)
        if args.versions:
            km: str | None = None
            vm: str | None = None
            while True:
                page = store.root.list_object_versions(
                    bucket, prefix=prefix, key_marker=km, version_id_marker=vm
                )
                rows = [
                    (v.key, -v.last_modified.timestamp(), v.version_id, v.is_latest, str(v.size))
                    for v in page.versions
                ]
                rows += [
                    (m.key, -m.last_modified.timestamp(), m.version_id, m.is_latest, "DELETE")
                    for m in page.delete_markers
                ]
                # By key, newest first, as S3 lists them.
                for key, _t, vid, latest, size in sorted(rows, key=lambda r: (r[0], r[1])):
                    print(f"{size:>12} {vid} {'*' if latest else ' '} {shown(key)}")
                if not page.is_truncated:
                    return 0
                km, vm = page.next_key_marker, page.next_version_id_marker
        delimiter = None if args.recursive else "/"
        for kind, item in _all_objects(store, bucket, prefix, delimiter):
            if kind == "PRE":
                print(f"{'PRE':>31} {shown(item)}")
            else:
                when = f"{item.last_modified:%Y-%m-%d %H:%M:%S}"
                print(f"{when} {item.size:>11} {shown(item.key)}")
    return 0


def cmd_put(args: argparse.Namespace) -> int:
    bucket, key = split_path(args.dest, key_required=True)
    with open_from(args) as store:
        if args.source == "-":
            src: Any = sys.stdin.buffer
            total = None
        else:
            src = open(args.source, "rb")  # noqa: SIM115 - closed below
            total = os.fstat(src.fileno()).st_size
        progress = Progress(f"put {shown(key)}", total)
        try:
            result = store.root.put_object(
                bucket,
                key,
                CountingReader(src, progress),
                metadata=_meta(args.meta),
                content_type=args.content_type,
                content_length=total,
            )
        finally:
            if src is not sys.stdin.buffer:
                src.close()
        progress.finish()
    vid = f" version {result.version_id}" if result.version_id else ""
    what = f"{shown(args.source)} to {shown(bucket)}/{shown(key)}"
    print(f"upload: {what} ({result.size} bytes, ETag {result.etag}{vid})")
    return 0


def target_file(dest: str | None, key: str) -> str:
    """The file ``get`` writes: ``dest``, or ``dest/<last segment of key>`` when ``dest`` is a
    directory (an existing one, or any path ending in a separator) or not given, as
    ``aws s3 cp`` does. Raises CliError when no safe file name follows from the key."""
    if dest is not None and not dest.endswith(("/", os.sep)) and not os.path.isdir(dest):
        return dest
    name = key.rsplit("/", 1)[-1]
    # "." and ".." would name the directory itself or its parent.
    if name in ("", ".", "..") or os.sep in name or "\0" in name:
        raise CliError(f"key '{key}' does not end in a usable file name: give one")
    directory = dest or os.curdir
    if not os.path.isdir(directory):
        raise CliError(f"no such directory: {directory}")
    return os.path.join(directory, name)


def write_atomically(path: str, pieces: Iterable[bytes]) -> None:
    """Write ``pieces`` to a temporary file beside ``path``, renamed to ``path`` when whole.

    Any failure, Ctrl-C included, removes the temporary file: ``path`` is either left as it
    was or replaced by the complete content. Raises OSError and what ``pieces`` raises."""
    directory = os.path.dirname(path) or os.curdir
    tmp = os.path.join(directory, f".objstore-{secrets.token_hex(6)}.part")
    # O_EXCL: never follow or reuse someone else's file; 0o666 lets the umask decide the
    # mode, as for any file a command creates.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with open(fd, "wb") as f:
            for piece in pieces:
                f.write(piece)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cmd_get(args: argparse.Namespace) -> int:
    bucket, key = split_path(args.source, key_required=True)
    dest = None if args.dest == "-" else target_file(args.dest, key)
    with open_from(args) as store:
        body = store.root.get_object(bucket, key, version_id=args.version_id, range=args.range)
        with body:
            if dest is None:
                out = sys.stdout.buffer
                for piece in body:
                    out.write(piece)
                out.flush()
            else:
                progress = Progress(f"get {shown(key)}", body.size)
                write_atomically(dest, progress.wrap(body))
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    bucket, key = split_path(args.path, key_required=True)
    with open_from(args) as store:
        r = store.root.delete_object(bucket, key, version_id=args.version_id)
    what = "delete marker " + str(r.version_id) if r.delete_marker else "deleted"
    print(f"delete: {shown(bucket)}/{shown(key)} ({what})")
    return 0


def cmd_versioning(args: argparse.Namespace) -> int:
    with open_from(args) as store:
        if args.state:
            status = {"enable": "Enabled", "suspend": "Suspended"}[args.state]
            store.root.put_bucket_versioning(args.bucket, status)
        state = store.root.get_bucket_versioning(args.bucket)
    print(f"{shown(args.bucket)}: {state or 'never enabled'}")
    return 0


def cmd_stat(args: argparse.Namespace) -> int:
    bucket, key = split_path(args.path, key_required=True)
    with open_from(args) as store:
        info = store.root.head_object(bucket, key, version_id=args.version_id)
    print(f"key:           {shown(info.key)}")
    print(f"size:          {info.size}")
    print(f"etag:          {info.etag}")
    print(f"version id:    {info.version_id or '-'}")
    print(f"last modified: {info.last_modified.isoformat()}")
    print(f"content type:  {shown(info.content_type or '-')}")
    print(f"blake3:        {info.checksum}")
    for name, value in sorted(info.metadata.items()):
        print(f"meta {shown(name)}: {shown(value)}")
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    with open_from(args) as store:
        r = store.gc()
    print(f"gc: {r.chunks_deleted} chunks deleted, {r.pending_uploads_released} uploads released")
    return 0


def register(sub: Any) -> None:
    """Add the storage sub-commands to the ``objstore`` parser."""
    p = sub.add_parser("mb", help="make a bucket")
    p.add_argument("bucket")
    p.set_defaults(func=cmd_mb)

    p = sub.add_parser("rb", help="remove an empty bucket")
    p.add_argument("bucket")
    p.set_defaults(func=cmd_rb)

    p = sub.add_parser("ls", help="list buckets, or keys under BUCKET[/PREFIX]")
    p.add_argument("path", nargs="?")
    p.add_argument("-r", "--recursive", action="store_true", help="no '/' folding")
    p.add_argument("--versions", action="store_true", help="list every version")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("put", help="upload FILE (or - for stdin) to BUCKET/KEY")
    p.add_argument("source")
    p.add_argument("dest")
    p.add_argument("--content-type")
    p.add_argument("--meta", action="append", metavar="NAME=VALUE")
    p.set_defaults(func=cmd_put)

    p = sub.add_parser("get", help="download BUCKET/KEY to FILE (or - for stdout)")
    p.add_argument("source")
    p.add_argument("dest", nargs="?")
    p.add_argument("--version-id")
    p.add_argument("--range", help="bytes=a-b, bytes=a- or bytes=-n")
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("rm", help="delete BUCKET/KEY")
    p.add_argument("path")
    p.add_argument("--version-id")
    p.set_defaults(func=cmd_rm)

    p = sub.add_parser("versioning", help="show or set a bucket's versioning")
    p.add_argument("bucket")
    p.add_argument("state", nargs="?", choices=["enable", "suspend"])
    p.set_defaults(func=cmd_versioning)

    p = sub.add_parser("stat", help="show an object's attributes")
    p.add_argument("path")
    p.add_argument("--version-id")
    p.set_defaults(func=cmd_stat)

    p = sub.add_parser("gc", help="delete unreferenced chunks")
    p.set_defaults(func=cmd_gc)
