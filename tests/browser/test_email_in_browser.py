"""A booking e-mail's HTML part as a person sees it: rendered by Chromium, offline. The
greeting, the time written for the reader and the link into the web client are visible, and
the page asks for nothing over the network (no external resources). The screenshot is kept in
the test's tmp dir for a human to look at."""

from __future__ import annotations

from datetime import UTC, datetime

from skillsession.adapters.auth.local import LocalTokens, PasswordHasher
from skillsession.adapters.media.disk import DiskMediaStore
from skillsession.adapters.store import memory
from skillsession.domain.availability import WindowRequest
from skillsession.ports import Identity
from skillsession.service import availability, bookings, outbox, profiles, subscriptions
from skillsession.service.deps import Deps
from skillsession.settings import Settings

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


class Mailer:
    backend_name = "recording"

    def __init__(self):
        self.sent = []

    def send(self, message) -> None:
        self.sent.append(message)


def accepted_booking_mail(tmp_path):
    tokens = LocalTokens(b"k" * 32)
    deps = Deps(
        settings=Settings(data_dir=tmp_path, _env_file=None),
        stores=memory.open_store(),
        media=DiskMediaStore(tmp_path / "media", b"m" * 32),
        mailer=Mailer(),
        verifier=tokens,
        issuer=tokens,
        passwords=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        code_secret=b"c" * 32,
        clock=Clock(),
    )
    tutor = Identity("id-tutor", "tutor@example.test")
    student = Identity("id-student", "student@example.test")
    profiles.save(
        deps,
        tutor,
        "tutor",
        {"first_name": "Tünde", "last_name": "Kovács", "time_zone": "Europe/Berlin"},
    )
    profiles.save(deps, student, "student", {"first_name": "Sam <b>", "time_zone": "Europe/Berlin"})
    subscriptions.subscribe(deps, student)
    token = deps.stores.outbox.get_subscription(student.user_id).confirm_token
    subscriptions.confirm(deps, token)
    window = WindowRequest(date="2026-12-01", start_time="14:00", end_time="15:00")
    _, [slot] = availability.create(deps, tutor, [window])
    asked = bookings.request(deps, student, slot.slot_id, "See you", None)
    bookings.respond(deps, tutor, asked.booking.booking_id, "accept", None)
    outbox.deliver_all(deps)
    [mail] = [m for m in deps.mailer.sent if "accepted" in str(m["Subject"])]
    return mail


def test_booking_mail_renders_readably_in_chromium(page, tmp_path):
    mail = accepted_booking_mail(tmp_path)
    markup = mail.get_body(("html",)).get_content()
    asked = []
    page.route("**/*", lambda route: (asked.append(route.request.url), route.abort()))
    page.set_viewport_size({"width": 600, "height": 800})  # a mail client's reading pane
    page.set_content(markup, wait_until="load")
    assert asked == []  # nothing fetched: no images, fonts, styles from elsewhere
    greeting = page.get_by_text("Hello Sam <b>,", exact=True)
    assert greeting.is_visible()
    when = page.get_by_text("Tuesday 1 December, 14:00–15:00 (Europe/Berlin)")
    assert when.is_visible()
    button = page.get_by_role("link", name="See your bookings")
    assert button.is_visible()
    assert button.get_attribute("href") == "http://127.0.0.1:8000/#/bookings"
    box = button.bounding_box()
    assert box["width"] > 100 and box["height"] > 30  # a button, not a bare word
    assert page.get_by_role("link", name="Stop these e-mails").is_visible()
    page.screenshot(path=str(tmp_path / "booking-accepted.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})  # a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "booking-accepted-phone.png"), full_page=True)


def test_unsubscribe_page_shows_its_button(page, tmp_path):
    from skillsession.http import pages

    response = pages.page(
        "Unsubscribe", "Stop SkillSession booking e-mails to a@example.test?", "Unsubscribe"
    )
    asked = []
    page.route("**/*", lambda route: (asked.append(route.request.url), route.abort()))
    page.set_viewport_size({"width": 360, "height": 740})
    page.set_content(response.body.decode(), wait_until="load")
    assert asked == []
    button = page.get_by_role("button", name="Unsubscribe")
    assert button.is_visible()
    assert page.locator("form").get_attribute("method") == "post"
    page.screenshot(path=str(tmp_path / "unsubscribe-page.png"))
