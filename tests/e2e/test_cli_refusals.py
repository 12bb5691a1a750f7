"""The operator commands on a mistyped store or a bad setting, run as processes the way a user
runs them: one line naming what is wrong, a non-zero exit, no traceback, nothing created."""

from __future__ import annotations

import pytest

from e2e.server import cli_env, run_cli

USING_A_STORE = [
    ("check",),
    ("deliver-mail",),
    ("expire-slots",),
    ("token", "someone@example.test"),
]


@pytest.mark.parametrize("command", USING_A_STORE, ids=lambda c: c[0])
def test_a_missing_sqlite_database_is_refused_not_created(tmp_path, command):
    typo = tmp_path / "no-such-dir" / "skilsession.db"
    env = cli_env(tmp_path / "data", SKILLSESSION_STORE=f"sqlite:///{typo}")
    result = run_cli(tmp_path, *command, env=env, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no store at" in result.stderr and str(typo) in result.stderr
    assert "consistent" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not typo.parent.exists()
    assert not (tmp_path / "data").exists()  # no data dir, no secret key either


def test_a_missing_data_dir_is_refused_by_check(tmp_path):
    result = run_cli(tmp_path / "mistyped", "check", check=False)
    assert result.returncode == 1 and "no store at" in result.stderr
    assert not (tmp_path / "mistyped").exists()


def test_a_missing_dynamodb_table_is_refused_not_created(tmp_path):
    from e2e.server import aws_shape_env

    env = cli_env(tmp_path, **aws_shape_env("never-migrated"))
    result = run_cli(tmp_path, "check", env=env, check=False)
    assert result.returncode == 1 and "no store at dynamodb://" in result.stderr
    again = run_cli(tmp_path, "check", env=env, check=False)
    assert again.returncode == 1, "the first check created the table"


def test_commands_that_create_still_do(tmp_path):
    assert "store ready" in run_cli(tmp_path, "migrate").stdout
    assert run_cli(tmp_path, "check").stdout.strip() == "consistent"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SKILLSESSION_STORE", "postgres://db/skillsession", "unsupported store"),
        ("SKILLSESSION_STORE", "sqlite://", "no database path"),
        ("SKILLSESSION_STORE", "dynamodb://t?regoin=eu-west-1", "unknown dynamodb URL parameter"),
        ("SKILLSESSION_MEDIA", "ftp://host/media", "unsupported media"),
        ("SKILLSESSION_MAIL", "carrier-pigeon://coop", "unsupported mail"),
        ("SKILLSESSION_AUTH", "ldap://directory", "unsupported"),
        ("SKILLSESSION_TOKEN_TTL_SECONDS", "an hour", "valid integer"),
        ("SKILLSESSION_SECRET_KEY", "changeme", "at least 32 characters"),
        ("SKILLSESSION_MAX_PENDING_TOTAL", "-1", "greater than or equal to 0"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path, variable, value, says):
    command = (
        "serve" if variable in ("SKILLSESSION_STORE", "SKILLSESSION_SECRET_KEY") else "migrate"
    )
    result = run_cli(tmp_path, command, env=cli_env(tmp_path, **{variable: value}), check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {variable}: ") and says in lines[0], lines[0]
