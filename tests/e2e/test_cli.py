"""The operator commands, run as processes on a data dir the server also uses."""

from __future__ import annotations

import httpx
import pytest

from e2e.server import Server, run_cli
from skillsession.demo import student_email, tutor_email


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cli")
    assert "store ready" in run_cli(data_dir, "migrate").stdout
    out = run_cli(data_dir, "demo-data", "--tutors", "5", "--students", "3", "--days", "2").stdout
    assert "5 tutors, 3 students, 80 slots" in out
    return data_dir


def test_demo_data_is_filled_once(filled):
    assert "already there" in run_cli(filled, "demo-data", "--if-empty").stdout
    again = run_cli(filled, "demo-data", check=False)
    assert again.returncode != 0


def test_token_command_gives_a_working_bearer_token(filled):
    token = run_cli(filled, "token", tutor_email(1), "--ttl", "120").stdout.strip()
    missing = run_cli(filled, "token", "nobody@example.test", check=False)
    assert missing.returncode == 1
    server = Server(filled).start()
    try:
        me = httpx.post(
            f"{server.base_url}/get-user-profiles-and-teacher-search",
            json={},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert me.status_code == 200
        assert me.json()["profile"]["email"] == tutor_email(1)
        assert me.json()["profile"]["role"] == "tutor"
        student = run_cli(filled, "token", student_email(3)).stdout.strip()
        assert httpx.get(
            f"{server.base_url}/get-student-bookings",
            headers={"Authorization": f"Bearer {student}"},
        ).json() == {"bookings": [], "next_cursor": None}
    finally:
        server.stop()


def test_check_and_deliver_mail_and_expire(filled):
    assert run_cli(filled, "check").stdout.strip() == "consistent"
    assert "sent 0" in run_cli(filled, "deliver-mail").stdout
    out = run_cli(filled, "expire-slots", "--now", "2100-01-01T00:00:00Z").stdout
    assert "slots expired: 80" in out
    bad = run_cli(filled, "expire-slots", "--now", "yesterday", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr + bad.stdout
