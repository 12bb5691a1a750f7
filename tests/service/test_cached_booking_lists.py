"""Cached booking lists (http/list_cache.py) are always the answer rendered afresh: after every
kind of booking change (request, accept, reject, cancel, the expiry job), after either party
edits their profile or the caller changes zone, as time passes, page by page, with the same
errors; on the memory store and on SQLite, and never cached without versions or without bytes."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import orjson
import pytest
from service_fakes import counting
from service_fakes import person as fake_person

from skillsession.domain.availability import WindowRequest
from skillsession.domain.errors import DomainError
from skillsession.domain.model import Role
from skillsession.http import list_cache, views
from skillsession.http.app import create_app
from skillsession.service import availability, bookings, expiry, profiles
from skillsession.service.answer_cache import AnswerCache, AnswerCacheConfig
from skillsession.service.bookings import BookingQuery

TUTOR, STUDENT = Role.TUTOR, Role.STUDENT


@pytest.fixture
def deps(deps, real_store):
    deps.stores, deps.counts = counting(
        real_store,
        list_reads=("bookings_for_tutor", "bookings_for_student"),
        profile_reads=("get_profile",),
    )
    return deps


def person(deps, name: str, role: Role, **fields):
    return fake_person(deps, name, role, **fields)


@pytest.fixture
def tutor(deps):
    return person(deps, "tutor", TUTOR, teaching_skills="Python", time_zone="Europe/Berlin")


@pytest.fixture
def student(deps):
    return person(deps, "student", STUDENT, time_zone="America/Halifax")


@pytest.fixture
def slots(deps, tutor):
    window = WindowRequest("2026-12-02", "09:00", "15:00")
    return availability.create(deps, tutor, [window])[1]


# -- the answer, cached and fresh --------------------------------------------------------------
def fresh(deps, identity, role: Role | None, **query) -> bytes:
    """The answer without the cache: what the routes rendered before there was one."""
    if role is None:
        found = bookings.pending(deps, identity, query.get("limit"), query.get("cursor"))
    else:
        found = bookings.for_role(deps, identity, role, BookingQuery(**query))
    return orjson.dumps(views.booking_list(found))


def cached(deps, identity, role: Role | None, **query) -> bytes:
    if role is None:
        return list_cache.pending_json(deps, identity, query.get("limit"), query.get("cursor"))
    return list_cache.bookings_json(deps, identity, role, BookingQuery(**query))


def listed(deps, identity, role: Role | None, **query) -> dict:
    """The (maybe cached) answer, checked against the fresh one."""
    answer = cached(deps, identity, role, **query)
    assert answer == fresh(deps, identity, role, **query)
    return orjson.loads(answer)


def statuses(answer: dict) -> list[str]:
    return [b["booking_status"] for b in answer["bookings"]]


def look_everywhere(deps, tutor, student) -> dict[str, dict]:
    """Every list either party reads, each checked against its fresh answer."""
    return {
        "tutor pending": listed(deps, tutor, None),
        "student pending": listed(deps, student, None),
        "tutor all": listed(deps, tutor, TUTOR),
        "student all": listed(deps, student, STUDENT),
        "tutor accepted": listed(deps, tutor, TUTOR, status="accepted"),
        "student day": listed(deps, student, STUDENT, from_date="2026-12-02", to_date="2026-12-02"),
    }


# -- tests -----------------------------------------------------------------------------------
def test_a_repeated_question_reads_no_bookings(deps, tutor, student, slots):
    bookings.request(deps, student, slots[0].slot_id, "hi", None)
    first = listed(deps, tutor, TUTOR)
    reads = deps.counts.list_reads
    assert orjson.loads(cached(deps, tutor, TUTOR)) == first and len(first["bookings"]) == 1
    assert deps.counts.list_reads == reads  # served from the cache
    # another status, range, limit or cursor is another answer...
    cached(deps, tutor, TUTOR, status="pending")
    cached(deps, tutor, TUTOR, limit=10)
    cached(deps, tutor, TUTOR, from_date="2026-12-02")
    assert deps.counts.list_reads == reads + 3
    # ...and so is the pending list (its own entry, though it shows the same bookings)
    listed(deps, tutor, None)
    assert deps.counts.list_reads == reads + 3 + 2  # `listed` renders afresh once too
    assert len(deps.answers) == 5
    # a hit reads the version only: not the caller's profile either
    profile_reads = deps.counts.profile_reads
    assert cached(deps, tutor, TUTOR, limit=10) and cached(deps, tutor, None)
    assert (deps.counts.list_reads, deps.counts.profile_reads) == (reads + 5, profile_reads)


def test_every_booking_change_shows_at_once(deps, tutor, student, slots):
    other = person(deps, "other", STUDENT)
    before = look_everywhere(deps, tutor, student)
    assert all(answer["bookings"] == [] for answer in before.values())

    first = bookings.request(deps, student, slots[0].slot_id, "first", None).booking
    seen = look_everywhere(deps, tutor, student)
    assert statuses(seen["tutor pending"]) == statuses(seen["student pending"]) == ["pending"]
    bookings.respond(deps, tutor, first.booking_id, "reject", "busy")
    seen = look_everywhere(deps, tutor, student)
    assert seen["tutor pending"]["bookings"] == [] and statuses(seen["tutor all"]) == ["rejected"]
    assert seen["student all"]["bookings"][0]["reason"] == "busy"

    second = bookings.request(deps, student, slots[1].slot_id, None, None).booking
    look_everywhere(deps, tutor, student)
    bookings.respond(deps, tutor, second.booking_id, "accept", None)
    seen = look_everywhere(deps, tutor, student)
    assert statuses(seen["tutor accepted"]) == ["accepted"]
    assert seen["student all"]["bookings"][1]["slot"]["slot_status"] == "booked"
    bookings.cancel(deps, tutor, second.booking_id, "ill")  # the tutor cancels
    seen = look_everywhere(deps, tutor, student)
    assert seen["tutor accepted"]["bookings"] == []
    assert statuses(seen["student all"]) == ["rejected", "cancelled"]

    third = bookings.request(deps, student, slots[2].slot_id, None, "key").booking
    look_everywhere(deps, tutor, student)
    bookings.request(deps, student, slots[2].slot_id, None, "key")  # a replay changes nothing
    bookings.cancel(deps, student, third.booking_id, None)  # the student withdraws
    seen = look_everywhere(deps, tutor, student)
    assert statuses(seen["student all"]) == ["rejected", "cancelled", "cancelled"]

    # another student's booking with the same tutor: the tutor's lists change, not this student's
    other_booking = bookings.request(deps, other, slots[3].slot_id, None, None).booking
    seen = look_everywhere(deps, tutor, student)
    assert [b["booking_id"] for b in seen["tutor pending"]["bookings"]] == [
        other_booking.booking_id
    ]
    assert len(listed(deps, other, STUDENT)["bookings"]) == 1


def test_the_expiry_job_shows_at_once_and_time_alone_changes_nothing(
    deps, clock, tutor, student, slots
):
    pending = bookings.request(deps, student, slots[0].slot_id, None, None).booking
    accepted = bookings.request(deps, student, slots[1].slot_id, None, None).booking
    bookings.respond(deps, tutor, accepted.booking_id, "accept", None)
    assert statuses(look_everywhere(deps, tutor, student)["tutor all"]) == ["pending", "accepted"]

    clock.current = slots[1].end  # both slots are over; the job has not run
    reads = deps.counts.list_reads
    assert cached(deps, tutor, TUTOR) == fresh(deps, tutor, TUTOR)  # still pending, accepted
    assert deps.counts.list_reads == reads + 1  # the hit read nothing; `fresh` read once

    expiry.expire_slots(deps)
    seen = look_everywhere(deps, tutor, student)
    assert statuses(seen["tutor all"]) == ["expired", "completed"]
    assert seen["tutor pending"]["bookings"] == seen["student pending"]["bookings"] == []
    assert pending.booking_id in {b["booking_id"] for b in seen["student all"]["bookings"]}

    # a completion on its own (the job expires nothing else this time)
    later = bookings.request(deps, student, slots[3].slot_id, None, None).booking
    bookings.respond(deps, tutor, later.booking_id, "accept", None)
    assert statuses(look_everywhere(deps, tutor, student)["student all"])[-1] == "accepted"
    clock.current = slots[3].end
    expiry.expire_slots(deps)
    assert statuses(look_everywhere(deps, tutor, student)["student all"])[-1] == "completed"


def test_profile_edits_show_at_once(deps, tutor, student, slots):
    bookings.request(deps, student, slots[0].slot_id, None, None)
    seen = look_everywhere(deps, tutor, student)
    assert seen["student all"]["bookings"][0]["tutor"]["name"] == "Tutor"
    assert seen["tutor all"]["bookings"][0]["start_time"] == "09:00"  # Berlin

    # the other party renames themselves
    profiles.save(deps, tutor, None, {"first_name": "Ada", "last_name": "Lovelace"})
    seen = look_everywhere(deps, tutor, student)
    assert seen["student all"]["bookings"][0]["tutor"]["name"] == "Ada Lovelace"
    profiles.save(deps, student, None, {"last_name": "Student"})
    seen = look_everywhere(deps, tutor, student)
    assert seen["tutor pending"]["bookings"][0]["student"]["name"] == "Student Student"

    # the caller changes zone: local fields, and the days `from_date`/`to_date` name
    profiles.save(deps, tutor, None, {"time_zone": "Asia/Tokyo"})
    seen = look_everywhere(deps, tutor, student)
    first = seen["tutor all"]["bookings"][0]
    assert (first["time_zone"], first["start_time"]) == ("Asia/Tokyo", "17:00")
    assert seen["student all"]["bookings"][0]["time_zone"] == "America/Halifax"
    late = listed(deps, tutor, TUTOR, from_date="2026-12-02", to_date="2026-12-02")
    assert len(late["bookings"]) == 1
    # a photo is not in the lists, yet a profile write all the same: still the fresh answer
    deps.stores.profiles.set_profile_image(student.user_id, "img/student.png")
    look_everywhere(deps, tutor, student)


def test_pages_follow_their_cursor(deps, tutor, student, slots):
    deps.settings.max_pending_per_tutor = 5  # one student's five requests to page through
    for slot in slots[:5]:
        bookings.request(deps, student, slot.slot_id, None, None)

    def walk() -> list[str]:
        found, cursor = [], None
        while True:
            page = listed(deps, tutor, TUTOR, limit=2, cursor=cursor)
            found += [b["booking_id"] for b in page["bookings"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    everything = walk()
    assert len(everything) == 5 and walk() == everything
    booking = deps.stores.bookings.get_booking(everything[2])
    bookings.respond(deps, tutor, booking.booking_id, "accept", None)
    assert walk() == everything
    pending_page = listed(deps, tutor, None, limit=2)
    assert [b["booking_id"] for b in pending_page["bookings"]] == everything[:2]
    second_page = listed(deps, tutor, None, limit=2, cursor=pending_page["next_cursor"])
    assert [b["booking_id"] for b in second_page["bookings"]] == everything[3:5]


def test_errors_are_those_of_the_uncached_answer(deps, tutor, student, slots):
    bookings.request(deps, student, slots[0].slot_id, None, None)
    listed(deps, tutor, TUTOR)
    listed(deps, tutor, None)
    nobody = type(tutor)(user_id="id-nobody", email="nobody@example.test")
    cases = [
        (tutor, STUDENT, {}),  # the wrong role
        (student, TUTOR, {}),
        (nobody, TUTOR, {}),  # no profile
        (nobody, None, {}),
        (tutor, TUTOR, {"status": "sold"}),
        (tutor, TUTOR, {"limit": 0}),
        (tutor, None, {"limit": 500}),
        (tutor, TUTOR, {"cursor": "garbage"}),
        (tutor, None, {"cursor": "W10"}),
        (tutor, TUTOR, {"from_date": "2026-13-01"}),
    ]
    for identity, role, query in cases:
        for attempt in range(2):
            with pytest.raises(DomainError) as from_cache:
                cached(deps, identity, role, **query)
            with pytest.raises(DomainError) as uncached:
                fresh(deps, identity, role, **query)
            got, expected = from_cache.value, uncached.value
            assert (type(got), got.code, got.details) == (
                type(expected),
                expected.code,
                expected.details,
            ), (query, attempt)


def test_no_versions_or_no_bytes_no_cache(deps, tutor, student, slots):
    bookings.request(deps, student, slots[0].slot_id, None, None)
    deps.answers = AnswerCache(AnswerCacheConfig(max_bytes=0))
    listed(deps, tutor, TUTOR)
    assert len(deps.answers) == 0

    deps.answers = AnswerCache(AnswerCacheConfig(max_bytes=1 << 20))
    deps.stores = replace(deps.stores, versions=None)  # as on the DynamoDB store
    listed(deps, tutor, TUTOR)
    reads = deps.counts.list_reads
    listed(deps, tutor, TUTOR)
    assert len(deps.answers) == 0 and deps.counts.list_reads == reads + 2


def test_slots_and_lists_share_one_budget_without_sharing_entries(deps, tutor, student, slots):
    from skillsession.http.slot_cache import teacher_slots_json
    from skillsession.service.availability import SlotQuery

    bookings.request(deps, student, slots[0].slot_id, None, None)
    teacher_slots_json(deps, student, SlotQuery(tutor_id=tutor.user_id))
    listed(deps, tutor, TUTOR)
    listed(deps, student, STUDENT)
    cache = deps.answers
    assert len(cache) == 4  # with the slot query's remembered resolution
    assert {key[0] for key in cache._entries} == {"slots", "slot-query", "bookings"}


@pytest.mark.parametrize("fast_routes", [True, False])
def test_the_routes_send_the_same_bytes_and_headers(deps, tutor, student, slots, fast_routes):
    bookings.request(deps, student, slots[0].slot_id, None, None)
    settings = deps.settings.model_copy(update={"fast_routes": fast_routes})
    app = create_app(replace(deps, settings=settings), run_jobs=False)
    token, _ = deps.issuer.issue(tutor.user_id, tutor.email)

    async def go(path, params):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {token}"}
            return [await client.get(path, params=params, headers=headers) for _ in range(2)]

    for path, role, params in (
        ("/get-pending-booking-slots", None, {}),
        ("/get-teacher-bookings", TUTOR, {"status": "pending", "limit": "5"}),
    ):
        miss, hit = asyncio.run(go(path, params))
        query = {k: int(v) if k == "limit" else v for k, v in params.items()}
        expected = fresh(deps, tutor, role, **query)
        for response in (miss, hit):
            assert response.status_code == 200
            assert response.content == expected
            assert response.headers["content-type"] == "application/json"
            assert response.headers["content-length"] == str(len(expected))
