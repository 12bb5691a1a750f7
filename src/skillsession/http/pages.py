"""The small HTML pages behind the links in e-mails (confirm a subscription, unsubscribe).

Every value is escaped; the pages load nothing (inline style only, a Content-Security-Policy
that allows no other source) and cannot be framed (a hidden one-click button is not a risk).
The form has no `action`: it posts back to the page's own URL, token included, wherever the API
is mounted.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

# beside the guard middleware's X-Frame-Options DENY, Referrer-Policy no-referrer (the token is
# in the URL) and nosniff
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
}
STYLE = (
    "body{margin:0;padding:0 1rem;background:#f4f5f7;color:#1f2328;"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
    "main{max-width:32rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
    "h1{font-size:1.4rem;margin:0 0 1rem}"
    "button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#1d4ed8;"
    "color:#fff;cursor:pointer}button:focus{outline:3px solid #93c5fd;outline-offset:2px}"
)


def page(title: str, message: str, button: str | None = None, status_code: int = 200):
    """A page saying `message`, with a form posting back to this URL if `button` is given."""
    form = (
        f'<form method="post"><button type="submit">{escape(button)}</button></form>'
        if button
        else ""
    )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · SkillSession</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1><p>{escape(message)}</p>{form}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


def wants_html(accept: str | None) -> bool:
    """A browser (a form post, a followed link) rather than an API client."""
    return "text/html" in (accept or "")
