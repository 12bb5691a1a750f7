"""The AWS shape's /auth/* end to end: API Gateway v2 events through the Lambda entry point, the
accounts in a Cognito user pool on moto's server (template.yaml's shape), the data in a memory
store. No authorizer claims in the events: the app verifies Cognito's access token itself (the
JWKS and GetUser on moto), as it does when a client calls it without API Gateway's authorizer."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from cognito_pool import idp, new_pool, signup_code

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple battery horse"
STRANGER, OWNER = "203.0.113.7", "198.51.100.1"


def event(method: str, path: str, body=None, token=None, ip=OWNER) -> dict:
    now = time.time()
    headers = {"host": "api.example", "content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    made = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": ip},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        made["body"] = json.dumps(body)
    return made


@pytest.fixture
def call(tmp_path, monkeypatch):
    from skillsession.aws import lambda_handler

    pool = new_pool()
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLSESSION_STORE", "memory://")
    monkeypatch.setenv("SKILLSESSION_MEDIA", f"file://{tmp_path}/media")
    monkeypatch.setenv("SKILLSESSION_MAIL", f"files://{tmp_path}/mail")
    monkeypatch.setenv("SKILLSESSION_AUTH", pool["url"])
    lambda_handler._handler = None

    def call(method, path, body=None, token=None, ip=OWNER):
        answer = lambda_handler.handler(event(method, path, body, token, ip), None)
        text = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        return answer["statusCode"], (json.loads(text) if text else None), answer["headers"]

    call.pool = pool
    yield call
    lambda_handler._handler = None


def test_signup_confirm_login_and_a_private_route(call):
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    status, body, _ = call("POST", "/auth/signup", {"email": email, "password": PASSWORD})
    assert (status, body["email"], body["status"]) == (201, email, "unconfirmed")
    user_id = body["user_id"]
    status, body, _ = call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert (status, body["error"]["code"]) == (403, "account_unconfirmed")
    status, _, _ = call("POST", "/auth/confirm", {"email": email, "code": "123456"})
    assert status == 200
    status, body, _ = call("POST", "/auth/signup", {"email": email, "password": NEW_PASSWORD})
    assert (status, body["error"]["code"]) == (409, "email_taken")
    status, body, _ = call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, body
    assert (body["token_type"], body["expires_in"] > 0) == ("bearer", True)
    token = body["access_token"]
    profile = {"role": "student", "first_name": "Ada", "last_name": "L", "time_zone": "UTC"}
    status, body, _ = call("POST", "/save-user-details", profile, token=token)
    assert status == 201, body
    assert (body["profile"]["user_id"], body["profile"]["email"]) == (user_id, email)
    status, _, _ = call("POST", "/save-user-details", profile)
    assert status == 401


def test_a_strangers_failures_do_not_lock_the_owner_out(call):
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    call("POST", "/auth/signup", {"email": email, "password": PASSWORD})
    call("POST", "/auth/confirm", {"email": email, "code": "123456"})
    statuses = [
        call("POST", "/auth/login", {"email": email, "password": "guess " * 3}, ip=STRANGER)[0]
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    status, body, headers = call(
        "POST", "/auth/login", {"email": email, "password": PASSWORD}, ip=STRANGER
    )
    assert (status, int(headers["retry-after"]) > 0) == (429, True)
    status, body, _ = call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, body


def test_resend_code_answers_202_for_anyone(call):
    status, _, _ = call("POST", "/auth/resend-code", {"email": "nobody@example.com"})
    assert status == 202


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def test_an_unconfirmed_account_is_recovered_by_a_reset(call):
    """Signed up, never confirmed (a squatter's password, say): forgot-password mails the
    sign-up code again (Cognito sends no reset code to an unproven address), and reset-password
    with it confirms the account and sets the password."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    call("POST", "/auth/signup", {"email": email, "password": "the squatter's password"})
    for who in (email, f"nobody-{uuid.uuid4().hex[:8]}@example.com"):
        status, body, _ = call("POST", "/auth/forgot-password", {"email": who})
        assert status == 202
    code = signup_code(call.pool, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    reset = {"email": email, "code": wrong, "new_password": NEW_PASSWORD}
    status, body, _ = call("POST", "/auth/reset-password", reset)
    assert (status, body["error"]["code"]) == (400, "invalid_code")
    status, body, _ = call("POST", "/auth/login", {"email": email, "password": NEW_PASSWORD})
    assert status == 401
    status, body, _ = call("POST", "/auth/reset-password", {**reset, "code": code})
    assert status == 200, body
    status, body, _ = call("POST", "/auth/login", {"email": email, "password": NEW_PASSWORD})
    assert status == 200, body
    status, body, _ = call("GET", "/get-student", token=body["access_token"])
    assert status != 401, body
    status, _, _ = call(
        "POST", "/auth/login", {"email": email, "password": "the squatter's password"}
    )
    assert status == 401


def test_the_job_deletes_accounts_unconfirmed_for_7_days(call, monkeypatch):
    from skillsession import bootstrap
    from skillsession.aws import expiry_handler

    def signup(confirmed: bool = False) -> str:
        email = f"u-{uuid.uuid4().hex[:8]}@example.com"
        status, _, _ = call("POST", "/auth/signup", {"email": email, "password": PASSWORD})
        assert status == 201
        if confirmed:
            call("POST", "/auth/confirm", {"email": email, "code": "123456"})
        return email

    def created(email: str):
        return idp().admin_get_user(UserPoolId=call.pool["pool_id"], Username=email)[
            "UserCreateDate"
        ]

    confirmed, old = signup(confirmed=True), signup()
    young = signup()
    assert created(old) < created(young)
    week_after = created(old) + (created(young) - created(old)) / 2 + timedelta(days=7)

    deps = bootstrap.build()
    deps.clock = FixedClock(week_after)
    monkeypatch.setattr(expiry_handler, "_deps", deps)
    counts = expiry_handler.handler({"source": "aws.scheduler"}, None)
    assert counts["accounts_deleted"] == 1

    status, body, _ = call("POST", "/auth/login", {"email": old, "password": PASSWORD})
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")
    status, body, _ = call("POST", "/auth/login", {"email": young, "password": PASSWORD})
    assert (status, body["error"]["code"]) == (403, "account_unconfirmed")
    status, _, _ = call("POST", "/auth/login", {"email": confirmed, "password": PASSWORD})
    assert status == 200
    # the e-mail is free again: a sign-up for it starts over
    status, _, _ = call("POST", "/auth/signup", {"email": old, "password": NEW_PASSWORD})
    assert status == 201
