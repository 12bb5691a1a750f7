"""The AWS adapters' SDK clients, all from one boto3 session per process.

The first client of a session reads the data all clients share (endpoints.json, 1.2 MB, and
a few small files); later clients of the same session read only their own service model. So
the DynamoDB client made in Lambda's init phase leaves the S3, SNS, SES or Cognito client of a
later request cheaper to make. Sessions are not thread-safe (clients are), hence the lock.

The session's data loader (`Loader`) does two things differently from botocore's:

- botocore decodes its JSON data files into `OrderedDict`s through a Python hook; ours decodes
  them with orjson: the same values in the same order, as plain dicts
  (botocore relies on nothing else of an `OrderedDict`; all 1,992 data files of botocore 1.44.8
  and boto3 decode equal; orjson would read an integer beyond 64 bits as a float, and those
  files have none). A DynamoDB client is made with ~45 % fewer instructions.
- before it loads a service model, botocore checks that the service is in the list of all
  services that have such a model: it lists the 445 service directories and looks into each,
  once for the model and once for the endpoint rules, ~20 ms. Ours answers `name in` that list
  by looking into that service's directory alone; the whole list is still made when asked for
  (iterated, counted, printed in the error for an unknown service).
"""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Sequence
from typing import Any

import botocore.loaders
import orjson
from botocore.exceptions import DataNotFoundError

_lock = threading.Lock()
_session: Any = None


def client(service: str, **kwargs: Any) -> Any:
    """A new client of `service` (boto3's `client` arguments) from the process's session."""
    global _session
    with _lock:
        if _session is None:
            _session = _new_session()
        return _session.client(service, **kwargs)


class OrjsonFileLoader(botocore.loaders.JSONFileLoader):
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


class ServiceNames(Sequence):
    """What botocore's `Loader.list_available_services(type_name)` returns (the sorted names
    of the services that have a `type_name` file), listed only when more than `in` is asked."""

    def __init__(self, loader: Loader, type_name: str):
        self._loader = loader
        self._type_name = type_name
        self._names: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not name or name in (".", "..") or os.sep in name:
            return False
        try:
            return bool(self._loader.list_api_versions(name, self._type_name))
        except DataNotFoundError:
            return False

    def _all(self) -> list[str]:
        if self._names is None:
            self._names = botocore.loaders.Loader.list_available_services(
                self._loader, self._type_name
            )
        return self._names

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


class Loader(botocore.loaders.Loader):
    def list_available_services(self, type_name: str) -> ServiceNames:
        return ServiceNames(self, type_name)


def _new_session() -> Any:
    import boto3.session
    import botocore.session

    core = botocore.session.get_session()
    default = core.get_component("data_loader")  # botocore's, for its search paths
    loader = Loader(
        extra_search_paths=list(default.search_paths),
        file_loader=OrjsonFileLoader(),
        include_default_search_paths=False,
    )
    core.register_component("data_loader", loader)
    return boto3.session.Session(botocore_session=core)
