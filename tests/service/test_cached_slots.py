"""Cached get-teacher-slots answers (http/slot_cache.py) are always the answer rendered afresh:
after every slot-changing use case, as the clock passes a slot's start, across a day change,
with the same errors; on the memory store and on SQLite, and never cached without versions."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import httpx
import orjson
import pytest
from service_fakes import counting
from service_fakes import person as fake_person

from skillsession.domain.availability import WindowRequest
from skillsession.domain.errors import Forbidden, NotFound, ValidationFailed
from skillsession.domain.model import Role
from skillsession.http import views
from skillsession.http.app import create_app
from skillsession.http.slot_cache import teacher_slots_json
from skillsession.ports import Identity
from skillsession.service import availability, bookings, expiry, profiles
from skillsession.service.answer_cache import AnswerCache, AnswerCacheConfig
from skillsession.service.availability import SlotQuery


@pytest.fixture
def deps(deps, real_store):
    deps.stores, deps.counts = counting(
        real_store,
        slot_reads=("slots_for_tutor",),
        profile_reads=("get_profile",),
        version_reads=("slot_version", "profiles_version", "slot_answer_versions"),
    )
    return deps


def person(deps, name: str, role: str, **fields):
    return fake_person(deps, name, Role(role), **fields)  # SQLite wants the enum


@pytest.fixture
def tutor(deps):
    return person(deps, "tutor", "tutor", teaching_skills="Python", time_zone="Europe/Berlin")


@pytest.fixture
def student(deps):
    return person(deps, "student", "student", time_zone="America/Halifax")


def fresh(deps, identity, query: SlotQuery) -> bytes:
    """The answer without the cache: what the route rendered before there was one."""
    listing = availability.resolve_slots(deps, identity, query)
    page = availability.read_slots(deps, listing)
    return orjson.dumps(
        {
            "slots": [views.slot(s, listing.zone) for s in page.slots],
            "next_cursor": page.next_cursor,
        }
    )


def listed(deps, identity, tutor, **query) -> list[dict]:
    """The (maybe cached) answer, checked against the fresh one; its slots."""
    q = SlotQuery(tutor_id=tutor.user_id, **query)
    answer = teacher_slots_json(deps, identity, q)
    assert answer == fresh(deps, identity, q)
    return orjson.loads(answer)["slots"]


def ids(slots) -> list[str]:
    return [s["slot_id"] for s in slots]


def publish(deps, tutor, day="2026-12-02", start="09:00", end="12:00"):
    windows, slots = availability.create(deps, tutor, [WindowRequest(day, start, end)])
    return windows[0], slots


def test_a_repeated_question_reads_no_slots(deps, tutor, student):
    publish(deps, tutor)
    first = listed(deps, student, tutor)
    reads = deps.counts.slot_reads
    answer = teacher_slots_json(deps, student, SlotQuery(tutor_id=tutor.user_id))
    assert orjson.loads(answer)["slots"] == first and len(first) == 3
    assert deps.counts.slot_reads == reads  # served from the cache
    # another zone, status or range is another answer
    teacher_slots_json(deps, student, SlotQuery(tutor_id=tutor.user_id, time_zone="Asia/Tokyo"))
    assert deps.counts.slot_reads == reads + 1
    assert sum(key[0] == "slots" for key in deps.answers._entries) == 2


def test_a_repeated_question_is_one_read_of_both_versions(deps, tutor, student):
    publish(deps, tutor)
    listed(deps, student, tutor)
    reads = deps.counts.version_reads
    for _ in range(3):
        teacher_slots_json(deps, student, SlotQuery(tutor_id=tutor.user_id))
    assert deps.counts.version_reads == reads + 3
    # the versions a remembered answer is checked against, read at one instant
    assert deps.stores.versions.slot_answer_versions(tutor.user_id) == (
        deps.stores.versions.profiles_version(),
        deps.stores.versions.slot_version(tutor.user_id),
    )


def test_a_repeated_question_reads_no_profile_until_one_changes(deps, tutor, student):
    """The query's resolution (the tutor's and the caller's profiles) is remembered too."""
    publish(deps, tutor)
    in_halifax = listed(deps, student, tutor)
    reads = deps.counts.profile_reads
    teacher_slots_json(deps, student, SlotQuery(tutor_id=tutor.user_id))
    assert deps.counts.profile_reads == reads
    # another caller asking the same: their own resolution (their zone), the same slots
    other = person(deps, "other", "student", time_zone="America/Halifax")
    assert listed(deps, other, tutor) == in_halifax
    # the caller moves: the next answer is in their new zone
    profiles.save(deps, student, None, {"time_zone": "Asia/Tokyo"})
    in_tokyo = listed(deps, student, tutor)
    assert {s["time_zone"] for s in in_tokyo} == {"Asia/Tokyo"} != {"America/Halifax"}
    assert ids(in_tokyo) == ids(in_halifax)
    # a caller without a profile reads the tutor's zone; the tutor moves: so does the answer
    ghost = Identity("id-ghost", "ghost@example.test")
    assert {s["time_zone"] for s in listed(deps, ghost, tutor)} == {"Europe/Berlin"}
    profiles.save(deps, tutor, None, {"time_zone": "Europe/Lisbon"})
    assert {s["time_zone"] for s in listed(deps, ghost, tutor)} == {"Europe/Lisbon"}


def test_every_slot_change_shows_at_once(deps, tutor, student):
    window, slots = publish(deps, tutor)
    other = person(deps, "other", "student")
    assert len(listed(deps, student, tutor)) == 3
    own_all = listed(deps, tutor, tutor, status="all")

    booking = bookings.request(deps, other, slots[0].slot_id, None, None).booking
    assert slots[0].slot_id not in ids(listed(deps, student, tutor))
    assert listed(deps, tutor, tutor, status="all") != own_all
    bookings.respond(deps, tutor, booking.booking_id, "reject", None)
    assert slots[0].slot_id in ids(listed(deps, student, tutor))

    booking = bookings.request(deps, student, slots[1].slot_id, None, None).booking
    assert slots[1].slot_id not in ids(listed(deps, other, tutor))
    bookings.respond(deps, tutor, booking.booking_id, "accept", None)
    assert [s["slot_status"] for s in listed(deps, tutor, tutor, status="booked")] == ["booked"]
    assert slots[1].slot_id not in ids(listed(deps, other, tutor))
    bookings.cancel(deps, student, booking.booking_id, None)
    assert slots[1].slot_id in ids(listed(deps, other, tutor))

    _, more = publish(deps, tutor, start="14:00", end="15:00")
    assert more[0].slot_id in ids(listed(deps, student, tutor))
    availability.delete(deps, tutor, window.availability_id)
    assert ids(listed(deps, student, tutor)) == [more[0].slot_id]


def test_a_slot_leaves_the_answer_when_it_starts(deps, clock, tutor, student):
    _, slots = publish(deps, tutor)
    assert len(listed(deps, student, tutor)) == 3
    clock.current = slots[0].start - timedelta(microseconds=1)
    assert len(listed(deps, student, tutor)) == 3
    reads = deps.counts.slot_reads
    clock.current = slots[0].start  # started: no expiry job has run, no version changed
    assert ids(listed(deps, student, tutor)) == [s.slot_id for s in slots[1:]]
    assert deps.counts.slot_reads > reads
    # the tutor's own `all` listing does not change with the time alone...
    everything = listed(deps, tutor, tutor, status="all")
    assert [s["slot_status"] for s in everything] == ["available"] * 3
    # ...but with the expiry job, which writes the slot
    expiry.expire_slots(deps)
    everything = listed(deps, tutor, tutor, status="all")
    assert [s["slot_status"] for s in everything] == ["expired", "available", "available"]
    assert len(listed(deps, student, tutor)) == 2


def test_a_pending_request_expiring_shows(deps, clock, tutor, student):
    _, slots = publish(deps, tutor, start="09:00", end="10:00")
    days = {"from_date": "2026-12-01", "to_date": "2026-12-03"}  # the same key all along
    bookings.request(deps, student, slots[0].slot_id, None, None)
    assert listed(deps, tutor, tutor, status="pending", **days)
    assert listed(deps, tutor, tutor, status="expired", **days) == []
    clock.current = slots[0].start
    expiry.expire_slots(deps)
    assert listed(deps, tutor, tutor, status="pending", **days) == []
    assert len(listed(deps, tutor, tutor, status="expired", **days)) == 1


def test_the_default_range_follows_the_viewers_day(deps, clock, tutor, student):
    publish(deps, tutor, day="2026-12-30")  # 29 days after the clock's day, in range
    publish(deps, tutor, day="2026-12-31")  # 30 days: the last day of the default range
    publish(deps, tutor, day="2027-01-01")  # one day too far
    assert len(listed(deps, student, tutor)) == 6
    clock.advance(days=1)
    assert len(listed(deps, student, tutor)) == 9


def test_errors_are_those_of_the_uncached_answer(deps, tutor, student):
    publish(deps, tutor)
    listed(deps, tutor, tutor, status="all")  # cached for the tutor
    cases = [
        (SlotQuery(tutor_id=tutor.user_id, status="all"), Forbidden),
        (SlotQuery(tutor_id="nobody"), NotFound),
        (SlotQuery(tutor_id=student.user_id), NotFound),
        (SlotQuery(tutor_id=tutor.user_id, from_date="2026-12-05", to_date="2026-12-04"), None),
        (SlotQuery(tutor_id=tutor.user_id, to_date="2027-06-01"), ValidationFailed),
        (SlotQuery(tutor_id=tutor.user_id, status="sold"), ValidationFailed),
        (SlotQuery(tutor_id=tutor.user_id, time_zone="Mars/Olympus"), ValidationFailed),
        (SlotQuery(), ValidationFailed),
    ]
    for query, error in cases:
        error = error or ValidationFailed
        for attempt in range(2):
            with pytest.raises(error) as cached:
                teacher_slots_json(deps, student, query)
            with pytest.raises(error) as uncached:
                availability.tutor_slots(deps, student, query)
            assert (cached.value.code, cached.value.details) == (
                uncached.value.code,
                uncached.value.details,
            ), attempt


def test_no_versions_or_no_bytes_no_cache(deps, tutor, student):
    publish(deps, tutor)
    deps.answers = AnswerCache(AnswerCacheConfig(max_bytes=0))
    listed(deps, student, tutor)
    assert len(deps.answers) == 0

    deps.answers = AnswerCache(AnswerCacheConfig(max_bytes=1 << 20))
    deps.stores = replace(deps.stores, versions=None)  # as on the DynamoDB store
    listed(deps, student, tutor)
    reads = deps.counts.slot_reads
    listed(deps, student, tutor)
    assert len(deps.answers) == 0 and deps.counts.slot_reads == reads + 2


def test_the_route_sends_the_same_bytes_and_headers(deps, tutor, student):
    publish(deps, tutor)
    app = create_app(deps, run_jobs=False)
    token, _ = deps.issuer.issue(student.user_id, student.email)
    body = {"tutor_id": tutor.user_id}

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {token}"}
            return [
                await client.post("/get-teacher-slots", json=body, headers=headers)
                for _ in range(2)
            ]

    miss, hit = asyncio.run(go())
    expected = fresh(deps, student, SlotQuery(tutor_id=tutor.user_id))
    for response in (miss, hit):
        assert response.status_code == 200
        assert response.content == expected
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-length"] == str(len(expected))
    assert sorted(key[0] for key in deps.answers._entries) == ["slot-query", "slots"]


def test_a_query_is_built_from_the_body():
    from skillsession.http.routers.availability import SlotsBody

    body = SlotsBody(tutor_email="t@example.test", from_date="2026-12-01", status="all")
    assert body.query() == replace(
        SlotQuery(), tutor_email="t@example.test", from_date="2026-12-01", status="all"
    )
    assert body.query() == SlotQuery(**body.model_dump())
