"""Browser fixtures: Playwright for Python driving Debian's Chromium (no browser download).

`.ci/run` installs the `chromium` package when it is missing, so CI never skips these tests.
On a machine without it they are skipped, and the end of the run says so in one line.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine has no network: no update pings
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    configured = os.environ.get("SKILLSESSION_TEST_CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


_skipped_for_browser: list[str] = []


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Chromium for one test module. Not session-wide: Playwright's sync API keeps an asyncio
    loop running in the main thread while it is open, and every later `asyncio.run` (the
    service and unit tests) would then fail with "cannot be called from a running event loop"."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium on a CI machine: .ci/run should have installed it")
        _skipped_for_browser.append("browser")
        pytest.skip("no Chromium found (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a wait, not a speed limit: CI machines are shared
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh desktop-sized page in its own context (no shared storage between tests)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    yield page
    context.close()


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped_for_browser:
        terminalreporter.write_line(
            "NOTE: the browser tests were SKIPPED: no Chromium on this machine "
            "(apt-get install chromium, or set SKILLSESSION_TEST_CHROMIUM)",
            yellow=True,
            bold=True,
        )


# --- the web client's tests: one real server per shape, pages that fail on any error ---

TUTOR_ZONE = "Europe/Berlin"
STUDENT_ZONE = "America/Halifax"


@pytest.fixture(scope="session")
def web_server(request, tmp_path_factory) -> Iterator:
    """The real `skillsession serve` serving the client at `/`: the embedded shape, or (with
    the indirect parameter "dynamodb") the AWS shape's store and media, DynamoDB and S3 on moto,
    or ("lambda") those served by the Lambda entry point behind a stand-in for API Gateway.
    `media_origins`: where else the page may load images from (S3's presigned URLs)."""
    from urllib.parse import parse_qs, urlsplit

    from e2e.server import shape_server

    shape = getattr(request, "param", "sqlite")
    srv = shape_server(tmp_path_factory.mktemp(f"web-{shape}"), shape).start()
    media = urlsplit(srv.env.get("SKILLSESSION_MEDIA", ""))
    endpoint = parse_qs(media.query).get("endpoint_url", [""])[-1]
    srv.media_origins = (endpoint,) if endpoint else ()
    yield srv
    srv.stop()


@pytest.fixture
def open_page(browser, web_server) -> Iterator:
    """`open_page(viewport=..., zone=...)`: a page in its own context (own storage), in that
    time zone and locale. Any page error, console error (a CSP violation is one) or request to
    another origin fails the test at its end."""
    contexts, problems = [], []

    def opener(viewport=DESKTOP, zone=STUDENT_ZONE, **options):
        context = browser.new_context(
            viewport=viewport,
            timezone_id=zone,
            locale="en-GB",
            base_url=web_server.base_url,
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(
                    (web_server.base_url, "blob:", "data:", *web_server.media_origins)
                )
                else problems.append(f"request to another origin: {r.url}")
            ),
        )
        return page

    opener.problems = problems
    opener.allowed = []  # what a test causes on purpose, e.g. "ERR_CONNECTION_RESET"
    yield opener
    for context in contexts:
        context.close()
    unexpected = [p for p in problems if not _expected(p, opener.allowed)]
    assert not unexpected, unexpected


def _expected(problem: str, allowed: list[str]) -> bool:
    """Console errors a test causes on purpose: the browser logs every 4xx answer."""
    if any(text in problem for text in allowed):
        return True
    return "Failed to load resource: the server responded with a status of 4" in problem
