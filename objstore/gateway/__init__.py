"""The S3, IAM and STS HTTP gateway (``objstore serve``).

Modules: ``caller.py`` (what authentication hands on), ``sigv4.py`` / ``chunked.py`` /
``auth.py`` (authentication), ``app.py`` (the aiohttp application and its one
dispatcher), ``s3/`` (the S3 REST API), ``query/`` (the IAM and STS Query APIs),
``server.py`` (running it: workers, TLS, graceful shutdown).
"""
