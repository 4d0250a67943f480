"""Which bucket a request's ``Host`` names (virtual-hosted style), or none (path style).

One rule for the router and for authentication: SigV2 signs ``/bucket/key`` of a
virtual-hosted request, so a host the router reads as path-style must never be read as a
bucket by the signature check. They once differed on a host that is itself a served
domain (``obj.localhost`` with ``--domain localhost --domain obj.localhost``): a URL signed
for ``obj/seed/k`` then read ``seed/k`` (review 10c, F8).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["VirtualHosts"]


class VirtualHosts:
    """The gateway's host names, and the bucket a ``Host`` header names under them."""

    def __init__(self, domains: Iterable[str]) -> None:
        """``domains``: the served host names; a ``:port`` after one is dropped (a
        Host's port is, so ``s3.example.com:9000`` never matched and its virtual-hosted
        requests were read path-style: PutObject ``bkt/logs`` became CreateBucket
        ``logs``, review rev11b F8)."""
        names = {_without_port(d).lower().strip(".") for d in domains}
        names.discard("")
        self._exact = frozenset(names)
        # Longest first, so "b.s3.localhost" is bucket "b", not bucket "b.s3".
        self._suffixes = sorted(("." + d for d in names), key=len, reverse=True)

    def bucket_of(self, host: str) -> str | None:
        """The bucket ``host`` names (None: a path-style request)."""
        name = host.lower()
        if name.startswith("["):  # an IPv6 literal is never a bucket
            return None
        name = name.rsplit(":", 1)[0] if ":" in name else name
        if name in self._exact:  # a served domain itself: path style
            return None
        for suffix in self._suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)]
        return None


def _without_port(domain: str) -> str:
    name, colon, port = domain.rpartition(":")
    return name if colon and port.isdigit() and "]" not in port else domain
