"""The thin dispatch of the hot routes (http/fast.py) answers exactly as FastAPI does.

Every request of a matrix of good and bad ones goes to two apps over the same store: one with
`fast_routes` on, one with it off (FastAPI alone). Status, body and headers must be equal, and
each request must have been served by the path expected (thin, or FastAPI after a fallback)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import jwt
import orjson
import pytest
from service_fakes import person as fake_person

from skillsession.adapters.store.sqlite import open_file
from skillsession.domain.availability import WindowRequest
from skillsession.domain.model import Role
from skillsession.http.app import create_app
from skillsession.http.fast import FastDispatch
from skillsession.service import availability, bookings

DAY = "2026-12-03"  # the fake clock's now is 2026-12-01 08:00 UTC
THIN, FALLBACK, GUARD = "thin", "fallback", "guard"  # who answered
FAST_PATHS = {
    ("POST", "/get-teacher-slots"),
    ("POST", "/get-user-profiles-and-teacher-search"),
    ("POST", "/create-booking-request"),
    ("GET", "/get-pending-booking-slots"),
    ("GET", "/get-teacher-bookings"),
    ("GET", "/get-student-bookings"),
}


def person(deps, name, role, **fields):
    return fake_person(deps, name, Role(role), **fields)


@pytest.fixture
def world(deps, tmp_path):
    store = open_file(tmp_path / "fast.db")
    store.admin.migrate()
    deps.stores = store
    deps.settings = deps.settings.model_copy(update={"max_body_bytes": 4096})
    w = {
        "tutor": person(
            deps,
            "tutor",
            "tutor",
            teaching_skills="Python, Go",
            time_zone="Europe/Berlin",
            mobile_number="+1 555 0100",
        ),
        "other_tutor": person(deps, "other-tutor", "tutor", teaching_skills="Python"),
        "student": person(deps, "student", "student", time_zone="America/Halifax"),
        "other_student": person(deps, "other-student", "student", mobile_number="+1 555 0200"),
    }
    window = WindowRequest(date=DAY, start_time="08:00", end_time="20:00", time_zone="UTC")
    _, slots = availability.create(deps, w["tutor"], [window])
    w["slots"] = [s.slot_id for s in slots]
    bookings.request(deps, w["student"], w["slots"][0], "hello", None)  # pending
    bookings.request(deps, w["other_student"], w["slots"][1], None, None)
    taken = bookings.request(deps, w["student"], w["slots"][2], None, None)
    bookings.respond(deps, w["tutor"], taken.booking.booking_id, "accept", None)
    w["tokens"] = {
        name: deps.issuer.issue(w[name].user_id, w[name].email)[0]
        for name in ("tutor", "other_tutor", "student", "other_student")
    }
    w["tokens"]["expired"] = deps.issuer.issue(w["student"].user_id, w["student"].email, -120)[0]
    w["tokens"]["forged"] = jwt.encode({"sub": w["student"].user_id}, "x" * 32, algorithm="HS256")
    w["tokens"]["garbage"] = "not-a-jwt"
    yield w
    store.admin.close()


def make_app(deps, **settings):
    return create_app(
        replace(deps, settings=deps.settings.model_copy(update=settings)), run_jobs=False
    )


@pytest.fixture
def apps(deps, world):
    fast, slow = make_app(deps, fast_routes=True), make_app(deps, fast_routes=False)
    assert set(fast.state.fast_routes) == FAST_PATHS
    assert slow.state.fast_routes == {}
    return fast, slow


def watch(app) -> list:
    """Records which path answered each request of `app`: thin, FastAPI after a fallback."""
    seen = []
    for dispatch in app.state.fast_routes.values():
        serve, fall_back = dispatch.serve, dispatch.fall_back

        def on_serve(scope, body, serve=serve):
            seen.append(THIN)
            return serve(scope, body)

        async def on_fall_back(*args, fall_back=fall_back):
            seen[-1] = FALLBACK
            await fall_back(*args)

        dispatch.serve, dispatch.fall_back = on_serve, on_fall_back
    return seen


def call(app, method, path, token=None, headers=None, **kwargs) -> httpx.Response:
    if headers is None and kwargs.get("content"):  # a JSON body, unless headers are given
        headers = {"Content-Type": "application/json"}
    headers = list(dict(headers).items() if isinstance(headers, dict) else headers or [])
    if token is not None and not any(name.lower() == "authorization" for name, _ in headers):
        headers.append(("Authorization", f"Bearer {token}"))

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(go())


def same(a: httpx.Response, b: httpx.Response) -> None:
    assert (a.status_code, a.content) == (b.status_code, b.content)
    ha = {k: v for k, v in a.headers.multi_items() if k != "x-request-id"}
    hb = {k: v for k, v in b.headers.multi_items() if k != "x-request-id"}
    assert ha == hb
    assert len(a.headers.get_list("x-request-id")) == 1 == len(b.headers.get_list("x-request-id"))
    assert a.headers["content-type"] == "application/json"


def check(apps, expected_path, method, path, *, as_=None, tokens=None, **kwargs):
    fast, slow = apps
    seen = watch(fast)
    token = None if as_ is None else tokens[as_]
    a = call(fast, method, path, token, **kwargs)
    b = call(slow, method, path, token, **kwargs)
    same(a, b)
    assert (seen[-1] if seen else GUARD) == expected_path, (a.status_code, a.text)
    return a


# (who answers in the fast app, actor, kwargs, expected status)
SLOTS = "/get-teacher-slots"
SLOT_CASES = [
    (THIN, "student", {"json": {"tutor_id": "id-tutor"}}, 200),
    (THIN, "student", {"json": {"tutor_email": "tutor@example.test", "from_date": DAY}}, 200),
    (THIN, "tutor", {"json": {"tutor_id": "id-tutor", "status": "all", "to_date": DAY}}, 200),
    (THIN, "student", {"json": {"tutor_id": "id-tutor", "time_zone": "Asia/Tokyo"}}, 200),
    (THIN, "student", {"json": {"tutor_id": "id-nobody"}}, 404),
    (THIN, "student", {"json": {"tutor_id": "id-student"}}, 404),
    (THIN, "student", {"json": {"tutor_id": "id-tutor", "status": "all"}}, 403),
    (THIN, "student", {"json": {"tutor_id": "id-tutor", "time_zone": "Mars/Base"}}, 422),
    (
        THIN,
        "student",
        {"json": {"tutor_id": "id-tutor", "from_date": "2026-12-09", "to_date": DAY}},
        422,
    ),
    (THIN, "student", {"json": {}}, 422),
    (THIN, "expired", {"json": {"tutor_id": "id-tutor"}}, 401),
    (THIN, "forged", {"json": {"tutor_id": "id-tutor"}}, 401),
    (THIN, "garbage", {"json": {"tutor_id": "id-tutor"}}, 401),
    (THIN, "garbage", {"json": {"tutor_id": "x" * 65}}, 401),  # auth before validation
    (THIN, "student", {"json": {"tutor_id": "id-tutor"}, "headers": {"X-Request-Id": "abc"}}, 200),
    (THIN, "student", {"json": {"tutor_id": "id-tutor"}, "params": {"x": "1"}}, 200),
    (
        THIN,
        "student",
        {
            "content": b'{"tutor_id": "id-tutor"}',
            "headers": {"Content-Type": "application/json;charset=UTF-8"},
        },
        200,
    ),
    (FALLBACK, "student", {"content": b'\xef\xbb\xbf{"tutor_id": "id-tutor"}'}, 200),
    (FALLBACK, None, {"json": {"tutor_id": "id-tutor"}}, 401),
    (FALLBACK, None, {"content": b'{"tutor_id":'}, 400),  # JSON before auth
    (FALLBACK, "student", {"content": b'{"tutor_id":'}, 400),
    (FALLBACK, "student", {"content": b'{"tutor_id": NaN}'}, 422),
    (FALLBACK, "student", {"content": b"[1, 2]"}, 422),
    (FALLBACK, "student", {"content": b'{"tutor_id": "id-tutor"}', "headers": {}}, 422),
    (
        GUARD,
        "student",
        {"content": b'{"tutor_id": "id-tutor"}', "headers": {"Content-Type": ""}},
        415,
    ),
    (FALLBACK, "student", {"content": b"null"}, 422),
    (FALLBACK, "student", {"content": b""}, 422),
    (FALLBACK, "student", {"json": {"tutor_id": "x" * 65}}, 422),
    (FALLBACK, "student", {"json": {"tutor_id": "id-tutor", "from_date": "tomorrow"}}, 422),
    (FALLBACK, "student", {"json": {"tutor_email": "not-an-email"}}, 422),
    (
        FALLBACK,
        "student",
        {"json": {"tutor_id": "id-tutor"}, "headers": {"Authorization": "Basic abc"}},
        401,
    ),
    (
        FALLBACK,
        "student",
        {"json": {"tutor_id": "id-tutor"}, "headers": {"Content-Type": "application/x+json"}},
        200,
    ),
    (
        FALLBACK,
        "student",
        {
            "json": {"tutor_id": "id-tutor"},
            "headers": {"Content-Type": "application/json; charset=latin-1"},
        },
        200,
    ),
    (
        FALLBACK,
        "student",
        {
            "json": {"tutor_id": "id-tutor"},
            "headers": [("Authorization", "Bearer x"), ("Authorization", "Bearer y")],
        },
        401,
    ),
    (
        GUARD,
        "student",
        {"json": {"tutor_id": "id-tutor"}, "headers": {"Content-Type": "text/plain"}},
        415,
    ),
    (GUARD, "student", {"json": {"tutor_id": "id-tutor" + " " * 5000}}, 413),
]

SEARCH = "/get-user-profiles-and-teacher-search"
SEARCH_CASES = [
    (THIN, "student", {"json": {"skill": "Python"}}, 200),
    (THIN, "student", {"json": {"skills": "Python, Go"}}, 200),
    (THIN, "student", {"json": {"skills": ["python"], "limit": 1}}, 200),
    (
        THIN,
        "student",
        {"json": {"skill": "Python", "available_from": DAY, "available_to": DAY}},
        200,
    ),
    (THIN, "student", {"json": {"skill": "Python", "cursor": "garbage"}}, 422),
    (THIN, "student", {"json": {"skill": ""}}, 422),
    (THIN, "student", {"json": {}}, 200),
    (THIN, "student", {}, 200),  # no body: the caller's profile
    (THIN, "student", {"content": b"null"}, 200),
    (THIN, "tutor", {"json": {"user_id": "id-student"}}, 200),  # a requester: mobile shown
    (THIN, "other_tutor", {"json": {"user_id": "id-other-student"}}, 200),
    (THIN, "student", {"json": {"email": "tutor@example.test"}}, 200),
    (THIN, "student", {"json": {"user_id": "id-nobody"}}, 404),
    (THIN, "expired", {"json": {"skill": "Python"}}, 401),
    (FALLBACK, None, {"json": {"skill": "Python"}}, 401),
    (FALLBACK, "student", {"content": b"{"}, 400),
    (FALLBACK, "student", {"content": b"[]"}, 422),
    (FALLBACK, "student", {"content": b'"text"'}, 422),
    (FALLBACK, "student", {"json": {"limit": 0, "skill": "Python"}}, 422),
    (FALLBACK, "student", {"json": {"email": "nope"}}, 422),
    (FALLBACK, "student", {"json": {"skills": ["a"] * 11}}, 422),
]

LIST_CASES = [
    (THIN, "tutor", "/get-pending-booking-slots", {}, 200),
    (THIN, "student", "/get-pending-booking-slots", {"params": {"limit": "1"}}, 200),
    (THIN, "tutor", "/get-pending-booking-slots", {"params": {"limit": "1"}}, 200),
    (THIN, "tutor", "/get-pending-booking-slots", {"params": {"cursor": "garbage"}}, 422),
    (THIN, "tutor", "/get-pending-booking-slots", {"params": {"other": "x"}}, 200),
    (THIN, "other_tutor", "/get-pending-booking-slots", {}, 200),
    (THIN, "expired", "/get-pending-booking-slots", {}, 401),
    (FALLBACK, None, "/get-pending-booking-slots", {}, 401),
    (FALLBACK, "tutor", "/get-pending-booking-slots", {"params": {"limit": "0"}}, 422),
    (FALLBACK, "tutor", "/get-pending-booking-slots", {"params": {"limit": "201"}}, 422),
    (FALLBACK, "tutor", "/get-pending-booking-slots", {"params": {"limit": "abc"}}, 422),
    (FALLBACK, "tutor", "/get-pending-booking-slots", {"params": {"limit": ""}}, 422),
    (
        FALLBACK,
        "tutor",
        "/get-pending-booking-slots",
        {"params": [("limit", "1"), ("limit", "2")]},
        200,
    ),
    (FALLBACK, "tutor", "/get-pending-booking-slots", {"params": {"cursor": "c" * 501}}, 422),
    (THIN, "tutor", "/get-teacher-bookings", {}, 200),
    (THIN, "tutor", "/get-teacher-bookings", {"params": {"status": "accepted"}}, 200),
    (THIN, "tutor", "/get-teacher-bookings", {"params": {"from_date": DAY, "to_date": DAY}}, 200),
    (THIN, "tutor", "/get-teacher-bookings", {"params": {"limit": "2"}}, 200),
    (THIN, "tutor", "/get-teacher-bookings", {"params": {"status": "weird"}}, 422),
    (THIN, "student", "/get-teacher-bookings", {}, 403),
    (FALLBACK, "tutor", "/get-teacher-bookings", {"params": {"from_date": "soon"}}, 422),
    (FALLBACK, "tutor", "/get-teacher-bookings", {"params": {"status": "s" * 21}}, 422),
    (THIN, "student", "/get-student-bookings", {}, 200),
    (THIN, "student", "/get-student-bookings", {"params": {"status": "pending"}}, 200),
    (THIN, "other_student", "/get-student-bookings", {}, 200),
    (THIN, "tutor", "/get-student-bookings", {}, 403),
    (THIN, "forged", "/get-student-bookings", {}, 401),
    (FALLBACK, "student", "/get-student-bookings", {"headers": {"Authorization": "Token x"}}, 401),
    (FALLBACK, "student", "/get-student-bookings", {"params": {"to_date": "2026-1-1"}}, 422),
]


@pytest.mark.parametrize(("expected_path", "actor", "kwargs", "status"), SLOT_CASES)
def test_get_teacher_slots(apps, world, expected_path, actor, kwargs, status):
    r = check(apps, expected_path, "POST", SLOTS, as_=actor, tokens=world["tokens"], **kwargs)
    assert r.status_code == status, r.text


def test_get_teacher_slots_twice_serves_the_cached_bytes_alike(apps, world):
    for _ in range(3):
        r = check(
            apps,
            THIN,
            "POST",
            SLOTS,
            as_="student",
            tokens=world["tokens"],
            json={"tutor_id": "id-tutor"},
        )
    slots = r.json()["slots"]
    assert len(slots) == len(world["slots"]) - 3  # pending and accepted ones are not available


@pytest.mark.parametrize(("expected_path", "actor", "kwargs", "status"), SEARCH_CASES)
def test_profiles_and_search(apps, world, expected_path, actor, kwargs, status):
    r = check(apps, expected_path, "POST", SEARCH, as_=actor, tokens=world["tokens"], **kwargs)
    assert r.status_code == status, r.text


@pytest.mark.parametrize(("expected_path", "actor", "path", "kwargs", "status"), LIST_CASES)
def test_booking_lists(apps, world, expected_path, actor, path, kwargs, status):
    r = check(apps, expected_path, "GET", path, as_=actor, tokens=world["tokens"], **kwargs)
    assert r.status_code == status, r.text
    if status == 200:
        assert "bookings" in r.json()


def test_booking_lists_twice_serve_the_cached_bytes_alike(deps, apps, world):
    """Misses and hits (the cache lives with the store's `Deps`), before and after a write."""
    tokens = world["tokens"]
    asks = [
        ("tutor", "/get-pending-booking-slots", {}),
        ("tutor", "/get-teacher-bookings", {"status": "accepted"}),
        ("student", "/get-student-bookings", {"limit": "2"}),
        ("student", "/get-pending-booking-slots", {}),
    ]

    def look() -> list[dict]:
        answers = []
        for actor, path, params in asks:
            for _ in range(3):
                r = check(apps, THIN, "GET", path, as_=actor, tokens=tokens, params=params)
            assert r.status_code == 200
            answers.append(r.json())
        return answers

    pending, accepted, _, mine = look()
    assert len(pending["bookings"]) == 2 and len(accepted["bookings"]) == 1
    first = next(b for b in mine["bookings"] if b["booking_status"] == "pending")
    bookings.respond(deps, world["tutor"], first["booking_id"], "accept", None)
    pending, accepted, _, mine = look()
    assert len(pending["bookings"]) == 1 and len(accepted["bookings"]) == 2
    assert mine["bookings"] == []


CREATE = "/create-booking-request"


def test_create_booking_request_errors(apps, world):
    tokens, slots = world["tokens"], world["slots"]

    def go(expected_path, status, actor, **kwargs):
        r = check(apps, expected_path, "POST", CREATE, as_=actor, tokens=tokens, **kwargs)
        assert r.status_code == status, r.text

    go(THIN, 404, "student", json={"slot_id": "nope"})
    go(THIN, 403, "tutor", json={"slot_id": slots[5]})  # tutors do not book
    go(THIN, 409, "other_student", json={"slot_id": slots[2]})  # accepted: taken
    go(THIN, 401, "expired", json={"slot_id": slots[5]})
    go(FALLBACK, 401, None, json={"slot_id": slots[5]})
    go(FALLBACK, 400, "student", content=b"{,}")
    go(FALLBACK, 422, "student", json={"slot_id": "s" * 65})
    go(FALLBACK, 422, "student", json={"message": "no slot"})
    go(FALLBACK, 422, "student", json={"slot_id": slots[5]}, headers={"Idempotency-Key": "k" * 256})
    go(THIN, 422, "student", json={"slot_id": slots[5]}, headers={"Idempotency-Key": ""})


def test_create_booking_request_answers_alike_and_replays_across_paths(apps, world):
    fast, slow = apps
    tokens, slots = world["tokens"], world["slots"]
    seen = watch(fast)
    for key, slot, first, second in (("k-1", slots[5], fast, slow), ("k-2", slots[6], slow, fast)):
        headers = {"Idempotency-Key": key, "Authorization": f"Bearer {tokens['student']}"}
        body = {"slot_id": slot, "message": "hi"}
        made = call(first, "POST", CREATE, headers=headers, json=body)
        assert made.status_code == 201, made.text
        same(made, call(second, "POST", CREATE, headers=headers, json=body))  # the replay
        reused = {"slot_id": slots[7]}
        same(
            call(first, "POST", CREATE, headers=headers, json=reused),
            call(second, "POST", CREATE, headers=headers, json=reused),
        )
    assert seen == [THIN] * 4
    # without a key: one new booking each, the same answer but for its ids and times
    auth = {"Authorization": f"Bearer {tokens['other_student']}"}
    a = call(fast, "POST", CREATE, headers=auth, json={"slot_id": slots[8]})
    b = call(slow, "POST", CREATE, headers=auth, json={"slot_id": slots[9]})
    assert a.status_code == b.status_code == 201
    assert a.headers["content-type"] == b.headers["content-type"] == "application/json"
    ka, kb = orjson.loads(a.content)["booking"], orjson.loads(b.content)["booking"]
    assert ka.keys() == kb.keys() and ka["booking_status"] == kb["booking_status"] == "pending"
    assert seen[-1] == THIN


def test_with_cors_an_origin_goes_to_fastapi(deps, world):
    settings = {"cors_origins": ["https://app.example"]}
    fast, slow = (
        make_app(deps, fast_routes=True, **settings),
        make_app(deps, fast_routes=False, **settings),
    )
    tokens = world["tokens"]
    body = {"json": {"tutor_id": "id-tutor"}}
    check((fast, slow), THIN, "POST", SLOTS, as_="student", tokens=tokens, **body)
    for origin in ("https://app.example", "https://evil.example"):
        r = check(
            (fast, slow),
            FALLBACK,
            "POST",
            SLOTS,
            as_="student",
            tokens=tokens,
            headers={"Origin": origin},
            **body,
        )
        assert r.status_code == 200
    assert r.headers.get("access-control-allow-origin") is None
    r = check(
        (fast, slow),
        FALLBACK,
        "GET",
        "/get-student-bookings",
        as_="student",
        tokens=tokens,
        headers={"Origin": "https://app.example"},
    )
    assert r.headers["access-control-allow-origin"] == "https://app.example"


def test_every_fast_route_has_its_fastapi_route(apps):
    fast, _ = apps
    table = fast.router.middleware_stack.table  # where a fallback is routed
    for key, dispatch in fast.state.fast_routes.items():
        assert isinstance(dispatch, FastDispatch)
        assert (dispatch.spec.method, dispatch.spec.path) == key
        assert table[key].name == (dispatch.spec.name or dispatch.spec.handler.__name__)
