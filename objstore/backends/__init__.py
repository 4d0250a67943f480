"""Backends on existing distributed engines: chunks on S3-compatible stores (:mod:`.s3`).

Nothing is imported here: each backend pulls in its own client library
(boto3, psycopg ...) only when its module is imported.
"""
