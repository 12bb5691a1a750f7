"""Logs are JSON lines with a request id, and never hold a token, password, code or e-mail."""

from __future__ import annotations

import json

import httpx

from e2e.api_client import PASSWORD, Api, Mailbox
from e2e.server import Server


def test_logs_are_structured_and_hold_no_secrets(tmp_path):
    srv = Server(tmp_path, SKILLSESSION_LOG_LEVEL="info").start()
    try:
        api = Api(srv.base_url, Mailbox(tmp_path / "mail"))
        user = api.as_new_user("student", "logged")
        user.subscribe()
        r = httpx.get(f"{srv.base_url}/health", headers={"X-Request-ID": "trace-me-123"})
        assert r.headers["x-request-id"] == "trace-me-123"
        code = api.mailbox.code_for(user.email)
    finally:
        srv.stop()
    lines = [line for line in srv.log_path.read_text().splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    access = [e for e in entries if e["logger"] == "skillsession.access"]
    assert len(access) >= 6 and all(e["request_id"] and e["status"] for e in access)
    assert any(e["request_id"] == "trace-me-123" for e in access)
    text = srv.log_path.read_text()
    for secret in (user.token, PASSWORD, code, user.email, "token="):
        assert secret not in text
