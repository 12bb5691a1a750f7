"""What depends on the clock: started slots, expiry, code expiry, mail retries."""

from __future__ import annotations

import pytest
from service_fakes import counting, person

import store_peek
from skillsession.domain.availability import WindowRequest
from skillsession.domain.errors import BadRequest, Conflict, SlotUnavailable
from skillsession.domain.model import BookingStatus, SlotStatus
from skillsession.ports import KeptSubscription, MailError
from skillsession.service import accounts, availability, bookings, expiry, outbox, subscriptions
from skillsession.service.availability import SlotQuery


def one_slot(deps, tutor, day="2026-12-02", start="10:00", end="11:00"):
    _, slots = availability.create(deps, tutor, [WindowRequest(day, start, end)])
    return slots[0]


def test_a_started_slot_cannot_be_requested_accepted_or_cancelled(deps, clock, tutor, student):
    slot = one_slot(deps, tutor)
    booking = bookings.request(deps, student, slot.slot_id, None, None).booking
    late = person(deps, "late", "student")
    other = one_slot(deps, tutor, start="12:00", end="13:00")
    clock.current = slot.start  # the slot has started; the expiry job has not run yet
    with pytest.raises(Conflict) as err:
        bookings.respond(deps, tutor, booking.booking_id, "accept", None)
    assert err.value.code == "slot_started"
    with pytest.raises(Conflict) as err:
        bookings.cancel(deps, student, booking.booking_id, None)
    assert err.value.code == "booking_not_cancellable"
    # rejecting a started request is still allowed: it frees nothing bookable
    rejected = bookings.respond(deps, tutor, booking.booking_id, "reject", "too late").booking
    assert rejected.booking_status == BookingStatus.REJECTED
    with pytest.raises(SlotUnavailable):
        bookings.request(deps, late, slot.slot_id, None, None)
    assert (
        bookings.request(deps, late, other.slot_id, None, None).booking.booking_status == "pending"
    )


def test_available_slots_are_those_not_started(deps, clock, tutor, student):
    first = one_slot(deps, tutor, start="09:00", end="12:00")
    clock.current = first.end  # 10:00 Berlin has started, 11:00 not... first is 09:00-10:00
    found, _ = availability.tutor_slots(
        deps,
        student,
        SlotQuery(tutor_id=tutor.user_id, from_date="2026-12-02", to_date="2026-12-02"),
    )
    assert [s.start for s in found] == sorted(s.start for s in found)
    assert all(s.start > clock.now() for s in found)
    assert len(found) == 1


def test_expiry_moves_every_kind_once(deps, clock, tutor, student):
    pending_slot = one_slot(deps, tutor, start="09:00", end="10:00")
    accepted_slot = one_slot(deps, tutor, start="10:00", end="11:00")
    free_slot = one_slot(deps, tutor, start="11:00", end="12:00")
    pending = bookings.request(deps, student, pending_slot.slot_id, None, None).booking
    accepted = bookings.request(deps, student, accepted_slot.slot_id, None, None).booking
    bookings.respond(deps, tutor, accepted.booking_id, "accept", None)
    clock.current = free_slot.end
    result = expiry.expire_slots(deps)
    assert (result.slots_expired, result.bookings_expired, result.bookings_completed) == (1, 1, 1)
    assert (
        deps.stores.bookings.get_booking(pending.booking_id).booking_status == BookingStatus.EXPIRED
    )
    assert (
        deps.stores.bookings.get_booking(accepted.booking_id).booking_status
        == BookingStatus.COMPLETED
    )
    assert store_peek.get_slot(deps.stores, free_slot.slot_id).slot_status == SlotStatus.EXPIRED
    assert store_peek.get_slot(deps.stores, accepted_slot.slot_id).slot_status == SlotStatus.BOOKED
    again = expiry.expire_slots(deps)
    assert (again.slots_expired, again.bookings_expired, again.bookings_completed) == (0, 0, 0)
    assert deps.stores.admin.check_consistency() == []


def test_codes_expire_after_24_hours(deps, clock):
    user = accounts.signup(deps, "late@example.test", "long enough pw")
    outbox.deliver_all(deps)
    code = deps.mailer.sent[-1]["Subject"].split()[-1]
    clock.advance(hours=24, seconds=1)
    with pytest.raises(BadRequest) as err:
        accounts.confirm(deps, user.email, code)
    assert err.value.code == "code_expired"
    accounts.resend_code(deps, user.email)
    outbox.deliver_all(deps)
    fresh = deps.mailer.sent[-1]["Subject"].split()[-1]
    accounts.confirm(deps, user.email, fresh)
    token, expires_in = accounts.login(deps, user.email, "long enough pw")
    assert deps.verifier.verify(token).user_id == user.user_id and expires_in == 3600


def test_mail_retries_back_off_and_permanent_failures_stop(deps, clock, tutor, student):
    deps.mailer.failure = MailError("server down")
    accounts.signup(deps, "retry@example.test", "long enough pw")
    first = outbox.deliver_due(deps)
    assert first.retried == 1 and deps.mailer.sent == []
    assert outbox.deliver_due(deps).handled == 0  # not due again yet
    clock.advance(seconds=outbox.BASE_DELAY_SECONDS)
    deps.mailer.failure = None
    assert outbox.deliver_due(deps).sent == 1
    assert outbox.backoff(1) < outbox.backoff(2) < outbox.backoff(3)
    assert outbox.backoff(100).total_seconds() == outbox.MAX_DELAY_SECONDS

    deps.mailer.failure = MailError("no such user", permanent=True)
    accounts.signup(deps, "gone@example.test", "long enough pw")
    assert outbox.deliver_due(deps).failed == 1
    deps.mailer.failure = None
    clock.advance(hours=2)
    assert outbox.deliver_due(deps).handled == 0


def test_booking_mail_only_for_confirmed_subscribers(deps, clock, tutor, student):
    slot = one_slot(deps, tutor)
    subscription = subscriptions.subscribe(deps, tutor)
    outbox.deliver_all(deps)
    deps.mailer.sent.clear()
    bookings.request(deps, student, slot.slot_id, None, None)
    assert outbox.deliver_all(deps).skipped == 1  # subscribed, not yet confirmed
    subscriptions.confirm(deps, subscription.confirm_token)
    other = one_slot(deps, tutor, start="12:00", end="13:00")
    bookings.request(deps, student, other.slot_id, None, None)
    assert outbox.deliver_all(deps).sent == 1
    mail = deps.mailer.sent[-1]
    assert mail["To"] == tutor.email and "Student" in mail["Subject"]
    assert "12:00–13:00 (Europe/Berlin)" in mail.get_body(("plain",)).get_content()
    subscriptions.unsubscribe(deps, subscription.token)
    third = one_slot(deps, tutor, start="14:00", end="15:00")
    bookings.request(deps, student, third.slot_id, None, None)
    assert outbox.deliver_all(deps).skipped == 1


def test_a_mailer_that_keeps_subscriptions_decides_their_status(deps, tutor):
    class ProviderMailer:  # like SNS: its own confirmation mail, its own status
        backend_name = "provider"

        def __init__(self):
            self.subscribed, self.unsubscribed = [], []

        def send(self, message):
            pass

        def subscribe(self, email, ref):
            self.subscribed.append(email)
            return KeptSubscription("pending_confirmation", "ref-1")

        def subscription_status(self, email, ref):
            return KeptSubscription("pending_confirmation", ref)

        def unsubscribe(self, email, ref):
            self.unsubscribed.append((email, ref))

    deps.mailer = ProviderMailer()
    subscription = subscriptions.subscribe(deps, tutor)
    assert subscription.status == "pending_confirmation"
    assert deps.mailer.subscribed == [tutor.email]
    assert outbox.deliver_all(deps).handled == 0  # no confirmation mail of ours
    subscriptions.unsubscribe(deps, subscription.token)
    assert deps.mailer.unsubscribed == [(tutor.email, "ref-1")]


def test_deliver_all_goes_batch_after_batch_until_told_to_stop(deps, tutor):
    for i in range(25):  # three batches of deliver_due's 10
        accounts.signup(deps, f"new{i}@example.test", "long enough pw")
    checks = []

    def keep_going() -> bool:
        checks.append(True)
        return len(checks) <= 2  # a Lambda nearing its timeout after two batches

    assert outbox.deliver_all(deps, rounds=100, keep_going=keep_going).sent == 20
    assert outbox.deliver_all(deps).sent == 5  # the rest on the next run


def test_a_batch_of_mail_is_recorded_in_one_write_and_a_crash_keeps_what_was_sent(deps, clock):
    deps.stores, counts = counting(deps.stores, finishes=("finish_notifications",))
    for name in ("one", "two", "three"):
        accounts.signup(deps, f"{name}@example.test", "long enough pw")
    assert outbox.deliver_due(deps).sent == 3
    assert counts.finishes == 1  # one write for the batch

    for name in ("four", "five", "six"):
        accounts.signup(deps, f"{name}@example.test", "long enough pw")
    sent, send = [], deps.mailer.send

    def second_send_crashes(message):
        if len(sent) == 1:
            raise KeyboardInterrupt  # the process stops in the middle of the batch
        send(message)
        sent.append(message["To"])

    deps.mailer.send = second_send_crashes
    with pytest.raises(KeyboardInterrupt):
        outbox.deliver_due(deps)
    deps.mailer.send = send
    assert counts.finishes == 2  # what was sent before the crash is recorded
    clock.advance(seconds=deps.settings.outbox_lease_seconds)  # the lease of the others ends
    again = outbox.deliver_due(deps)
    assert again.sent == 2 and sent[0] not in {m["To"] for m in deps.mailer.sent[-2:]}
