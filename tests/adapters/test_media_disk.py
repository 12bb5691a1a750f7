import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from skillsession.adapters.media.disk import DiskMediaStore
from skillsession.domain.errors import Forbidden

SECRET = b"m" * 32
KEY = "profile-images/01HZY/01J0A.png"


@pytest.fixture
def store(tmp_path: Path) -> DiskMediaStore:
    return DiskMediaStore(tmp_path / "media", SECRET)


def split(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path, query["expires"][0], query["signature"][0]


def now() -> datetime:
    return datetime.now(UTC)


def test_put_writes_the_file_under_root_with_its_type(store: DiskMediaStore):
    store.put(KEY, b"png-bytes", "image/png")
    path = store.root / "profile-images" / "01HZY" / "01J0A.png"
    assert path.read_bytes() == b"png-bytes"
    assert store.local_path(KEY) == path
    assert store.content_type(KEY) == "image/png"
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_missing_key_has_no_local_path(store: DiskMediaStore):
    assert store.local_path(KEY) is None


def test_content_type_falls_back_to_the_extension(store: DiskMediaStore):
    store.put("a/b.jpg", b"x", "image/jpeg")
    (store.root / "a" / ".b.jpg.type").unlink()
    assert store.get("a/b.jpg") == (b"x", "image/jpeg")


def test_delete_removes_the_sidecar_too(store: DiskMediaStore):
    store.put(KEY, b"x", "image/png")
    store.delete(KEY)
    assert list((store.root / "profile-images" / "01HZY").iterdir()) == []


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../etc/passwd",
        "a/../../b",
        "a/..",
        "/etc/passwd",
        "a\\b",
        "a\x00b",
        "a//b",
        "a/",
        ".hidden",
        "a/.b.png.type",
        "a/b c",
        "a/b?c",
        "a/é",
    ],
)
def test_unsafe_keys_are_refused(store: DiskMediaStore, key: str):
    for call in (
        lambda: store.put(key, b"x", "image/png"),
        lambda: store.get(key),
        lambda: store.delete(key),
        lambda: store.signed_url(key, 60),
    ):
        with pytest.raises(ValueError):
            call()
    assert not (store.root.parent / "etc").exists()


def test_signed_url_shape_and_verify(store: DiskMediaStore):
    signed = store.signed_url(KEY, 900)
    path, expires, signature = split(signed.url)
    assert path == f"/media/{KEY}"
    assert int(expires) == int(signed.expires_at.timestamp())
    assert len(signature) == 64 and int(signature, 16) >= 0
    assert timedelta(seconds=898) < signed.expires_at - now() <= timedelta(seconds=900)
    store.verify(KEY, expires, signature, now())


def test_base_url_path_is_used(tmp_path: Path):
    store = DiskMediaStore(tmp_path, SECRET, base_url_path="/api/media/")
    assert store.signed_url(KEY, 60).url.startswith(f"/api/media/{KEY}?expires=")


def test_expired_url_is_forbidden(store: DiskMediaStore):
    _, expires, signature = split(store.signed_url(KEY, 60).url)
    store.verify(KEY, expires, signature, now() + timedelta(seconds=59))
    with pytest.raises(Forbidden) as err:
        store.verify(KEY, expires, signature, now() + timedelta(seconds=61))
    assert err.value.code == "invalid_signature"


def forged(store: DiskMediaStore):
    _, expires, signature = split(store.signed_url(KEY, 60).url)
    other = DiskMediaStore(store.root, b"x" * 32)
    _, _, other_sig = split(other.signed_url(KEY, 60).url)
    return [
        ("profile-images/01HZY/other.png", expires, signature),  # another key
        (KEY, str(int(expires) + 3600), signature),  # extended expiry
        (KEY, expires, signature[:-1] + ("0" if signature[-1] != "0" else "1")),
        (KEY, expires, signature.upper()),
        (KEY, expires, ""),
        (KEY, expires, other_sig),  # another secret
        (KEY, expires, "é" * 64),  # non-ASCII must not raise TypeError
        (KEY, f"+{expires}", signature),
        (KEY, f" {expires}", signature),
        (KEY, f"{expires}.0", signature),
        (KEY, "1e12", signature),
        (KEY, "", signature),
        ("../" + KEY, expires, signature),
    ]


def test_forged_urls_are_forbidden(store: DiskMediaStore):
    for key, expires, signature in forged(store):
        with pytest.raises(Forbidden) as err:
            store.verify(key, expires, signature, now())
        assert err.value.code == "invalid_signature"


def test_from_url_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    relative = DiskMediaStore.from_url("file://data/media", secret=SECRET)
    assert relative.root == Path("data/media")
    relative.put(KEY, b"x", "image/png")
    assert (tmp_path / "data" / "media" / KEY).is_file()
    absolute = DiskMediaStore.from_url(f"file://{tmp_path}/abs", secret=SECRET)
    assert absolute.root == tmp_path / "abs"
    assert absolute.backend_name == "disk"
    with pytest.raises(ValueError):
        DiskMediaStore.from_url("s3://bucket/prefix", secret=SECRET)
    with pytest.raises(ValueError):
        DiskMediaStore.from_url("file://data", secret=b"")


def test_files_are_private_to_the_service_user(store: DiskMediaStore):
    store.put(KEY, b"x", "image/png")
    assert os.stat(store.local_path(KEY)).st_mode & 0o077 == 0
