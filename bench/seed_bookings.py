"""Bench set-up: a realistic share of bookings on top of `skillsession demo-data`.

Runs in-process through the service layer (the same functions the HTTP routes call, with real
identities), so every invariant, index and outbox row is what the API would have written:

* tutor 1 is the "busy tutor": 14 past days of lessons (mostly completed, a few expired,
  rejected or cancelled) and, on its 30 demo days, about half the slots pending and a quarter
  accepted, so its pending list and its bookings list hold 100+ items each;
* one tutor in ten (at least 10) has a few future requests (pending / accepted / rejected /
  cancelled) and one past day with completed and expired lessons;
* past lessons are made with a clock set back in time (the service refuses windows in the
  past), then the expiry job runs as of now, exactly as the server's in-process job would;
* the outbox is drained (demo users are not subscribed, so every notification is "skipped"),
  so the server does not spend the benchmark delivering the set-up's mail.

    SKILLSESSION_DATA_DIR=bench/out/small python bench/seed_bookings.py --tutors 100 --students 100

Prints one JSON line with what it made."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from skillsession import bootstrap, demo
from skillsession.domain import local_time
from skillsession.domain.availability import WindowRequest
from skillsession.domain.errors import DomainError
from skillsession.domain.model import SlotStatus
from skillsession.ports import Identity
from skillsession.service import availability, bookings, expiry, outbox
from skillsession.settings import Settings

PAST_DAYS_BUSY = 14
# future slots of the busy tutor: share of pending / accepted / rejected / cancelled requests
BUSY_FUTURE = (0.50, 0.25, 0.04, 0.03)
# past slots: pending (-> expired by the job), accepted (-> completed), rejected, cancelled
BUSY_PAST = (0.10, 0.70, 0.06, 0.04)
BACKGROUND_FUTURE_REQUESTS = 6
BACKGROUND_FUTURE = (0.45, 0.35, 0.12, 0.08)
BACKGROUND_PAST_SLOTS = 4


class FixedClock:
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


def identity(deps, email: str) -> Identity:
    user = deps.stores.accounts.get_user_by_email(email)
    if user is None:
        raise SystemExit(f"no demo user {email}: run `skillsession demo-data` first")
    return Identity(user.user_id, user.email)


def pick_outcome(rng: random.Random, shares: tuple[float, ...]) -> int:
    """0..len(shares)-1 for a share, len(shares) for "left free"."""
    x = rng.random()
    for i, share in enumerate(shares):
        if x < share:
            return i
        x -= share
    return len(shares)


class Seeder:
    def __init__(self, deps, students: list[Identity], rng: random.Random):
        self.deps = deps
        self.students = students
        self.rng = rng
        self.counts: dict[str, int] = {}

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def book(self, deps, tutor: Identity, slot_id: str, outcome: int) -> None:
        """outcome: 0 pending, 1 accepted, 2 rejected, 3 cancelled (after accept), else free."""
        if outcome > 3:
            return
        student = self.rng.choice(self.students)
        try:
            booking = bookings.request(deps, student, slot_id, "Bench booking", None).booking
            if outcome == 0:
                self.count("pending")
                return
            if outcome == 2:
                bookings.respond(deps, tutor, booking.booking_id, "reject", "Not this week")
                self.count("rejected")
                return
            bookings.respond(deps, tutor, booking.booking_id, "accept", None)
            if outcome == 3:
                bookings.cancel(deps, student, booking.booking_id, "Plans changed")
                self.count("cancelled")
            else:
                self.count("accepted")
        except DomainError as exc:  # e.g. a slot that has just started: skip it
            self.count(f"skipped:{exc.code}")

    def past_windows(self, tutor: Identity, days: list[int], slots_per_day: int, now: datetime):
        """Windows `days` days ago (local 10:00 in the tutor's zone), made as of a past clock;
        returns (that clock's deps, the slots)."""
        profile = self.deps.stores.profiles.get_profile(tutor.user_id)
        back = max(days) + 1
        past_deps = replace(self.deps, clock=FixedClock(now - timedelta(days=back)))
        today = now.astimezone(local_time.zone(profile.time_zone)).date()
        windows = [
            WindowRequest(
                date=(today - timedelta(days=d)).isoformat(),
                start_time="10:00",
                end_time=f"{10 + slots_per_day:02d}:00",
                time_zone=profile.time_zone,
                slot_minutes=60,
            )
            for d in days
        ]
        _, slots = availability.create(past_deps, tutor, windows)
        return past_deps, slots

    def future_slots(self, tutor: Identity, now: datetime):
        return self.deps.stores.slots.slots_for_tutor(
            tutor.user_id, now + timedelta(hours=2), now + timedelta(days=40), SlotStatus.AVAILABLE
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tutors", type=int, required=True)
    parser.add_argument("--students", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    started = time.perf_counter()
    deps = bootstrap.build(Settings())
    deps.stores.admin.migrate()
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    students = [
        identity(deps, demo.student_email(i)) for i in range(1, min(args.students, 500) + 1)
    ]
    seeder = Seeder(deps, students, rng)

    # the busy tutor
    busy = identity(deps, demo.tutor_email(1))
    past_deps, past = seeder.past_windows(busy, list(range(1, PAST_DAYS_BUSY + 1)), 8, now)
    for slot in past:
        seeder.book(past_deps, busy, slot.slot_id, pick_outcome(rng, BUSY_PAST))
    for slot in seeder.future_slots(busy, now):
        seeder.book(deps, busy, slot.slot_id, pick_outcome(rng, BUSY_FUTURE))

    # the background: one tutor in ten
    others = rng.sample(range(2, args.tutors + 1), max(10, args.tutors // 10))
    for i in others:
        tutor = identity(deps, demo.tutor_email(i))
        future = seeder.future_slots(tutor, now)
        for slot in rng.sample(future, min(BACKGROUND_FUTURE_REQUESTS, len(future))):
            seeder.book(deps, tutor, slot.slot_id, pick_outcome(rng, BACKGROUND_FUTURE))
        past_deps, past = seeder.past_windows(
            tutor, [rng.randint(1, 20)], BACKGROUND_PAST_SLOTS, now
        )
        for slot in past:
            seeder.book(past_deps, tutor, slot.slot_id, pick_outcome(rng, BUSY_PAST))

    # what the server's job would do: complete past lessons, expire past requests and slots
    result = expiry.expire_slots(deps)
    delivered = outbox.DeliveryReport()
    while True:
        report = outbox.deliver_all(deps)
        for field in ("sent", "skipped", "retried", "failed"):
            setattr(delivered, field, getattr(delivered, field) + getattr(report, field))
        if report.handled == 0:
            break
    deps.stores.admin.database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    deps.stores.admin.close()
    print(
        json.dumps(
            {
                "bookings": seeder.counts,
                "background_tutors": len(others),
                "expiry": {
                    "slots_expired": result.slots_expired,
                    "bookings_expired": result.bookings_expired,
                    "bookings_completed": result.bookings_completed,
                },
                "outbox": vars(delivered),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
