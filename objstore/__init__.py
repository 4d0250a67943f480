"""objstore: an embeddable object store with S3 semantics and AWS IAM policies."""

from __future__ import annotations

__all__: list[str] = []
