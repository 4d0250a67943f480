"""Backends on external engines (PostgreSQL, ...), each in its own module.

Nothing is imported here: a backend's driver is loaded only by the code that
opens that backend (``from objstore.backends.postgres import PostgresMetadataStore``).
"""
