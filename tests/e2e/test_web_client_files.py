"""The web client's files as the real server serves them: the page at `/`, its assets under
`/app/`, their headers (a strict CSP), no inline code, nothing from another origin, and the
package (a wheel built by `pip`) ships them."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx

SHAPES = ("sqlite",)
WEB = Path(__file__).resolve().parents[2] / "src" / "skillsession" / "web"
ROOT = WEB.parents[2]
FILES = sorted(p.relative_to(WEB).as_posix() for p in WEB.rglob("*") if p.is_file())


def assert_strict_csp(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response.headers.get_list("content-security-policy") == [csp]  # not the API's too


def test_the_page_is_served_at_the_root_with_a_strict_csp(server):
    page = httpx.get(f"{server.base_url}/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert_strict_csp(page)
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.text == (WEB / "index.html").read_text()
    # the API keeps its own headers
    health = httpx.get(f"{server.base_url}/health")
    assert health.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_every_asset_is_served_with_its_type_and_csp_and_revalidates(server):
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    with httpx.Client(base_url=server.base_url) as http:
        for name in FILES:
            if name == "index.html":
                continue
            r = http.get(f"/app/{name.removeprefix('app/')}")
            assert r.status_code == 200, name
            assert r.headers["content-type"].startswith(types[Path(name).suffix]), name
            assert_strict_csp(r)
            assert r.content == (WEB / name).read_bytes()
            again = http.get(r.url, headers={"If-None-Match": r.headers["etag"]})
            assert again.status_code == 304, name
        zipped = http.get("/app/views/tutors.js", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert http.get("/app/nothing.js").status_code == 404
        assert http.get("/app/../pyproject.toml").status_code == 404
        assert http.get("/app/%2e%2e/index.html").status_code == 404


def test_no_inline_code_and_nothing_from_another_origin():
    page = (WEB / "index.html").read_text()
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag, tag  # no inline script
    assert "<style" not in page and not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)  # no inline handlers
    for name in FILES:
        text = (WEB / name).read_text()
        urls = re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)
        assert urls in ([], ["http://www.w3.org"]), (name, urls)  # the SVG's namespace only
        assert "innerHTML" not in text and "eval(" not in text, name


def test_the_wheel_ships_every_file(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("skillsession-*.whl")
    shipped = {
        n.removeprefix("skillsession/web/")
        for n in zipfile.ZipFile(wheel).namelist()
        if n.startswith("skillsession/web/")
    }
    assert shipped == set(FILES)


def test_images_may_come_from_s3_only_where_the_media_live_there():
    from skillsession.http.web import csp

    def images(media_url: str) -> str:
        return next(d for d in csp(media_url).split("; ") if d.startswith("img-src"))

    assert images("file://data/media") == "img-src 'self' blob:"
    assert images("s3://bucket/media?region=eu-west-1") == (
        "img-src 'self' blob: https://*.amazonaws.com"
    )
    assert images("s3://b/m?endpoint_url=http://127.0.0.1:5000/x") == (
        "img-src 'self' blob: http://127.0.0.1:5000"
    )
