"""The work one request may cause is bounded (issue 11, item 15): a slot read answers at most
MAX_SLOTS_PER_ANSWER slots and pages the rest (limit / cursor / next_cursor, as API.md's
lists), and one create-availability publishes at most MAX_SLOTS_PER_REQUEST slots. How the
server's other requests fare meanwhile is a figure of `make bench` (bench/hostile.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from skillsession.domain.availability import MAX_SLOTS_PER_REQUEST
from skillsession.service.availability import MAX_SLOTS_PER_ANSWER

SHAPES = ("sqlite",)  # paging is the service's; each store's `limit` is in the contract tests
FIRST = datetime.now(UTC).date() + timedelta(days=2)


def all_day(i: int) -> dict:
    return {
        "date": (FIRST + timedelta(days=i)).isoformat(),
        "start_time": "00:00",
        "end_time": "24:00",
        "time_zone": "UTC",
        "slot_minutes": 15,
    }


@pytest.fixture(scope="module")
def busy_tutor(anon):
    """A tutor with every quarter-hour of 20 days published: 1,920 slots."""
    tutor = anon.as_new_user("tutor", "busy-tutor", time_zone="UTC")
    for part in range(2):
        r = tutor.post(
            "/create-availability", {"windows": [all_day(part * 10 + i) for i in range(10)]}
        )
        assert r.status_code == 201, r.text
    return tutor


def slots_query(tutor, **extra) -> dict:
    return {
        "tutor_id": tutor.user_id,
        "from_date": FIRST.isoformat(),
        "to_date": (FIRST + timedelta(days=30)).isoformat(),
        "time_zone": "UTC",
        **extra,
    }


def test_one_request_publishes_a_bounded_number_of_slots(anon, busy_tutor):
    windows = [all_day(40 + i) for i in range(11)]  # 1,056 slots
    assert MAX_SLOTS_PER_REQUEST < 11 * 96
    r = busy_tutor.post("/create-availability", {"windows": windows})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "too_many_slots"
    assert busy_tutor.post("/create-availability", {"windows": windows[:10]}).status_code == 201


def test_a_large_range_comes_in_pages(student, busy_tutor):
    pages, cursor = [], None
    while True:
        body = slots_query(busy_tutor, **({"cursor": cursor} if cursor else {}))
        r = student.post("/get-teacher-slots", body)
        assert r.status_code == 200, r.text
        answer = r.json()
        pages.append(answer["slots"])
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [MAX_SLOTS_PER_ANSWER, 1920 - MAX_SLOTS_PER_ANSWER]
    starts = [s["start"] for page in pages for s in page]
    assert starts == sorted(set(starts))  # in order, none twice
    assert starts[0] == f"{FIRST.isoformat()}T00:00:00Z"
    assert starts[-1] == f"{(FIRST + timedelta(days=19)).isoformat()}T23:45:00Z"


def test_a_small_limit_pages_the_same_slots(student, busy_tutor):
    r = student.post("/get-teacher-slots", slots_query(busy_tutor, limit=MAX_SLOTS_PER_ANSWER))
    whole = r.json()["slots"]
    seen, cursor = [], None
    for _ in range(3):
        body = slots_query(busy_tutor, limit=7, **({"cursor": cursor} if cursor else {}))
        answer = student.post("/get-teacher-slots", body).json()
        assert len(answer["slots"]) == 7
        seen += answer["slots"]
        cursor = answer["next_cursor"]
    assert seen == whole[:21]


def test_a_short_range_is_one_page(student, busy_tutor):
    day = FIRST.isoformat()
    answer = student.post(
        "/get-teacher-slots", slots_query(busy_tutor, from_date=day, to_date=day)
    ).json()
    assert len(answer["slots"]) == 96 and answer["next_cursor"] is None


@pytest.mark.parametrize(
    "extra",
    [
        {"limit": 0},
        {"limit": MAX_SLOTS_PER_ANSWER + 1},
        {"cursor": "not-a-cursor"},
        {"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwIl0"},  # ["0001-01-01T00:00:00+01:00"]
    ],
)
def test_bad_pages_are_422(student, busy_tutor, extra):
    r = student.post("/get-teacher-slots", slots_query(busy_tutor, **extra))
    assert r.status_code == 422, r.text
