"""`skillsession migrate` in the AWS shape creates what the configured backends need (the table,
the bucket, the topic) on moto, and running it twice changes nothing."""

from __future__ import annotations

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto_server import REGION, endpoint_url, table_name
from typer.testing import CliRunner

from skillsession.adapters.mail.sns import SnsMailer
from skillsession.cli import app


def test_migrate_creates_table_bucket_and_topic(tmp_path, monkeypatch):
    url = endpoint_url()
    table, bucket = table_name("migrate"), table_name("migrate-bucket")
    topic_arn = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:{table_name('migrate-topic')}"
    aws = f"region={REGION}&endpoint_url={url}"
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLSESSION_STORE", f"dynamodb://{table}?{aws}")
    monkeypatch.setenv("SKILLSESSION_MEDIA", f"s3://{bucket}/media?{aws}")
    monkeypatch.setenv("SKILLSESSION_MAIL", f"sns://{topic_arn}?{aws}")
    monkeypatch.setenv("SKILLSESSION_AUTH", f"cognito://{REGION}/{REGION}_Pool?client_id=c")
    for _ in range(2):
        result = CliRunner().invoke(app, ["migrate"])
        assert result.exit_code == 0, result.output
        assert "dynamodb store ready" in result.output
        assert "s3 bucket ready" in result.output
        assert "sns topic ready" in result.output
    session = boto3.Session(region_name=REGION)
    assert session.client("dynamodb", endpoint_url=url).describe_table(TableName=table)
    session.client("s3", endpoint_url=url).head_bucket(Bucket=bucket)
    topics = session.client("sns", endpoint_url=url).list_topics()["Topics"]
    assert topic_arn in {t["TopicArn"] for t in topics}
    assert not (tmp_path / "secret.key").exists()  # cognito + S3: no instance secret needed


def test_ensure_topic_refuses_an_arn_of_another_account():
    arn = f"arn:aws:sns:{REGION}:999999999999:{table_name('foreign')}"
    mailer = SnsMailer(arn, region=REGION, endpoint_url=endpoint_url())
    with pytest.raises(ValueError, match="reach"):
        mailer.ensure_topic()
