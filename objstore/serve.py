"""Embedding the gateway: ``objstore.serve.create_app(store)`` is an aiohttp
application serving S3 (and IAM/STS) for ``store``; ``objstore serve`` runs it."""

from objstore.gateway.app import create_app
from objstore.gateway.server import ServeOptions, serve

__all__ = ["ServeOptions", "create_app", "serve"]
