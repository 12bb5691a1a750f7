"""The AWS adapters' SDK clients, all from one boto3 session per process.

The first client of a session reads botocore's data: the directory of service models, listed
twice, and endpoints.json (1.2 MB), ~40 ms together; later clients of the same session reuse it
and read only their own service model. So the DynamoDB client made in Lambda's init phase
leaves the S3, SNS, SES or Cognito client of a later request that cheaper to make. Sessions
are not thread-safe (clients are), hence the lock.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_session: Any = None


def client(service: str, **kwargs: Any) -> Any:
    """A new client of `service` (boto3's `client` arguments) from the process's session."""
    global _session
    with _lock:
        if _session is None:
            import boto3.session

            _session = boto3.session.Session()
        return _session.client(service, **kwargs)
