"""Which S3 client for the chunk store: boto3, obstore, urllib3 + own SigV4; S3ChunkStore itself.

    python -m bench.s3chunks_clients --endpoint http://127.0.0.1:7480 [--quick]

Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Creates (and empties, then
deletes) one bucket per run. Prints MiB/s for 4 MiB objects PUT and GET at concurrency
1/4/16/64, small-object PUT/GET/HEAD ops/s at concurrency 16, and MiB/s at several chunk
sizes (is per-object overhead large enough to warrant packing chunks?). Each figure is the
best of ``--reps`` alternated repetitions; compare figures of one run only
(shared/reference/performance.md). docs/scale-out.md, "Chunk store client", has the results.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import blake3

MiB = 1 << 20


class Boto3Client:
    """boto3 with a thread pool, configured as S3ChunkStore configures it."""

    name = "boto3"

    def __init__(self, endpoint: str, region: str, bucket: str, pool: int) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.c = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            config=Config(
                region_name=region,
                signature_version="s3v4",
                retries={"total_max_attempts": 1},
                max_pool_connections=pool + 8,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
            ),
        )

    def put(self, key: str, data: bytes) -> None:
        self.c.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")

    def get(self, key: str) -> bytes:
        body = self.c.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def head(self, key: str) -> None:
        self.c.head_object(Bucket=self.bucket, Key=key)


class ObstoreClient:
    """obstore (Rust object_store): its blocking calls release the GIL."""

    name = "obstore"

    def __init__(self, endpoint: str, region: str, bucket: str, pool: int) -> None:
        import obstore
        from obstore.store import S3Store

        self.o = obstore
        self.s = S3Store(
            bucket,
            endpoint=endpoint,
            region=region,
            access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
            secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            virtual_hosted_style_request=False,
            client_options={"allow_http": True, "pool_max_idle_per_host": str(pool + 8)},
        )

    def put(self, key: str, data: bytes) -> None:
        self.o.put(self.s, key, data, mode="create", use_multipart=False)

    def get(self, key: str) -> bytes:
        return bytes(self.o.get(self.s, key).bytes())

    def head(self, key: str) -> None:
        self.o.head(self.s, key)


class Urllib3Client:
    """urllib3 with a SigV4 signer written here (AWS's documented algorithm, unsigned payload):
    how lean a pure-Python client can be."""

    name = "urllib3+sigv4"

    def __init__(self, endpoint: str, region: str, bucket: str, pool: int) -> None:
        import urllib3

        self.http = urllib3.PoolManager(maxsize=pool + 8, block=False, retries=False)
        self.endpoint = endpoint.rstrip("/")
        self.host = endpoint.split("://", 1)[1].rstrip("/")
        self.region = region
        self.bucket = bucket
        self.key_id = os.environ["AWS_ACCESS_KEY_ID"]
        self.secret = os.environ["AWS_SECRET_ACCESS_KEY"].encode()

    def _signed(self, method: str, key: str, extra: dict[str, str]) -> tuple[str, dict[str, str]]:
        now = time.gmtime()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", now)
        day = amz_date[:8]
        path = "/" + quote(self.bucket) + "/" + quote(key, safe="/~")
        headers = {
            "host": self.host,
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            "x-amz-date": amz_date,
            **{k.lower(): v for k, v in extra.items()},
        }
        names = sorted(headers)
        canonical = "\n".join(
            [
                method,
                path,
                "",
                "".join(f"{n}:{headers[n].strip()}\n" for n in names),
                ";".join(names),
                "UNSIGNED-PAYLOAD",
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        k = hmac.new(b"AWS4" + self.secret, day.encode(), hashlib.sha256).digest()
        for part in (self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        del headers["host"]
        return self.endpoint + path, headers

    def _request(self, method: str, key: str, body: bytes | None = None, **extra: str) -> Any:
        url, headers = self._signed(method, key, extra)
        resp = self.http.request(method, url, body=body, headers=headers, preload_content=True)
        if resp.status >= 300:
            raise RuntimeError(f"{method} {key}: {resp.status} {resp.data[:200]!r}")
        return resp

    def put(self, key: str, data: bytes) -> None:
        self._request("PUT", key, data, **{"If-None-Match": "*"})

    def get(self, key: str) -> bytes:
        return bytes(self._request("GET", key).data)

    def head(self, key: str) -> None:
        self._request("HEAD", key)


class StoreClient:
    """S3ChunkStore itself (boto3 + retries + write time + BLAKE3 check on read)."""

    name = "S3ChunkStore"

    def __init__(self, endpoint: str, region: str, bucket: str, pool: int) -> None:
        from objstore.backends.s3 import S3ChunkStore

        self.s = S3ChunkStore(bucket, "", endpoint=endpoint, region=region, concurrency=pool)
        self.ids: dict[str, Any] = {}

    def put(self, key: str, data: bytes) -> None:
        cid = blake3.blake3(data).digest()
        self.ids[key] = cid
        self.s.put(cid, data)  # type: ignore[arg-type]

    def get(self, key: str) -> bytes:
        return self.s.get(self.ids[key])

    def head(self, key: str) -> None:
        self.s.stat(self.ids[key])


_cpu: list[float] = [0.0]  # client CPU seconds of the last _timed call


def _timed(pool: ThreadPoolExecutor, fn: Callable[[int], Any], n: int) -> float:
    """Seconds to run ``fn(0..n-1)`` on ``pool``; the client's CPU time goes to ``_cpu``."""
    cpu = time.process_time()
    start = time.perf_counter()
    for f in [pool.submit(fn, i) for i in range(n)]:
        f.result()
    _cpu[0] = time.process_time() - cpu
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="fewer objects (a smoke run)")
    ap.add_argument("--clients", default="boto3,obstore,urllib3+sigv4,S3ChunkStore")
    args = ap.parse_args(argv)

    import boto3
    from botocore.config import Config

    admin = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        config=Config(region_name=args.region, s3={"addressing_style": "path"}),
    )
    bucket = f"bench-s3chunks-{uuid.uuid4().hex[:10]}"
    admin.create_bucket(Bucket=bucket)
    kinds = {c.name: c for c in (Boto3Client, ObstoreClient, Urllib3Client, StoreClient)}
    chosen = [kinds[n] for n in args.clients.split(",")]
    big_n = 16 if args.quick else 48
    small_n = 200 if args.quick else 2000
    results: dict[tuple[str, str], float] = {}

    def record(label: str, client: str, value: float) -> None:
        """Keep the best: the highest rate, or the lowest cost (recorded negated)."""
        old = results.get((label, client))
        results[(label, client)] = value if old is None else max(old, value)

    payload = os.urandom(4 * MiB)
    try:
        for rep in range(args.reps):
            for conc in (1, 4, 16, 64):
                n = max(conc * 2, big_n if conc > 1 else big_n // 4)
                for kind in chosen:
                    c = kind(args.endpoint, args.region, bucket, conc)
                    tag = f"{kind.name}-{rep}-{conc}-{uuid.uuid4().hex[:6]}"
                    # Distinct bytes per object (the store names objects by their hash).
                    bodies = [payload[:-8] + i.to_bytes(8, "big") for i in range(n)]
                    with ThreadPoolExecutor(conc) as pool:
                        t = _timed(pool, lambda i, c=c, t=tag, b=bodies: c.put(f"{t}/{i}", b[i]), n)
                        record(f"PUT 4 MiB c={conc} MiB/s", kind.name, n * 4 / t)
                        if conc == 16:
                            record("PUT 4 MiB c=16 GiB/client-CPU-s", kind.name, -_cpu[0] / n)
                        t = _timed(pool, lambda i, c=c, t=tag: c.get(f"{t}/{i}"), n)
                        record(f"GET 4 MiB c={conc} MiB/s", kind.name, n * 4 / t)
                        if conc == 16:
                            record("GET 4 MiB c=16 GiB/client-CPU-s", kind.name, -_cpu[0] / n)
            for size in (4096, 65536, MiB):
                n = small_n if size == 4096 else max(64, small_n // (8 if size == 65536 else 40))
                for kind in chosen:
                    c = kind(args.endpoint, args.region, bucket, 16)
                    tag = f"{kind.name}-{rep}-s{size}-{uuid.uuid4().hex[:6]}"
                    bodies = [os.urandom(size) for _ in range(n)]
                    with ThreadPoolExecutor(16) as pool:
                        t = _timed(pool, lambda i, c=c, t=tag, b=bodies: c.put(f"{t}/{i}", b[i]), n)
                        unit = f"{size // 1024} KiB"
                        record(f"PUT {unit} c=16 ops/s", kind.name, n / t)
                        if size == 4096:
                            record("PUT 4 KiB client-CPU-us/op", kind.name, -1e6 * _cpu[0] / n)
                        record(f"PUT {unit} c=16 MiB/s", kind.name, n * size / MiB / t)
                        t = _timed(pool, lambda i, c=c, t=tag: c.get(f"{t}/{i}"), n)
                        record(f"GET {unit} c=16 ops/s", kind.name, n / t)
                        if size == 4096:
                            record("GET 4 KiB client-CPU-us/op", kind.name, -1e6 * _cpu[0] / n)
                        record(f"GET {unit} c=16 MiB/s", kind.name, n * size / MiB / t)
                        if size == 4096:
                            t = _timed(pool, lambda i, c=c, t=tag: c.head(f"{t}/{i}"), n)
                            record("HEAD c=16 ops/s", kind.name, n / t)
    finally:
        paginator = admin.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents") or ()]
            for i in range(0, len(keys), 1000):
                admin.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000]})
        admin.delete_bucket(Bucket=bucket)

    labels = list(dict.fromkeys(label for label, _ in results))
    names = [k.name for k in chosen]
    print(f"| figure (best of {args.reps}) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label in labels:
        values = [results.get((label, n), 0.0) for n in names]
        if "GiB/client-CPU-s" in label:  # recorded: -(CPU s per 4 MiB object)
            values = [1 / (-v * 256) if v else 0.0 for v in values]
        elif "client-CPU" in label:
            values = [-v for v in values]
        cells = " | ".join(f"{v:,.1f}" if v < 10 else f"{v:,.0f}" for v in values)
        print(f"| {label} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
