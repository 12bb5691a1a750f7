"""The outbox backlog metrics on CloudWatch (moto): the adapter, and the scheduled job that
publishes them after its run (the template's OutboxBacklog* alarms watch these)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import boto3
from moto_server import REGION, dynamodb_store, endpoint_url

import store_peek
from skillsession.adapters.metrics.cloudwatch import CloudWatchMetrics
from skillsession.domain.model import Notification
from skillsession.service import backlog


def _latest(stack: str, name: str) -> float | None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint_url())
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="SkillSession",
        MetricName=name,
        Dimensions=[{"Name": "Stack", "Value": stack}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    return max(p["Maximum"] for p in points) if points else None


def test_put_sends_gauges_with_the_url_dimensions():
    stack = f"stack-{uuid.uuid4().hex[:8]}"
    metrics = CloudWatchMetrics.from_url(
        f"cloudwatch://SkillSession?stack={stack}&region={REGION}&endpoint_url={endpoint_url()}"
    )
    assert metrics.dimensions == [{"Name": "Stack", "Value": stack}]
    metrics.put({backlog.PENDING_METRIC: 3, backlog.AGE_METRIC: 120.5})
    assert _latest(stack, backlog.PENDING_METRIC) == 3
    assert _latest(stack, backlog.AGE_METRIC) == 120.5
    assert _latest("another-stack", backlog.PENDING_METRIC) is None


def test_expiry_job_publishes_the_backlog_after_its_run(tmp_path, monkeypatch):
    from skillsession.aws import expiry_handler

    store = dynamodb_store("metrics")
    store.admin.migrate()
    now = datetime.now(UTC)
    waiting = Notification(
        notification_id=uuid.uuid4().hex,
        kind="booking_requested",
        recipient_id="someone",
        created_at=now - timedelta(minutes=20),
        next_attempt_at=now + timedelta(hours=1),  # a retry later: not delivered by this run
    )
    store_peek.add_notifications(store, [waiting])
    stack = f"stack-{uuid.uuid4().hex[:8]}"
    url = endpoint_url()
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "SKILLSESSION_STORE", f"dynamodb://{store.admin.table}?region={REGION}&endpoint_url={url}"
    )
    monkeypatch.setenv(
        "SKILLSESSION_METRICS",
        f"cloudwatch://SkillSession?stack={stack}&region={REGION}&endpoint_url={url}",
    )
    monkeypatch.setattr(expiry_handler, "_deps", None)
    try:
        counts = expiry_handler.handler({"source": "aws.scheduler"}, None)
    finally:
        expiry_handler._deps = None
    assert counts["outbox_pending"] == 1
    assert 20 * 60 <= counts["outbox_oldest_age_seconds"] < 30 * 60
    assert _latest(stack, backlog.PENDING_METRIC) == 1
    assert 20 * 60 <= _latest(stack, backlog.AGE_METRIC) < 30 * 60
