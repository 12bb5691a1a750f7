"""A stand-in for the AWS shape's front door on loopback: API Gateway's HTTP API in front of the
Lambda entry point, and the EventBridge schedule of the job.

Each HTTP request becomes an API Gateway HTTP API event (payload 2.0, as template.yaml's routes
send them) for `skillsession.aws.lambda_handler.handler`, and its proxy result becomes the
answer: the same entry point, Mangum and payload translation as in Lambda, with no `skillsession
serve` in between. Requests are handled one at a time, as one Lambda instance does. Between
them, every `--job-seconds`, `skillsession.aws.expiry_handler.handler` runs (the job, then the
notification outbox), as the schedule would.

What it does not stand in for: the JWT authorizer (the app checks its own tokens: local ones,
or Cognito's against the pool's JWKS, `SKILLSESSION_AUTH=cognito://...`) and API Gateway's
limits (payload size, throttling).

    SKILLSESSION_...=... python tests/e2e/lambda_gateway.py [--port 0] [--job-seconds 0.2]

It prints `SkillSession API on http://127.0.0.1:PORT` once it listens (tests/e2e/server.py
reads the port from it).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import unquote, urlsplit

TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded")


def event_for(handler: BaseHTTPRequestHandler, body: bytes) -> dict:
    """The payload-2.0 event API Gateway's HTTP API gives a Lambda proxy integration."""
    url = urlsplit(handler.path)
    headers: dict[str, str] = {}
    for name, value in handler.headers.items():  # repeated headers joined, as API Gateway does
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookies = headers.pop("cookie", "")
    now = time.time()
    binary = bool(body) and not headers.get("content-type", "").startswith(TEXT_TYPES)
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": {**headers, "x-forwarded-proto": "http", "x-forwarded-for": "127.0.0.1"},
        "requestContext": {
            "http": {
                "method": handler.command,
                "path": unquote(url.path),
                "protocol": "HTTP/1.1",
                "sourceIp": handler.client_address[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "domainName": headers.get("host", ""),
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": binary,
    }
    if cookies:
        event["cookies"] = cookies.split("; ")
    if body:
        event["body"] = base64.b64encode(body).decode() if binary else body.decode()
    return event


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: the single thread never waits

    def _invoke(self) -> None:
        from skillsession.aws import lambda_handler

        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            result = lambda_handler.handler(event_for(self, body), None)
        except Exception:  # a failed invocation: API Gateway answers 500 with this body
            traceback.print_exc()
            result = {"statusCode": 500, "headers": {"content-type": "application/json"}}
            result["body"] = '{"message":"Internal Server Error"}'
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        self.send_response(result["statusCode"])
        for name, value in (result.get("headers") or {}).items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        for cookie in result.get("cookies") or []:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _invoke

    def log_message(self, format: str, *args) -> None:  # the app logs each request itself
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--job-seconds", type=float, default=0.2)
    options = parser.parse_args()
    # Lambda's init phase: the entry module builds the app and its adapters at import
    os.environ.setdefault("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    from skillsession.aws import expiry_handler, lambda_handler  # noqa: F401

    server = HTTPServer(("127.0.0.1", options.port), Gateway)
    server.timeout = options.job_seconds
    print(f"SkillSession API on http://127.0.0.1:{server.server_port}", flush=True)
    due = 0.0
    while True:
        server.handle_request()
        if time.monotonic() >= due:
            try:
                expiry_handler.handler({"source": "aws.scheduler"}, None)
            except Exception:  # a failed run; the next one comes anyway
                traceback.print_exc()
            due = time.monotonic() + options.job_seconds


if __name__ == "__main__":
    sys.exit(main())
