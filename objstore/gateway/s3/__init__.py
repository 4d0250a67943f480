"""The S3 REST API: routing (``routing.py``), handlers by job (``buckets.py``,
``objects.py``, ``listing.py``, ``multipart.py``, registered in ``handlers.py``), header
mapping (``headers.py``) and S3's XML (``xmldoc.py``)."""
