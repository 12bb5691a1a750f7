"""Random sequences of booking changes, profile edits, zone changes, time passing and expiry
runs, on the memory store and on SQLite: after every step, every cached booking list a party
reads (several queries and pages) equals the list rendered afresh."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from service_fakes import FakeClock, RecordingMailer, person

from skillsession.adapters.auth.local import LocalTokens
from skillsession.adapters.media.disk import DiskMediaStore
from skillsession.adapters.store import memory
from skillsession.adapters.store.sqlite import open_file
from skillsession.domain.availability import WindowRequest
from skillsession.domain.errors import DomainError
from skillsession.domain.model import Role
from skillsession.http import list_cache, views
from skillsession.service import availability, bookings, expiry, profiles
from skillsession.service.bookings import BookingQuery
from skillsession.service.deps import Deps
from skillsession.settings import Settings

ZONES = ("UTC", "Europe/Berlin", "America/Halifax", "Asia/Tokyo")
QUERIES = (
    {},
    {"status": "pending"},
    {"status": "accepted"},
    {"limit": 2},
    {"from_date": "2026-12-02", "to_date": "2026-12-02"},
)


class ListMachine(RuleBasedStateMachine):
    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="list-machine-"))
        store = memory.open_store() if self.backend == "memory" else open_file(self.dir / "m.db")
        store.admin.migrate()
        tokens = LocalTokens(b"k" * 32)
        self.clock = FakeClock()
        self.deps = Deps(
            settings=Settings(data_dir=self.dir, _env_file=None),
            stores=store,
            media=DiskMediaStore(self.dir / "media", b"m" * 32),
            mailer=RecordingMailer(),
            verifier=tokens,
            clock=self.clock,
        )
        self.tutors = [person(self.deps, f"tutor{i}", Role.TUTOR) for i in range(2)]
        self.students = [person(self.deps, f"student{i}", Role.STUDENT) for i in range(2)]
        self.slots = []
        for tutor in self.tutors:
            window = WindowRequest("2026-12-02", "08:00", "12:00", slot_minutes=60)
            self.slots += [s.slot_id for s in availability.create(self.deps, tutor, [window])[1]]
        self.booking_ids: list[str] = []

    def teardown(self) -> None:
        self.deps.stores.admin.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _try(self, action) -> None:
        with contextlib.suppress(DomainError):  # refused (taken, wrong state, started)
            action()

    @rule(student=st.integers(0, 1), slot=st.integers(0, 7))
    def request(self, student: int, slot: int) -> None:
        def go():
            answer = bookings.request(
                self.deps, self.students[student], self.slots[slot], None, None
            )
            self.booking_ids.append(answer.booking.booking_id)

        self._try(go)

    @precondition(lambda self: self.booking_ids)
    @rule(data=st.data(), action=st.sampled_from(["accept", "reject"]))
    def respond(self, data, action: str) -> None:
        booking = self.deps.stores.bookings.get_booking(
            data.draw(st.sampled_from(self.booking_ids))
        )
        tutor = next(t for t in self.tutors if t.user_id == booking.tutor_id)
        self._try(lambda: bookings.respond(self.deps, tutor, booking.booking_id, action, None))

    @precondition(lambda self: self.booking_ids)
    @rule(data=st.data(), by_student=st.booleans())
    def cancel(self, data, by_student: bool) -> None:
        booking = self.deps.stores.bookings.get_booking(
            data.draw(st.sampled_from(self.booking_ids))
        )
        party = booking.student_id if by_student else booking.tutor_id
        who = next(p for p in self.tutors + self.students if p.user_id == party)
        self._try(lambda: bookings.cancel(self.deps, who, booking.booking_id, None))

    @rule(who=st.integers(0, 3), name=st.sampled_from(["Ada", "Bob", "Cy"]))
    def rename(self, who: int, name: str) -> None:
        profiles.save(self.deps, (self.tutors + self.students)[who], None, {"last_name": name})

    @rule(who=st.integers(0, 3), zone=st.sampled_from(ZONES))
    def change_zone(self, who: int, zone: str) -> None:
        profiles.save(self.deps, (self.tutors + self.students)[who], None, {"time_zone": zone})

    @rule(minutes=st.integers(30, 900))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule()
    def expire(self) -> None:
        expiry.expire_slots(self.deps)

    @invariant()
    def every_list_is_the_fresh_one(self) -> None:
        deps = self.deps
        for role, people in ((Role.TUTOR, self.tutors), (Role.STUDENT, self.students)):
            for who in people:
                for query in QUERIES:
                    q = BookingQuery(**query)
                    fresh = views.booking_list(bookings.for_role(deps, who, role, q))
                    assert list_cache.bookings_json(deps, who, role, q) == orjson.dumps(fresh)
                fresh = views.booking_list(bookings.pending(deps, who, None, None))
                assert list_cache.pending_json(deps, who, None, None) == orjson.dumps(fresh)


def _machine_test(backend: str, examples: int):
    machine = type(f"ListMachine_{backend}", (ListMachine,), {"backend": backend})
    test_case = machine.TestCase
    test_case.settings = settings(
        max_examples=examples,
        stateful_step_count=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return test_case


TestCachedListsMemory = _machine_test("memory", 60)
TestCachedListsSqlite = _machine_test("sqlite", 20)
