"""Links follow the address the server listens on, unless SKILLSESSION_PUBLIC_URL says otherwise.

Each server here binds port 0 (a free port, never the default 8000) and names it in its first
line; nothing sets SKILLSESSION_PUBLIC_URL unless the test says so. The links checked are the
ones a user meets: the confirmation link of the subscription e-mail (read from the `.eml` file
the server wrote) and the signed URL of a profile image.
"""

from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image

from e2e.api_client import Api, Mailbox
from e2e.server import Server

URL = re.compile(r"https?://[^\s<>\"']+")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def links_in_subscription_mail(srv: Server) -> tuple[list[str], Api]:
    user = Api(srv.base_url, Mailbox(srv.data_dir / "mail")).as_new_user("student", "linked")
    assert user.get("/subscribe-email-notifications").status_code == 200
    message = user.mailbox.wait_for(user.email, "confirm your subscription")
    text = message.get_body(("plain",)).get_content()
    return URL.findall(text), user


@pytest.mark.parametrize("workers", [1, 2])
def test_links_follow_the_port_served(tmp_path, workers):
    srv = Server(tmp_path, workers=workers)
    assert "SKILLSESSION_PUBLIC_URL" not in srv.env
    srv.start()
    try:
        assert srv.port != 8000
        banner = srv.log_path.read_text()
        assert f"public URL {srv.base_url} " in banner, banner

        links, user = links_in_subscription_mail(srv)
        assert links, "the subscription e-mail carries a link"
        assert all(link.startswith(f"{srv.base_url}/") for link in links), links
        confirm = next(link for link in links if "/confirm-subscription?" in link)
        assert httpx.get(confirm).status_code == 200  # the link works as written

        r = user.put("/save-profile-img", content=png(), headers={"Content-Type": "image/png"})
        assert r.status_code == 200, r.text
        image_url = r.json()["url"]
        assert image_url.startswith(f"{srv.base_url}/media/"), image_url
        assert user.get("/get-profile-img-url").json()["url"].startswith(f"{srv.base_url}/media/")
        fetched = httpx.get(image_url)
        assert fetched.status_code == 200
        assert fetched.headers["content-type"].startswith("image/")
    finally:
        srv.stop()


def test_a_public_url_that_is_set_wins(tmp_path):
    public = "https://tutoring.example.test"
    srv = Server(tmp_path, SKILLSESSION_PUBLIC_URL=public).start()
    try:
        assert f"public URL {public} " in srv.log_path.read_text()
        links, _ = links_in_subscription_mail(srv)
        assert links
        assert all(link.startswith(f"{public}/") for link in links), links
    finally:
        srv.stop()
