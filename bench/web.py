"""`make bench-web` (and the end of `make bench`): the web client in headless Chromium on
loopback, against the real `skillsession serve` (issue 13's figures, not timed tests):

- the first view's transferred bytes (HTML + JS + CSS + icon, as the browser received them,
  compressed where the server compresses), target under 100 KB;
- navigation to the first usable page: the log-in form (no session) and the dashboard (a
  session), from navigation start to the page's heading being on screen, target under 300 ms;
- a tutor page with 240 free slots, from navigation start to the 240th slot button, target
  under 300 ms;
- the longest task (PerformanceObserver `longtask`) on each, target none over 50 ms.

Each figure is the median of RUNS fresh browser contexts (first view: nothing cached).
Writes bench/web-results.md and prints it."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]
RUNS = 7
LONG_TASKS = """
window.__longest = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longest = Math.max(window.__longest, entry.duration);
}).observe({ type: "longtask", buffered: true });
"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    from browser.conftest import CHROMIUM_ARGS, DESKTOP, chromium_path
    from e2e.api_client import Api, Mailbox
    from e2e.server import Server

    data = Path(tempfile.mkdtemp(prefix="bench-web-"))
    server = Server(data).start()
    try:
        anon = Api(server.base_url, Mailbox(data / "mail"))
        tutor = anon.as_new_user("tutor", "tutor", teaching_skills="Piano", time_zone="UTC")
        student = anon.as_new_user("student", "student", time_zone="UTC")
        start = datetime.now(ZoneInfo("UTC")).date() + timedelta(days=1)
        windows = [
            {
                "date": (start + timedelta(days=d)).isoformat(),
                "start_time": "08:00",
                "end_time": "16:00",
            }
            for d in range(30)
        ]
        made = tutor.post("/create-availability", {"windows": windows}).json()["slots"]
        assert len(made) == 240, len(made)
        token = student.token
        results: dict[str, list[float]] = {}

        def record(name: str, value: float) -> None:
            results.setdefault(name, []).append(value)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for _ in range(RUNS):
                context = browser.new_context(viewport=DESKTOP, base_url=server.base_url)
                context.add_init_script(LONG_TASKS)
                page = context.new_page()
                sizes = []
                page.on("requestfinished", lambda r, sizes=sizes: sizes.append(r.sizes()))
                page.goto("/#/login", wait_until="commit")
                page.wait_for_selector("main h1")
                record("log-in page usable (ms)", page.evaluate("performance.now()"))
                record(
                    "  of which the page's HTML answered (ms)",
                    page.evaluate('performance.getEntriesByType("navigation")[0].responseEnd'),
                )
                page.wait_for_load_state("networkidle")
                record(
                    "first view transferred (KB)",
                    sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes) / 1024,
                )
                record("first view longest task (ms)", page.evaluate("window.__longest"))
                page.evaluate(
                    """token => localStorage.setItem("skillsession.session",
                    JSON.stringify({ token, expiresAt: Date.now() + 3600e3, email: "" }))""",
                    token,
                )
                for name, url, ready in (
                    ("dashboard usable (ms)", "/#/dashboard", "text=Hello, Student"),
                    (
                        "tutor page, 240 slots (ms)",
                        f"/#/tutors/{tutor.user_id}",
                        "button.slot >> nth=239",
                    ),
                ):
                    fresh = context.new_page()
                    fresh.goto(url, wait_until="commit")
                    fresh.wait_for_selector(ready)
                    record(name, fresh.evaluate("performance.now()"))
                    record(
                        name.replace("usable", "longest task").replace(
                            "240 slots", "240 slots longest task"
                        ),
                        fresh.evaluate("window.__longest"),
                    )
                    fresh.close()
                context.close()
            browser.close()
    finally:
        server.stop()
    targets = {"KB": 100, "ms": 300}
    lines = [
        "# Web client figures (bench/web.py)",
        "",
        f"Headless Chromium on loopback, median of {RUNS} fresh contexts, "
        f"{datetime.now():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end (a loaded machine inflates every time).",
        "",
        "| figure | median | min | max | target |",
        "|---|---|---|---|---|",
    ]
    for name, values in results.items():
        unit = "KB" if "KB" in name else "ms"
        target = 50 if "longest" in name else targets[unit]
        lines.append(
            f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} | "
            f"{max(values):.1f} | < {target} |"
        )
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "web-results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
