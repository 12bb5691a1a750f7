"""Token revocation in the AWS shape, through the real app: Cognito's accounts on moto's server
(template.yaml's pool), the token floors in a DynamoDB table on moto, two apps over that table
standing for two processes (the second with a fake clock for its floors' TTL, no sleeps).

Cognito's `iat` is whole seconds and a token issued in the same second as a change stays good
(the verifier compares with the floor truncated to the second, so that the token answered by the
change works). So the "old" tokens here are issued a few seconds back: moto's token clock is
shifted for that login (its server runs in this process), as if the user had logged in earlier.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import jwt
import pytest
from cognito_pool import new_pool, reset_code
from moto_server import REGION, endpoint_url, table_name

from skillsession.adapters.auth.cognito import CognitoVerifier
from skillsession.adapters.auth.floors import TokenFloors
from skillsession.service import accounts

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse"
TTL = 30.0


@contextlib.contextmanager
def issued_earlier(seconds: int):
    """Tokens moto issues meanwhile carry an `iat` (and `exp`) `seconds` back."""
    import moto.cognitoidp.models as models

    real = models.time

    class Shifted:
        def __getattr__(self, name):
            return getattr(real, name)

        def time(self):
            return real.time() - seconds

    models.time = Shifted()
    try:
        yield
    finally:
        models.time = real


class App:
    """One process: its Deps (built by bootstrap from the environment) and a client."""

    def __init__(self, deps):
        from starlette.testclient import TestClient

        from skillsession.http.app import create_app

        self.deps = deps
        self.client = TestClient(create_app(deps, run_jobs=False), raise_server_exceptions=False)

    def post(self, path, body, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = self.client.post(path, json=body, headers=headers)
        return answer.status_code, answer.json()

    def status(self, token) -> tuple[int, str | None]:
        """What a private route answers for the token: (status, error code)."""
        answer = self.client.get("/account/export", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code, (answer.json().get("error") or {}).get("code")

    def login(self, email, password=PASSWORD) -> str:
        status, body = self.post("/auth/login", {"email": email, "password": password})
        assert status == 200, body
        return body["access_token"]


@pytest.fixture
def world(tmp_path, monkeypatch):
    """(pool, the app that makes the changes, a second app over the same table whose floors
    read a clock the test moves)."""
    from skillsession import bootstrap

    pool = new_pool()
    store = f"dynamodb://{table_name('revocation')}?region={REGION}&endpoint_url={endpoint_url()}"
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLSESSION_STORE", store)
    monkeypatch.setenv("SKILLSESSION_MEDIA", f"file://{tmp_path}/media")
    monkeypatch.setenv("SKILLSESSION_MAIL", f"files://{tmp_path}/mail")
    monkeypatch.setenv("SKILLSESSION_AUTH", pool["url"])
    first = bootstrap.build()
    first.stores.admin.migrate()
    second = bootstrap.build()
    start, ticks = time.time(), [0.0]

    def clock():
        return start + ticks[0]

    loads = []

    def load(user_id):  # the store's one GetItem
        loads.append(user_id)
        return second.stores.revocations.token_floor(user_id)

    floors = TokenFloors(load, ttl_seconds=TTL, clock=clock)
    second.verifier = CognitoVerifier.from_url(pool["url"], floors=floors, clock=clock)
    other = App(second)
    other.ticks, other.loads = ticks, loads
    yield pool, App(first), other
    first.stores.admin.close()
    second.stores.admin.close()


def confirmed_user(app: App) -> str:
    email = f"u-{uuid.uuid4().hex[:10]}@example.com"
    assert app.post("/auth/signup", {"email": email, "password": PASSWORD})[0] == 201
    assert app.post("/auth/confirm", {"email": email, "code": "123456"})[0] == 200
    return email


def old_token(app: App, email: str) -> str:
    with issued_earlier(5):
        token = app.login(email)
    assert app.status(token)[0] == 200
    return token


REVOKED = (401, "token_revoked")


def behind_the_authorizer(app: App, token: str) -> tuple[int, str | None]:
    """GET /account/export as API Gateway hands it to the function when its JWT authorizer has
    verified the token (signature and expiry only): the claims in the event, as strings."""
    from mangum import Mangum

    from skillsession.aws import lambda_handler
    from skillsession.http.app import create_app

    claims = {k: str(v) for k, v in jwt.decode(token, options={"verify_signature": False}).items()}
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/account/export",
        "rawQueryString": "",
        "headers": {"host": "api.example", "authorization": f"Bearer {token}"},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/account/export",
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.1",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(now * 1000),
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
        },
        "isBase64Encoded": False,
    }
    saved = lambda_handler._handler
    lambda_handler._handler = Mangum(create_app(app.deps, run_jobs=False), lifespan="off")
    try:
        answer = lambda_handler.handler(event, None)
    finally:
        lambda_handler._handler = saved
    body = json.loads(answer.get("body") or "{}")
    return answer["statusCode"], (body.get("error") or {}).get("code")


def test_a_reset_refuses_earlier_tokens_here_at_once_and_elsewhere_within_the_ttl(world):
    pool, app, other = world
    email = confirmed_user(app)
    old = old_token(app, email)
    assert other.status(old)[0] == 200  # the other process has read the (absent) floor
    # the route's use case itself: moto's codes ("moto-confirmation-code:123456") are longer
    # than the route's code field takes
    accounts.reset_password(app.deps, email, reset_code(pool, email), NEW_PASSWORD)
    assert app.status(old) == REVOKED
    fresh = app.login(email, NEW_PASSWORD)
    assert app.status(fresh)[0] == 200
    other.ticks[0] = TTL - 1
    assert other.status(old)[0] == 200  # still what it read before the reset
    assert len(other.loads) == 1  # one read of the floor per user and TTL, not per request
    other.ticks[0] = TTL + 0.5
    assert other.status(old) == REVOKED
    assert other.status(fresh)[0] == 200
    assert len(other.loads) == 2
    # behind API Gateway's JWT authorizer, through the Lambda entry point: the same floor
    assert behind_the_authorizer(app, old) == REVOKED
    assert behind_the_authorizer(app, fresh)[0] == 200


def test_a_change_refuses_earlier_tokens_and_answers_a_fresh_one_that_works(world):
    _, app, other = world
    email = confirmed_user(app)
    old = old_token(app, email)
    assert other.status(old)[0] == 200
    wrong = {"current_password": "not the password", "new_password": NEW_PASSWORD}
    status, body = app.post("/auth/change-password", wrong, old)  # as embedded: the token is good
    assert (status, body["error"]["code"]) == (403, "wrong_password")
    assert app.status(old)[0] == 200
    status, body = app.post(
        "/auth/change-password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, old
    )
    assert status == 200, body
    assert (body["status"], body["token_type"], body["expires_in"] > 0) == (
        "password_changed",
        "bearer",
        True,
    )
    assert app.status(old) == REVOKED
    # issued in the second of the change (most likely): the floor's second does not refuse it
    assert app.status(body["access_token"])[0] == 200
    other.ticks[0] = TTL + 0.5
    assert other.status(old) == REVOKED
    assert other.status(body["access_token"])[0] == 200
    assert app.login(email, NEW_PASSWORD)


def test_a_deletion_refuses_every_token_of_the_account(world):
    _, app, other = world
    email = confirmed_user(app)
    old = old_token(app, email)
    recent = app.login(email)  # issued now: a floor would not refuse it, the deletion does
    assert other.status(recent)[0] == 200
    answer = app.client.request("DELETE", "/account", headers={"Authorization": f"Bearer {old}"})
    assert answer.status_code == 200, answer.text
    assert app.status(old) == app.status(recent) == REVOKED
    other.ticks[0] = TTL - 1
    assert other.status(recent)[0] == 200
    other.ticks[0] = TTL + 0.5
    assert other.status(recent) == REVOKED
    status, _ = app.post("/auth/login", {"email": email, "password": PASSWORD})
    assert status == 401  # gone from Cognito too
