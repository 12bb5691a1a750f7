"""`make screenshots`: the web client's main pages, phone (360 px) and desktop, written to
docs/screenshots/*.png. Starts the real server on a fresh data dir, makes a small cast over the
API (a tutor with a photo and windows, students with a request and a booking), then drives
Debian's Chromium through the pages."""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]
OUT = ROOT / "docs" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
MAX_HEIGHT = 1800  # a long page is cut here


def portrait() -> bytes:
    """A made-up photo: soft gradient, a head and shoulders."""
    from PIL import Image, ImageDraw

    size = 256
    img = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(img)
    for y in range(size):
        draw.line([(0, y), (size, y)], fill=(60 + y // 4, 90 + y // 5, 150 + y // 6))
    draw.ellipse([78, 48, 178, 158], fill=(236, 200, 170))
    draw.pieslice([38, 150, 218, 330], 180, 360, fill=(40, 40, 60))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def cast(base_url: str, mail: Path):
    from e2e.api_client import Api, Mailbox

    anon = Api(base_url, Mailbox(mail))
    clara = anon.as_new_user(
        "tutor",
        "clara",
        first_name="Clara",
        last_name="Schumann",
        teaching_skills="Piano, Music Theory, Composition",
        experience_years=12,
        experience_description="Concert pianist. Technique, repertoire and theory for every level, "
        "from first scales to conservatory auditions.",
        time_zone="Europe/Berlin",
    )
    clara.put("/save-profile-img", content=portrait(), headers={"Content-Type": "image/png"})
    anon.as_new_user(
        "tutor",
        "alan",
        first_name="Alan",
        last_name="Turing",
        teaching_skills="Piano, Mathematics, Cryptography",
        experience_years=4,
        experience_description="Plays for fun, teaches beginners with patience.",
        time_zone="Europe/London",
    )
    ada = anon.as_new_user(
        "student", "ada", first_name="Ada", last_name="Lovelace", time_zone="Europe/London"
    )
    fred = anon.as_new_user(
        "student", "fred", first_name="Fryderyk", last_name="Chopin", time_zone="Europe/Warsaw"
    )
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    windows = []
    for offset in range(1, 7):
        day = (today + timedelta(days=offset)).isoformat()
        windows.append({"date": day, "start_time": "09:00", "end_time": "12:00"})
        if offset % 2:
            windows.append({"date": day, "start_time": "15:00", "end_time": "17:00"})
    slots = clara.post("/create-availability", {"windows": windows}).json()["slots"]
    booked = ada.post(
        "/create-booking-request", {"slot_id": slots[0]["slot_id"], "message": "Chopin études"}
    ).json()["booking"]
    clara.post(
        "/process-booking-response", {"booking_id": booked["booking_id"], "action": "accept"}
    )
    ada.post("/create-booking-request", {"slot_id": slots[6]["slot_id"], "message": "Harmony"})
    fred.post(
        "/create-booking-request",
        {"slot_id": slots[3]["slot_id"], "message": "Could we work on the Ballade in G minor?"},
    )
    return clara, ada


def shoot(page, name: str, suffix: str) -> None:
    from PIL import Image

    page.wait_for_timeout(300)  # photos and fonts settle
    data = page.screenshot(full_page=True, animations="disabled", caret="hide")
    img = Image.open(io.BytesIO(data))
    if img.height > MAX_HEIGHT:
        img = img.crop((0, 0, img.width, MAX_HEIGHT))
    path = OUT / f"{name}-{suffix}.png"
    # 256 colours: text and flat colours stay sharp, the files a fifth of the size
    img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
        path, optimize=True
    )
    print(path.relative_to(ROOT))


def student_pages(page, clara, suffix: str, full: bool) -> None:
    from playwright.sync_api import expect

    if full:
        shoot(page, "student-dashboard", suffix)
        page.goto("/#/tutors?skill=Piano")
        expect(page.locator("li.tutor-card")).to_have_count(2)
        shoot(page, "search", suffix)
    page.goto(f"/#/tutors/{clara.user_id}")
    page.locator("button.slot").nth(2).click()
    page.get_by_label("Message").fill("Could we start with the Nocturnes?")
    page.locator("main h1").focus()
    shoot(page, "tutor-page", suffix)
    if full:
        page.goto("/#/bookings")
        expect(page.locator("li.booking").first).to_be_visible()
        shoot(page, "my-bookings", suffix)


def tutor_pages(page, suffix: str, full: bool) -> None:
    from playwright.sync_api import expect

    if full:
        shoot(page, "tutor-dashboard", suffix)
        page.goto("/#/requests")
        expect(page.locator("li.booking").first).to_be_visible()
        shoot(page, "requests", suffix)
    page.goto("/#/availability")
    expect(page.locator(".week")).to_be_visible()
    shoot(page, "availability", suffix)
    if full:
        page.goto("/#/profile")
        expect(page.get_by_role("img", name="Your current photo")).to_be_visible()
        shoot(page, "profile", suffix)


def main() -> None:
    from playwright.sync_api import expect, sync_playwright  # noqa: F401

    from browser.conftest import CHROMIUM_ARGS, chromium_path
    from e2e.api_client import PASSWORD
    from e2e.server import Server

    data = Path(tempfile.mkdtemp(prefix="screenshots-"))
    server = Server(data).start()
    try:
        clara, ada = cast(server.base_url, data / "mail")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            runs = [
                (v, who, zone, "light")
                for v in ("phone", "desktop")
                for who, zone in ((ada, "Europe/London"), (clara, "Europe/Berlin"))
            ]
            runs += [
                ("phone", ada, "Europe/London", "dark"),
                ("desktop", clara, "Europe/Berlin", "dark"),
            ]
            for viewport_name, who, zone, scheme in runs:
                suffix = viewport_name + ("-dark" if scheme == "dark" else "")
                context = browser.new_context(
                    viewport=PHONE if viewport_name == "phone" else DESKTOP,
                    timezone_id=zone,
                    locale="en-GB",
                    base_url=server.base_url,
                    device_scale_factor=1,
                    color_scheme=scheme,
                )
                page = context.new_page()
                page.goto("/#/login")
                expect(page.get_by_role("heading", name="Log in")).to_be_visible()
                if who is ada and scheme == "light":
                    shoot(page, "login", suffix)
                page.get_by_label("Email").fill(who.email)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                expect(page.get_by_role("heading", name="Hello", exact=False)).to_be_visible()
                if who is ada:
                    student_pages(page, clara, suffix, full=scheme == "light")
                else:
                    tutor_pages(page, suffix, full=scheme == "light")
                context.close()
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
