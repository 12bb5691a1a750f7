"""Shared test fixtures.

`tests/` is on `sys.path` (pyproject.toml, pytest's `pythonpath`), so test modules anywhere
below can `from smtp_server import SmtpTestServer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from smtp_server import SmtpTestServer


@pytest.fixture
def smtp_test_server() -> Iterator[SmtpTestServer]:
    """A plain (no TLS, no AUTH) SMTP server on a free loopback port, recording what it gets."""
    from smtp_server import SmtpTestServer  # aiosmtpd is imported only by tests that use it

    with SmtpTestServer() as server:
        yield server
