"""The route table is pinned: a new endpoint cannot slip in unguarded or undocumented."""

from __future__ import annotations

import json
import re

from starlette.routing import Mount

from route_table_pins import OPERATION_IDS, PAGES, ROUTES
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


def test_every_route_outside_the_document_is_pinned():
    """Pages and static files are not API operations; they are pinned here instead."""
    outside = set()
    for route in create_app().routes:
        if isinstance(route, Mount):
            outside.add(("MOUNT", route.path))
        elif not getattr(route, "include_in_schema", True):
            outside |= {(method, route.path) for method in route.methods - {"HEAD"}}
    assert outside == PAGES


LOWER_CAMEL_CASE = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*")


def test_every_operation_has_a_unique_lower_camel_case_operation_id():
    """Generated clients name their methods after these (FastAPI's default ids, such as
    `handler_get_student_bookings_get`, are neither readable nor stable)."""
    seen: dict[str, tuple[str, str]] = {}
    for route, operation in operations():
        operation_id = operation.get("operationId")
        assert operation_id, f"{route}: give the route an explicit operation_id"
        assert LOWER_CAMEL_CASE.fullmatch(operation_id), f"{route}: {operation_id!r}"
        assert operation_id not in seen, f"{route} and {seen[operation_id]}: {operation_id!r}"
        seen[operation_id] = route


def test_operation_ids_are_pinned():
    """Renaming an operationId renames a method in every generated client."""
    assert {route: operation.get("operationId") for route, operation in operations()} == (
        OPERATION_IDS
    )


def test_every_operation_has_a_summary():
    for route, operation in operations():
        assert operation.get("summary"), route


def test_every_reference_resolves_and_errors_have_the_error_body():
    schema = create_app().openapi()
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(schema)))
    assert refs <= schema["components"]["schemas"].keys()
    error_body = {"$ref": "#/components/schemas/ErrorOut"}
    for route, operation in operations():
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == error_body, route
    assert schema["components"]["schemas"]["ErrorOut"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


def test_response_shapes_are_not_fastapi_models():
    """FastAPI builds a validator per route and documented response model when the route is
    declared, only for the document (http/schemas.py): the routes give it `$ref`s instead."""
    for route in create_app().routes:
        assert not getattr(route, "response_fields", None), route.path
        assert getattr(route, "response_field", None) is None, route.path
