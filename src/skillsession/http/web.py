"""The web client: its page at `/` and its static files under `/app/` (package data under
src/skillsession/web/). The client calls only the public JSON API, like any other client.

Both stay out of the OpenAPI document (`include_in_schema=False`, like `/docs`): they are not API
operations, and a generated client has no use for a method that fetches HTML. They are pinned in
tests/route_table_pins.py (`PAGES`) instead, so that no route slips in unseen.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent.parent / "web"
ASSETS = "/app"


def csp(media_url: str = "") -> str:
    """Same origin only, no inline script or style; images may also be the photo preview
    (blob:) and, where the media live on S3, its presigned URLs."""
    images = "'self' blob:"
    parts = urlsplit(media_url)
    if parts.scheme == "s3":
        endpoint = urlsplit(parse_qs(parts.query).get("endpoint_url", [""])[-1])
        images += (
            f" {endpoint.scheme}://{endpoint.netloc}"
            if endpoint.netloc
            else " https://*.amazonaws.com"
        )
    return (
        f"default-src 'self'; img-src {images}; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'"
    )


class _WithHeaders:
    def __init__(self, app, headers: list[tuple[bytes, bytes]]):
        self.app = app
        self.headers = headers

    async def __call__(self, scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, media_url: str = "") -> None:
    policy = csp(media_url)
    # revalidated on every visit (an ETag makes that a 304), so a new version shows at once
    headers = [(b"content-security-policy", policy.encode()), (b"cache-control", b"no-cache")]
    page: list[bytes] = []  # index.html, read on the first request (nothing at import)

    @app.get("/", include_in_schema=False)
    async def web_client() -> Response:
        if not page:
            page.append((WEB / "index.html").read_bytes())
        return Response(
            page[0],
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"},
        )

    files = StaticFiles(directory=WEB / "app", check_dir=False)
    assets = _WithHeaders(GZipMiddleware(files, minimum_size=500), headers)
    app.mount(ASSETS, assets, name="web-assets")
