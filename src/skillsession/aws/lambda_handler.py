"""AWS Lambda entry point of the HTTP API: Mangum around the same ASGI app.

In Lambda's init phase (`AWS_LAMBDA_INITIALIZATION_TYPE` is set) importing this module imports
the app's code (FastAPI, Mangum, the routes) and builds the adapters, so the SDK clients exist
before the first request, as AWS recommends: the init phase runs before any caller waits, with
the function's full CPU. Anywhere else (tests, tools) nothing is imported or built until the
first invocation, so importing this module reads no settings. What only some requests need
(Pillow, icalendar) stays lazy.

The garbage collector is off during the init phase: init makes ~140,000 long-lived objects and
next to no garbage (~700 objects), and the collector's ~200 passes over them took ~45 ms of
it. At its end what init made is frozen (`gc.freeze`, out of the collector's sight) before the
collector is switched back on, so no request pays a first pass over it either.

The expiry job does not run here (`run_jobs=False`): it has its own function on a schedule
(expiry_handler).

Mangum's lifespan support is off on purpose: Mangum runs the ASGI lifespan around *every*
invocation, and the app's shutdown closes the store (the DynamoDB client's connection pool), so
each warm request would open a new TLS connection. The adapters are built once here instead; the
table, bucket and topic exist already (CloudFormation, or `skillsession migrate`).

When API Gateway's JWT authorizer has verified the caller, its claims
(requestContext.authorizer.jwt.claims) are put in a context variable for the request, and the
Cognito verifier trusts them instead of verifying the token again.
"""

from __future__ import annotations

import gc
import json
import os
from typing import Any


def _build() -> Any:
    from mangum import Mangum

    from skillsession import bootstrap
    from skillsession.http.app import create_app

    return Mangum(create_app(bootstrap.build(), run_jobs=False), lifespan="off")


def _init() -> Any:
    gc.disable()
    try:
        return _build()
    finally:
        gc.freeze()
        gc.enable()


_handler: Any = _init() if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") else None


def authorizer_claims(event: dict[str, Any]) -> dict[str, Any] | None:
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get(
        "claims"
    )
    return dict(claims) if isinstance(claims, dict) and claims.get("sub") else None


def malformed_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 400 answer for a body marked base64 that is not (API Gateway's never is; a direct
    invocation may be), which Mangum would raise on, failing the invocation."""
    body = event.get("body")
    if not event.get("isBase64Encoded") or not body:
        return None
    import base64
    import binascii

    try:
        base64.b64decode(body)
    except (binascii.Error, ValueError, TypeError):
        from skillsession.http.responses import error_body

        return {
            "statusCode": 400,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(error_body("bad_request", "the body is not valid base64", {})),
            "isBase64Encoded": False,
        }
    return None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        _handler = _build()
    refused = malformed_body(event)
    if refused is not None:
        return refused
    claims = authorizer_claims(event)
    if claims is None:
        return _handler(event, context)
    from skillsession.adapters.auth.cognito import AUTHORIZER_CLAIMS

    token = AUTHORIZER_CLAIMS.set(claims)
    try:
        return _handler(event, context)
    finally:
        AUTHORIZER_CLAIMS.reset(token)
