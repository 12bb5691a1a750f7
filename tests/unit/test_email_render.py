"""The pure rendering of e-mails (service/email_render.py): times for a person, both parts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from skillsession.service import links
from skillsession.service.email_render import Action, Content, html_part, text_part, when_text

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("start", "end", "zone", "text"),
    [
        (
            (2026, 12, 1, 8),
            (2026, 12, 1, 9),
            BERLIN,
            "Tuesday 1 December, 09:00–10:00 (Europe/Berlin)",
        ),
        (
            (2026, 12, 1, 8),
            (2026, 12, 1, 9),
            ZoneInfo("America/Halifax"),
            "Tuesday 1 December, 04:00–05:00 (America/Halifax)",
        ),
        # across midnight: both days
        (
            (2026, 12, 1, 22, 30),
            (2026, 12, 1, 23, 30),
            BERLIN,
            "Tuesday 1 December, 23:30 – Wednesday 2 December, 00:30 (Europe/Berlin)",
        ),
        # another year than the reader's current one
        (
            (2027, 1, 4, 8),
            (2027, 1, 4, 9),
            BERLIN,
            "Monday 4 January 2027, 09:00–10:00 (Europe/Berlin)",
        ),
        # summer time in Berlin
        (
            (2027, 7, 1, 8),
            (2027, 7, 1, 9),
            BERLIN,
            "Thursday 1 July 2027, 10:00–11:00 (Europe/Berlin)",
        ),
        (
            (2026, 12, 1, 8),
            (2026, 12, 1, 9),
            ZoneInfo("UTC"),
            "Tuesday 1 December, 08:00–09:00 (UTC)",
        ),
    ],
)
def test_when_text(start, end, zone, text):
    assert when_text(datetime(*start, tzinfo=UTC), datetime(*end, tzinfo=UTC), zone, NOW) == text


def test_greeting_falls_back_without_a_name():
    assert Content("  ", []).greeting == "Hello,"
    assert Content(None, []).greeting == "Hello,"
    assert Content("Zoë", []).greeting == "Hello Zoë,"


def test_both_parts_carry_the_same_things_and_html_is_escaped():
    content = Content(
        'Eve "<img src=x onerror=alert(1)>"',
        ["A & B <i>not italic</i>", "line one\nline two"],
        quotes=[("They wrote", "<script>x</script>")],
        action=Action("Open <it>", 'https://app.example/#/requests?a="b"&c=<d>'),
        footer=["Why you get this"],
        unsubscribe_url="https://app.example/unsubscribe?token=a&b",
    )
    text, markup = text_part(content), html_part(content, "Subject <x>")
    assert 'Hello Eve "<img src=x onerror=alert(1)>",' in text
    assert "> <script>x</script>" in text
    assert 'Open <it>: https://app.example/#/requests?a="b"&c=<d>' in text
    assert "Stop these e-mails: https://app.example/unsubscribe?token=a&b" in text
    for raw in ("<img", "<script", "<i>", "<it>", "<x>", "<d>"):
        assert raw not in markup
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert 'href="https://app.example/#/requests?a=&quot;b&quot;&amp;c=&lt;d&gt;"' in markup
    assert "line one<br>line two" in markup


def test_links_live_in_one_place():
    assert links.web("https://app.example/", "requests") == "https://app.example/#/requests"
    assert links.web("https://app.example", "bookings") == "https://app.example/#/bookings"
    assert (
        links.unsubscribe("https://a.example", "x/y+z")
        == "https://a.example/unsubscribe?token=x%2Fy%2Bz"
    )
    assert links.confirm_subscription("https://a.example", "u.t") == (
        "https://a.example/confirm-subscription?token=u.t"
    )
