"""What only the AWS shape's storage has: the server names its backends, and profile images live
in S3 behind presigned URLs (the embedded shape's signed /media URLs: test_errors.py)."""

from __future__ import annotations

import base64
import io
from urllib.parse import urlsplit

import httpx
from PIL import Image

SHAPES = ("dynamodb",)


def png(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 160, 30)).save(out, "PNG")
    return out.getvalue()


def test_health_names_the_aws_backends(anon):
    backends = anon.get("/health").json()["backends"]
    assert backends["store"] == "dynamodb" and backends["media"] == "s3"


def test_profile_images_in_s3(anon, student, tutor, server):
    r = student.put("/save-profile-img", content=png(), headers={"Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    first = r.json()["url"]
    url = student.get("/get-profile-img-url").json()["url"]
    endpoint = server.env["SKILLSESSION_STORE"].split("endpoint_url=")[1]
    assert url.startswith(endpoint) and "X-Amz-Signature=" in url
    assert f"/media/profile-images/{student.user_id}/" in urlsplit(url).path
    got = httpx.get(url)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(got.content)).size == (64, 64)
    # the service does not serve media itself in this shape
    key = urlsplit(url).path.split("/media/", 1)[1]
    assert anon.get(f"/media/{key}").status_code == 404

    # a new image replaces the old object
    body = {"image_base64": base64.b64encode(png((10, 10))).decode(), "content_type": "image/png"}
    assert student.put("/save-profile-img", json=body).status_code == 200
    assert httpx.get(first).status_code == 404
    seen = tutor.get("/get-profile-img-url", params={"email": student.email}).json()["url"]
    assert Image.open(io.BytesIO(httpx.get(seen).content)).size == (10, 10)
