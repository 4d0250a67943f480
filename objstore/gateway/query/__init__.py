"""The IAM and STS Query APIs of the gateway (form POSTs in, XML out, AWS error XML).

Split by job: ``form.py`` decodes AWS Query parameters (``Tags.member.1.Key``) against
input shapes; ``xml.py`` writes results and error documents; ``spec.py`` is the shape of an
action table row (parameters, result, paging) and the generic work each row drives;
``shapes.py`` holds AWS's output structures for the library's results; ``iam_actions.py``
and ``sts_actions.py`` are the tables, one row per action; ``handler.py`` is the entry
point the app calls, :func:`handle_query` (and :func:`error_response` for an IAM/STS
request that fails before it, e.g. in authentication).
"""

from objstore.gateway.query.handler import error_response, handle_query

__all__ = ["error_response", "handle_query"]
