"""Every MediaStore adapter must pass this file. To add one, add a factory to FACTORIES."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from skillsession.ports import MediaStore, SignedUrl


def _disk(tmp_path: Path) -> MediaStore:
    from skillsession.adapters.media.disk import DiskMediaStore

    return DiskMediaStore(tmp_path / "media", b"contract-test-secret-0123456789abcdef")


def _s3(tmp_path: Path) -> MediaStore:
    import uuid

    from moto_server import REGION, endpoint_url

    from skillsession.adapters.media.s3 import S3MediaStore

    bucket = f"media-{uuid.uuid4().hex[:12]}"
    store = S3MediaStore.from_url(
        f"s3://{bucket}/uploads?region={REGION}&endpoint_url={endpoint_url()}"
    )
    store.ensure_bucket()
    return store


FACTORIES: dict[str, Callable[[Path], MediaStore]] = {"disk": _disk, "s3": _s3}


@pytest.fixture(params=list(FACTORIES))
def media(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    return FACTORIES[request.param](tmp_path)


KEY = "profile-images/01HZYUSER/01J0IMAGE.png"
DATA = bytes(range(256)) * 8


def test_backend_has_a_name(media: MediaStore):
    assert isinstance(media.backend_name, str) and media.backend_name


def test_put_then_get_round_trips_bytes_and_type(media: MediaStore):
    media.put(KEY, DATA, "image/png")
    assert media.get(KEY) == (DATA, "image/png")


def test_keys_are_independent(media: MediaStore):
    media.put(KEY, b"one", "image/png")
    media.put("profile-images/01HZYUSER/other.webp", b"two", "image/webp")
    assert media.get(KEY) == (b"one", "image/png")
    assert media.get("profile-images/01HZYUSER/other.webp") == (b"two", "image/webp")


def test_put_overwrites_data_and_type(media: MediaStore):
    media.put(KEY, b"old", "image/png")
    media.put(KEY, b"new", "image/jpeg")
    assert media.get(KEY) == (b"new", "image/jpeg")


def test_missing_key_is_none(media: MediaStore):
    assert media.get("profile-images/nobody/none.png") is None


def test_delete_removes_and_is_idempotent(media: MediaStore):
    media.put(KEY, DATA, "image/png")
    media.delete(KEY)
    assert media.get(KEY) is None
    media.delete(KEY)
    media.delete("profile-images/nobody/never.png")


def test_empty_object(media: MediaStore):
    media.put(KEY, b"", "image/png")
    assert media.get(KEY) == (b"", "image/png")


def test_signed_url_expires_in_the_future(media: MediaStore):
    media.put(KEY, DATA, "image/png")
    before = datetime.now(UTC)
    signed = media.signed_url(KEY, 900)
    assert isinstance(signed, SignedUrl)
    assert signed.url and KEY in signed.url
    assert signed.expires_at.tzinfo is not None
    lower = before + timedelta(seconds=900) - timedelta(seconds=5)
    upper = datetime.now(UTC) + timedelta(seconds=900) + timedelta(seconds=5)
    assert lower <= signed.expires_at <= upper


def test_signed_url_serves_the_bytes(media: MediaStore):
    """Absolute URLs (S3 presigned GET) are fetched over HTTP; app-relative ones (disk) are
    checked by the HTTP tests."""
    media.put(KEY, DATA, "image/png")
    url = media.signed_url(KEY, 60).url
    if not url.startswith("http"):
        pytest.skip("disk: an app-relative /media URL, fetched by tests/e2e/test_errors.py")
    import httpx

    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "image/png"


def test_signed_urls_differ_per_key(media: MediaStore):
    assert media.signed_url(KEY, 60).url != media.signed_url(KEY + "x", 60).url
