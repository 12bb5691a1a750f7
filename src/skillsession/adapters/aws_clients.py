"""The AWS adapters' SDK clients, all from one boto3 session per process.

The first client of a session reads botocore's data: the directory of service models, listed
twice, and endpoints.json (1.2 MB); later clients of the same session reuse it and read only
their own service model. So the DynamoDB client made in Lambda's init phase leaves the S3, SNS,
SES or Cognito client of a later request ~40 ms cheaper to make. Sessions are not thread-safe
(clients are), hence the lock.

botocore decodes its JSON data files into `OrderedDict`s through a Python hook; the session's
loader decodes them with orjson instead: the same values in the same order, as plain dicts
(botocore relies on nothing else of an `OrderedDict`; all 1,992 data files of botocore 1.44.8
and boto3 decode equal; orjson would read an integer beyond 64 bits as a float, and those
files have none). A DynamoDB client is made with ~45 % fewer instructions.
"""

from __future__ import annotations

import gzip
import os
import threading
from typing import Any

import orjson
from botocore.loaders import JSONFileLoader

_lock = threading.Lock()
_session: Any = None


def client(service: str, **kwargs: Any) -> Any:
    """A new client of `service` (boto3's `client` arguments) from the process's session."""
    global _session
    with _lock:
        if _session is None:
            _session = _new_session()
        return _session.client(service, **kwargs)


class OrjsonFileLoader(JSONFileLoader):
    """botocore's JSON file loader (`name.json`, else `name.json.gz`), decoding with orjson;
    a file orjson refuses (NaN, say) goes to botocore's own decoding."""

    def load_file(self, file_path: str) -> Any:
        for path, opener in ((file_path + ".json", open), (file_path + ".json.gz", gzip.open)):
            if os.path.isfile(path):
                with opener(path, "rb") as file:
                    data = file.read()
                try:
                    return orjson.loads(data)
                except orjson.JSONDecodeError:
                    return super().load_file(file_path)
        return None


def _new_session() -> Any:
    import boto3.session
    import botocore.session

    core = botocore.session.get_session()
    loader = core.get_component("data_loader")  # botocore's, with its search paths
    loader.file_loader = OrjsonFileLoader()
    return boto3.session.Session(botocore_session=core)
