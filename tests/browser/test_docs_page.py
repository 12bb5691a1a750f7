"""`/docs` in a real browser: Swagger UI renders the served OpenAPI 3.1 document, lists every
operation, and "Try it out" reaches the server; the page asks no other origin for anything."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from e2e.server import Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("docs-page")).start()
    yield srv
    srv.stop()


def documented_operations(base_url: str) -> set[tuple[str, str]]:
    document = httpx.get(f"{base_url}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_docs_page_lists_every_operation_and_tries_one(server, page, tmp_path):
    requested: list[str] = []
    page_errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    page.goto(f"{server.base_url}/docs")
    # the operations, or what Swagger UI shows instead ("Unable to render this definition", or
    # the document's errors)
    page.wait_for_selector(".opblock, .version-pragma, .errors-wrapper", timeout=30_000)
    for refusal in (".version-pragma", ".errors-wrapper"):
        assert page.locator(refusal).count() == 0, page.locator(refusal).first.inner_text()

    shown = set()
    for block in page.locator(".opblock").all():
        method = block.locator(".opblock-summary-method").inner_text().strip()
        path = block.locator(".opblock-summary-path").get_attribute("data-path")
        shown.add((method.upper(), path))
    assert shown == documented_operations(server.base_url)

    health = page.locator("#operations-service-getHealth")
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    answer = health.locator(".live-responses-table .response").first
    answer.wait_for(timeout=30_000)
    assert answer.locator(".response-col_status").inner_text().strip() == "200"
    assert '"status": "ok"' in answer.locator(".response-col_description").inner_text()

    answer.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "docs.png"))
    assert not page_errors
    origin = urlsplit(server.base_url)
    for url in requested:
        parts = urlsplit(url)
        assert parts.scheme == "data" or (parts.scheme, parts.netloc) == (
            origin.scheme,
            origin.netloc,
        ), url
