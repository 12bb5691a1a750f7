"""Issue 11 items 10 and 12 at the HTTP edge: every field that takes an e-mail address takes one
bare address, and every saved name or text refuses control characters, with a 422 naming the
field. The e-mail fields are found in the served OpenAPI document, so a new one cannot slip by."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import store_peek
from skillsession.http.app import create_app

HOSTILE = [
    "=?utf-8?q?victim=40example.com?=<attacker@evil.test>",
    "a@b.test,attacker@evil.test",
    "Victim <victim@example.com>",
    "=?utf-8?q?victim?=@example.com",
]
PASSWORD = "correct horse battery"

# (method, path, field) -> how to send it; a hostile address goes in `field`
EMAIL_FIELDS = {
    ("POST", "/auth/signup", "email"): {"json": {"password": PASSWORD}},
    ("POST", "/auth/login", "email"): {"json": {"password": PASSWORD}},
    ("POST", "/auth/confirm", "email"): {"json": {"code": "123456"}},
    ("POST", "/auth/resend-code", "email"): {"json": {}},
    ("POST", "/save-user-details", "email"): {"json": {"role": "student"}, "auth": True},
    ("POST", "/get-user-profiles-and-teacher-search", "email"): {"json": {}, "auth": True},
    ("POST", "/get-teacher-slots", "tutor_email"): {"json": {}, "auth": True},
    ("GET", "/get-profile-img-url", "email"): {"query": {}, "auth": True},
}


@pytest.fixture
def app(deps):
    return create_app(deps, run_jobs=False)


def call(app, method, path, **kwargs) -> httpx.Response:
    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def email_fields_in_document(app) -> set[tuple[str, str, str]]:
    """(method, path, field) of every request field whose name says it is an e-mail."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    found = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["name"].endswith("email"):
                    found.add((method.upper(), path, param["name"]))
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                options = media["schema"].get("anyOf", [media["schema"]])
                for ref in (o.get("$ref", "") for o in options):
                    for name in schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}):
                        if name.endswith("email"):
                            found.add((method.upper(), path, name))
    return found


def test_every_email_field_is_in_the_table(app):
    assert email_fields_in_document(app) == set(EMAIL_FIELDS)


@pytest.mark.parametrize("address", HOSTILE)
@pytest.mark.parametrize("where", sorted(EMAIL_FIELDS), ids=lambda w: f"{w[1]}:{w[2]}")
def test_every_email_field_refuses_what_is_not_one_address(app, deps, where, address):
    method, path, field = where
    how = EMAIL_FIELDS[where]
    headers = {}
    if how.get("auth"):
        headers["Authorization"] = f"Bearer {deps.issuer.issue('id-x', 'x@example.test')[0]}"
    if "query" in how:
        response = call(app, method, path, params={**how["query"], field: address}, headers=headers)
    else:
        response = call(app, method, path, json={**how["json"], field: address}, headers=headers)
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]["details"]) == {field}
    assert deps.stores.accounts.get_user_by_email("attacker@evil.test") is None


def test_signup_stores_the_normalised_address_and_mails_only_it(app, deps):
    response = call(
        app, "POST", "/auth/signup", json={"email": "Ann@Example.COM", "password": PASSWORD}
    )
    assert response.status_code == 201
    assert response.json()["email"] == "ann@example.com"
    [note] = store_peek.notifications(deps.stores)
    assert note.payload["email"] == "ann@example.com"


LINE_FIELDS = {
    "first_name": "Ann{}",
    "last_name": "Lee{}",
    "mobile_number": "+1 555{}",
    "university_name": "Dal{}",
    "program_name": "CS{}",
    "enrolled_courses": ["COMP 3000", "COMP{}"],
    "teaching_skills": "Python, Go{}",
}
STUDENT_ONLY = {"university_name", "program_name", "enrolled_courses"}
TEXT_FIELDS = {"experience_description": "Six years{}"}
BAD_EVERYWHERE = ["\x00", "\x1b", "\x7f", "\x85", "\u2028"]
BAD_IN_LINES = ["\r\n", "\n", "\r", "\t"]


def save(app, deps, who, body):
    token = deps.issuer.issue(f"id-{who}", f"{who}@example.test")[0]
    return call(
        app, "POST", "/save-user-details", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def fill(template, char):
    if isinstance(template, list):
        return [t.format(char) for t in template]
    return template.format(char)


@pytest.mark.parametrize("char", BAD_EVERYWHERE + BAD_IN_LINES, ids=repr)
@pytest.mark.parametrize("field", sorted(LINE_FIELDS))
def test_names_and_lines_refuse_control_characters(app, deps, field, char):
    role = "student" if field in STUDENT_ONLY else "tutor"
    response = save(app, deps, "p", {"role": role, field: fill(LINE_FIELDS[field], char)})
    assert response.status_code == 422, response.text
    named = response.json()["error"]["details"]  # a list-or-string field names both forms
    assert {name.split("[")[0].split(".")[0] for name in named} == {field}
    assert deps.stores.profiles.get_profile("id-p") is None  # nothing half-saved


@pytest.mark.parametrize("char", BAD_EVERYWHERE, ids=repr)
def test_free_text_refuses_other_control_characters(app, deps, char):
    response = save(app, deps, "t", {"role": "tutor", "experience_description": f"a{char}b"})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]) == {"experience_description"}


def test_free_text_keeps_line_breaks_and_tabs(app, deps):
    text = "Six years.\r\nMostly\tPython.\nAsk me."
    response = save(
        app, deps, "t", {"role": "tutor", "first_name": "Zoë", "experience_description": text}
    )
    assert response.status_code == 201, response.text
    assert response.json()["profile"]["experience_description"] == text


@pytest.mark.parametrize(
    ("path", "field", "body"),
    [
        ("/create-booking-request", "message", {"slot_id": "s"}),
        ("/process-booking-response", "reason", {"booking_id": "b", "action": "reject"}),
        ("/cancel-booking", "reason", {"booking_id": "b"}),
    ],
)
def test_booking_texts_refuse_control_characters(app, deps, path, field, body):
    token = deps.issuer.issue("id-s", "s@example.test")[0]
    headers = {"Authorization": f"Bearer {token}"}
    bad = call(app, "POST", path, json={**body, field: "hi\x1b[2J"}, headers=headers)
    assert bad.status_code == 422, bad.text
    assert set(bad.json()["error"]["details"]) == {field}
    fine = call(app, "POST", path, json={**body, field: "hi\r\nthere\t!"}, headers=headers)
    assert fine.status_code != 422, fine.text  # past validation (no profile, no booking: 4xx)
