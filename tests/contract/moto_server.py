"""moto's server mode on a free loopback port, started once per test process, standing in for AWS.

`endpoint_url()` starts it on first use (a daemon thread; it ends with the process) and sets
dummy credentials in the environment, so a test can never reach a real AWS account.
`dynamodb_store()` gives the DynamoDB store's roles (`Stores`) on a fresh, uniquely named table
of that server.

moto runs each request's handler without isolation from concurrent ones: a cancelled
TransactWriteItems restores a copy of the whole table taken when it began, undoing writes that
other requests made meanwhile, and a condition check and its write are not atomic. DynamoDB
itself serialises conflicting writes per item. So this server handles one request at a time
(a lock around the WSGI app): the clients still race, the emulator answers them in some order.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import uuid
from typing import Any

REGION = "eu-west-1"
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}

_lock = threading.Lock()
_server: Any = None
_url: str | None = None
_tables = itertools.count(1)


class _Serialised:
    """A WSGI app that lets one request at a time into moto's dispatcher. DynamoDB requests
    (told by their X-Amz-Target) go straight to the DynamoDB app once it is known: the
    dispatcher's lookup costs more than the GetItem itself."""

    def __init__(self, dispatcher: Any):
        self.dispatcher = dispatcher
        self.lock = threading.Lock()
        self.dynamodb_app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any):
        with self.lock:
            is_dynamodb = environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_")
            app = self.dynamodb_app if is_dynamodb else None
            if app is None:
                app = self.dispatcher.get_application(environ)
                if is_dynamodb:
                    self.dynamodb_app = app
            # the body is built inside the lock: moto answers with a list, not a stream
            return list(app(environ, start_response))


def _server_class():
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class SerialisedMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _Serialised(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerialisedMotoServer


def use_test_credentials() -> None:
    os.environ.update(_CREDENTIALS)


def endpoint_url() -> str:
    """`http://127.0.0.1:PORT` of the process's moto server (started on first call)."""
    global _server, _url
    use_test_credentials()
    with _lock:
        if _url is None:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
            server = _server_class()(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            _server, _url = server, f"http://{host}:{port}"
        return _url


def table_name(prefix: str = "contract") -> str:
    return f"{prefix}-{next(_tables):05d}-{uuid.uuid4().hex[:8]}"


def dynamodb_store(prefix: str = "contract"):
    """The DynamoDB store's roles on a new table (not yet created: `admin.migrate()` does)."""
    from skillsession.adapters.store.dynamodb import dynamo_stores

    return dynamo_stores(table_name(prefix), region=REGION, endpoint_url=endpoint_url())
