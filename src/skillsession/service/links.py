"""Every link the service writes into an e-mail, in one place.

The web client is served at the public URL's root and routes by the URL's fragment; the
subscription links are the API's own pages.
"""

from __future__ import annotations

from urllib.parse import quote

WEB_ROUTES = {
    "requests": "/#/requests",  # a tutor's requests to answer
    "bookings": "/#/bookings",  # one's bookings
}


def web(public_url: str, route: str) -> str:
    return f"{public_url.rstrip('/')}{WEB_ROUTES[route]}"


def confirm_subscription(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/confirm-subscription?token={quote(token, safe='')}"


def unsubscribe(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/unsubscribe?token={quote(token, safe='')}"
