"""The route table is pinned: a new endpoint cannot slip in unguarded or undocumented."""

from __future__ import annotations

from route_table_pins import ROUTES
from skillsession.http.app import create_app


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
