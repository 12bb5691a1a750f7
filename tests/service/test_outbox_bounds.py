"""Issue 11 items 10 and 6: the outbox gives each notification a bounded number of tries, logs
every failed try at warning with the next try's time, marks it failed (logged at error) after the
last, never holds up the others, and says what is still waiting. Over a real SMTP server that
refuses, and over a notification that cannot be rendered."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

import store_peek
from skillsession import cli
from skillsession.adapters.mail.smtp import SmtpMailer
from skillsession.adapters.store.sqlite import open_file
from skillsession.domain.availability import WindowRequest
from skillsession.domain.ids import new_id
from skillsession.domain.model import Notification, Subscription, SubscriptionStatus
from skillsession.service import availability, bookings, outbox


def code_mail(deps, to: str) -> Notification:
    now = deps.now()
    note = Notification(
        new_id(), "verification_code", "id-x", {"code": "123456", "email": to}, now, 0, now
    )
    store_peek.add_notifications(deps.stores, [note])
    return note


def run_until_settled(deps, clock, tries: int):
    """Deliver, then move the clock past each backoff, `tries` times."""
    reports = []
    for _ in range(tries):
        reports.append(outbox.deliver_due(deps))
        clock.advance(hours=2)
    return reports


def test_smtp_outage_is_bounded_and_logged_at_every_try(deps, clock, caplog, smtp_test_server):
    smtp_test_server.set_data_reply("451 4.3.0 Try later")  # every DATA refused, for now
    deps.mailer = SmtpMailer.from_url(smtp_test_server.url())
    deps.settings = deps.settings.model_copy(update={"outbox_max_attempts": 3})
    note = code_mail(deps, "ann@example.com")
    caplog.set_level(logging.WARNING, logger="skillsession.outbox")
    reports = run_until_settled(deps, clock, 4)
    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(warnings) == 2 and len(errors) == 1
    assert "try 1 of 3; next try at 2026-12-01T08:00:05Z" in warnings[0].getMessage()
    assert "451" in warnings[0].getMessage()
    assert "failed for good after 3 tries" in errors[0].getMessage()
    stored = store_peek.get_notification(deps.stores, note.notification_id)
    assert (stored.status, stored.attempts) == ("failed", 3)
    assert "451" in stored.last_error
    assert stored.payload == {}  # the code is not kept
    summary = outbox.summary(deps)
    assert (summary.failed, summary.due, summary.waiting) == (1, 0, 0)


def test_a_notification_that_cannot_be_rendered_fails_without_holding_up_others(
    deps, clock, caplog, tutor, student
):
    """A name with a line break, stored before the rule existed: its mails cannot be built."""
    profile = deps.stores.profiles.get_profile(student.user_id)
    profile.first_name = "Eve\r\nBcc: everyone@example.com"
    deps.stores.profiles.save_profile(profile)
    confirmed = Subscription(
        tutor.user_id, tutor.email, SubscriptionStatus.CONFIRMED, "t", clock.now()
    )
    deps.stores.outbox.save_subscription(confirmed, None)
    window = WindowRequest(date="2026-12-03", start_time="09:00", end_time="11:00")
    _, slots = availability.create(deps, tutor, [window])
    bookings.request(deps, student, slots[0].slot_id, None, None)  # its mail names Eve
    fine = code_mail(deps, "bob@example.com")
    deps.settings = deps.settings.model_copy(update={"outbox_max_attempts": 2})
    caplog.set_level(logging.WARNING, logger="skillsession.outbox")
    first = outbox.deliver_due(deps)
    assert (first.sent, first.retried) == (1, 1)  # the good one went out at once
    assert [m["To"] for m in deps.mailer.sent] == ["bob@example.com"]
    clock.advance(hours=1)
    second = outbox.deliver_due(deps)
    assert second.failed == 1
    [failed] = outbox.summary(deps).recent_failures
    assert failed.kind == "booking_requested" and failed.last_error.startswith("cannot render")
    assert fine.notification_id != failed.notification_id
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.exc_info is not None  # one traceback, when it gives up


def test_a_notification_claimed_too_often_is_given_up(deps, clock):
    note = code_mail(deps, "ann@example.com")
    most = deps.settings.outbox_max_attempts
    for _ in range(most):  # workers that crashed while sending it: claimed, never finished
        deps.stores.outbox.claim_notifications(deps.now(), 10, 60)
        clock.advance(minutes=2)
    report = outbox.deliver_due(deps)
    assert report.failed == 1 and deps.mailer.sent == []
    assert (
        "without an outcome"
        in store_peek.get_notification(deps.stores, note.notification_id).last_error
    )


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    for name in ("STORE", "MAIL", "MEDIA", "AUTH", "SECRET_KEY"):
        monkeypatch.delenv(f"SKILLSESSION_{name}", raising=False)
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    return tmp_path


def test_check_warns_of_failed_mail_and_deliver_mail_counts_what_waits(data_dir):
    store = open_file(data_dir / "skillsession.db")
    store.admin.migrate()
    from factories_for_outbox import failed_and_waiting

    failed_and_waiting(store)
    store.admin.close()
    runner = CliRunner()
    checked = runner.invoke(cli.app, ["check"])
    assert checked.exit_code == 0, checked.output
    assert "warning: 1 notification(s) failed for good" in checked.output
    assert "550 no such user" in checked.output
    assert checked.output.strip().endswith("consistent")
    delivered = runner.invoke(cli.app, ["deliver-mail"])
    assert delivered.exit_code == 0, delivered.output
    assert "sent 0, skipped 0, retried 0, failed 0; waiting 1" in delivered.output
