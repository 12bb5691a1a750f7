"""The route table is pinned: a new endpoint cannot slip in unguarded or undocumented."""

from __future__ import annotations

from skillsession.http.app import create_app

ROUTES = {
    # (method, path): public?
    ("GET", "/health"): True,
    ("POST", "/auth/signup"): True,
    ("POST", "/auth/confirm"): True,
    ("POST", "/auth/login"): True,
    ("POST", "/auth/resend-code"): True,
    ("GET", "/confirm-subscription"): True,
    ("GET", "/unsubscribe"): True,
    ("GET", "/media/{key}"): True,
    ("POST", "/save-user-details"): False,
    ("POST", "/get-user-profiles-and-teacher-search"): False,
    ("PUT", "/save-profile-img"): False,
    ("GET", "/get-profile-img-url"): False,
    ("POST", "/create-availability"): False,
    ("POST", "/delete-availability"): False,
    ("POST", "/get-teacher-slots"): False,
    ("POST", "/create-booking-request"): False,
    ("GET", "/get-pending-booking-slots"): False,
    ("POST", "/process-booking-response"): False,
    ("POST", "/cancel-booking"): False,
    ("GET", "/get-teacher-bookings"): False,
    ("GET", "/get-student-bookings"): False,
    ("GET", "/subscribe-email-notifications"): False,
}


def operations():
    schema = create_app().openapi()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield (method.upper(), path.replace("{key:path}", "{key}")), operation


def test_every_route_is_pinned_with_its_guard():
    seen = {}
    for route, operation in operations():
        seen[route] = not operation.get("security")
    assert seen == ROUTES


def test_every_operation_has_a_summary():
    for route, operation in operations():
        assert operation.get("summary"), route
