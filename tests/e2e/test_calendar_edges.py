"""Calendar edges, huge integers and odd zones are ordinary bad input (API.md, Conventions): a 4xx
with the error body, never a 5xx. Against the real server process over HTTP.

`test_the_edges_that_were_500s` pins the cases found by hand (issue 11, item 7); the property
tests below walk every date, time, zone, integer and cursor field of every route with values at
the edges (hypothesis), so that the next such field cannot slip. test_errors.py holds the
ordinary error paths and test_openapi_fuzz.py the schema-driven fuzzing (which draws from the
documented patterns, not from the calendar's edges).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e2e.schema_check import check

SHAPES = ("sqlite",)  # validation happens at the edge, before any store is asked

TODAY = datetime.now(UTC).date()
EDGE_DATES = [
    "0001-01-01",
    "0001-01-02",
    "1969-12-31",
    "1970-01-01",
    "2200-12-31",
    "2201-01-01",
    "9999-12-30",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "2028-02-29",
    (TODAY + timedelta(days=1)).isoformat(),
    (TODAY + timedelta(days=364)).isoformat(),
]
EDGE_TIMES = ["00:00", "23:00", "23:59", "24:00", "24:01", "00:60", "99:99", "9:00", "12:00"]
ZONES = [
    "Pacific/Kiritimati",  # UTC+14
    "Etc/GMT+12",  # UTC-12
    "Etc/GMT-14",
    "America/St_Johns",  # -03:30
    "Asia/Kathmandu",  # +05:45
    "America/Santiago",  # midnight DST gaps
    "Australia/Lord_Howe",  # a half-hour DST change
    "UTC",
    "Not/A_Zone",
    "Europe",  # a directory of the zone database
    "../../etc/passwd",
    "posixrules",
    "",
    "Europe/Berlin\x00",
]
HUGE = [0, -1, 1, 15, 240, 241, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**64), 10**30]
EDGE_INSTANTS = [
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2026-12-01T08:00:00Z",
    "not an instant",
]


def cursor_of(key: list) -> str:
    """A list cursor as the service writes one (base64 of a JSON array), holding `key`."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


dates = st.one_of(st.sampled_from(EDGE_DATES), st.dates().map(date.isoformat))
times = st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.tuples(st.integers(0, 30), st.integers(0, 70)).map(lambda hm: f"{hm[0]:02d}:{hm[1]:02d}"),
)
zones = st.sampled_from(ZONES)
ints = st.one_of(st.sampled_from(HUGE), st.integers())
cursor_keys = st.one_of(
    st.tuples(st.sampled_from(EDGE_INSTANTS), st.text(max_size=70)).map(list),
    st.lists(st.one_of(st.text(max_size=30), st.integers(), st.none()), max_size=3),
)
cursors = st.one_of(
    cursor_keys.map(cursor_of),
    st.text(max_size=40),
)
EDGES = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is not luck
    suppress_health_check=[HealthCheck.too_slow],
)


def assert_no_5xx(r: httpx.Response) -> httpx.Response:
    assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text[:500])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/json"), r.headers
        body = r.json()
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "details"}, body
        assert isinstance(body["error"]["details"], dict)
    return check(r)  # and the documented shape, for the status it has


def post_raw(api, path: str, body: dict) -> httpx.Response:
    """POST JSON as text: Python writes integers of any size."""
    headers = api.headers({"Content-Type": "application/json"})
    return api.http.post(path, content=json.dumps(body).encode(), headers=headers)


def test_the_edges_that_were_500s(student, tutor):
    """Each of these answered 500 (issue 11, item 7)."""
    cases = [
        (tutor, "GET", "/get-teacher-bookings", {"to_date": "9999-12-31"}),
        (student, "GET", "/get-student-bookings", {"to_date": "9999-12-31"}),
        (student, "GET", "/get-student-bookings", {"from_date": "0001-01-01"}),
        (
            student,
            "GET",
            "/get-student-bookings",
            {"cursor": cursor_of(["0001-01-01T00:00:00+01:00", "x"])},
        ),
        (
            tutor,
            "GET",
            "/get-pending-booking-slots",
            {"cursor": cursor_of(["9999-12-31T23:59:59-01:00", "x"])},
        ),
        (
            student,
            "POST",
            "/get-user-profiles-and-teacher-search",
            {"skill": "python", "available_from": "9999-12-31"},
        ),
        (
            student,
            "POST",
            "/get-user-profiles-and-teacher-search",
            {"skill": "python", "available_to": "9999-12-31"},
        ),
        (
            student,
            "POST",
            "/get-teacher-slots",
            {"tutor_id": tutor.user_id, "from_date": "9999-12-30", "time_zone": "Asia/Tokyo"},
        ),
        (
            student,
            "POST",
            "/get-teacher-slots",
            {
                "tutor_id": tutor.user_id,
                "from_date": "0001-01-01",
                "to_date": "0001-01-02",
                "time_zone": "Pacific/Kiritimati",
            },
        ),
        (
            tutor,
            "POST",
            "/create-availability",
            {"date": "9999-12-31", "start_time": "23:00", "end_time": "24:00"},
        ),
        (
            tutor,
            "POST",
            "/create-availability",
            {
                "date": (TODAY + timedelta(days=3)).isoformat(),
                "start_time": "09:00",
                "end_time": "10:00",
                "slot_minutes": 2**64,
            },
        ),
    ]
    for api, method, path, params in cases:
        if method == "GET":
            r = api.http.get(path, params=params, headers=api.headers())
        else:
            r = post_raw(api, path, params)
        assert r.status_code == 422, (path, params, r.status_code, r.text[:300])
        assert_no_5xx(r)


def test_a_validation_error_on_a_huge_integer_is_encoded(tutor):
    """The 422 for `slot_minutes` = 2**64 names the field (it used to fail to encode)."""
    r = post_raw(
        tutor,
        "/create-availability",
        {
            "date": (TODAY + timedelta(days=3)).isoformat(),
            "start_time": "09:00",
            "end_time": "10:00",
            "slot_minutes": 2**64,
        },
    )
    assert r.status_code == 422, r.text
    assert "slot_minutes" in r.json()["error"]["details"]


# -- every date, time, zone, integer and cursor field of every route ----------------------------


def edged(valid: dict, **edges: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A request that is valid but for one to three fields drawn from the edges (one odd field
    in an otherwise good request reaches deepest; two at once try their interplay)."""

    def build(chosen: frozenset) -> st.SearchStrategy[dict]:
        fields = {k: st.just(v) for k, v in valid.items()}
        fields.update({k: edges[k] for k in chosen})
        return st.fixed_dictionaries(fields)

    return st.sets(st.sampled_from(sorted(edges)), min_size=1, max_size=2).flatmap(build)


SOON = (TODAY + timedelta(days=3)).isoformat()


@EDGES
@given(
    body=edged(
        {"time_zone": "UTC"},
        from_date=dates,
        to_date=dates,
        time_zone=zones,
        status=st.sampled_from(["all", "available", "x"]),
        limit=ints,
        cursor=cursors,
    )
)
def test_teacher_slots(student, tutor, body):
    for api in (student, tutor):
        r = post_raw(api, "/get-teacher-slots", {"tutor_id": tutor.user_id, **body})
        assert_no_5xx(r)


# the day's last hour: valid, and at an edge of its own (24:00 is the next day)
WINDOW = {"date": SOON, "start_time": "23:00", "end_time": "24:00", "time_zone": "UTC"}
window = edged(
    WINDOW,
    date=dates,
    end_date=dates,
    start_time=times,
    end_time=times,
    time_zone=zones,
    slot_minutes=ints,
)


@EDGES
@given(one=window, many=st.lists(window, min_size=1, max_size=3))
def test_create_availability(tutor, one, many):
    assert_no_5xx(post_raw(tutor, "/create-availability", one))
    assert_no_5xx(post_raw(tutor, "/create-availability", {"windows": many}))


@EDGES
@given(
    query=edged(
        {},
        from_date=dates,
        to_date=dates,
        limit=ints,
        cursor=cursors,
        status=st.sampled_from(["all", "pending", "nope"]),
    )
)
def test_booking_lists(student, tutor, query):
    params = {k: str(v) for k, v in query.items()}
    for api, path in (
        (tutor, "/get-teacher-bookings"),
        (student, "/get-student-bookings"),
        (student, "/get-pending-booking-slots"),
        (tutor, "/get-pending-booking-slots"),
    ):
        assert_no_5xx(api.http.get(path, params=params, headers=api.headers()))


@EDGES
@given(
    body=edged(
        {"skill": "python"},
        available_from=dates,
        available_to=dates,
        limit=ints,
        cursor=cursors,
    )
)
def test_tutor_search(student, body):
    assert_no_5xx(post_raw(student, "/get-user-profiles-and-teacher-search", body))


@EDGES
@given(
    body=edged({}, time_zone=zones, start_year=ints, end_year=ints, experience_years=ints),
    role=st.sampled_from(["student", "tutor"]),
)
def test_profile_fields(student, tutor, body, role):
    api = student if role == "student" else tutor
    assert_no_5xx(post_raw(api, "/save-user-details", {"role": role, **body}))


@EDGES
@given(expires=st.one_of(ints.map(str), st.text(max_size=25)), signature=st.text(max_size=10))
def test_media_expiry(anon, expires, signature):
    r = anon.http.get("/media/avatars/x.png", params={"expires": expires, "signature": signature})
    assert_no_5xx(r)
