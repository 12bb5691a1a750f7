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
    from playwright.sync_api import sync_playwright

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
