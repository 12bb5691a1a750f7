"""MediaStore on a local folder, with HMAC-signed, time-limited URLs served by the app.

Layout: the object for key `a/b/c.png` is `<root>/a/b/c.png`; its content type sits beside it in
the hidden sidecar `<root>/a/b/.c.png.type` (key segments cannot start with a dot, so a sidecar
never collides with a key).
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from skillsession.adapters.private import private_dir
from skillsession.domain.errors import Forbidden
from skillsession.ports import SignedUrl

# URL-safe segments only: keys go into signed URLs unescaped.
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")
_EXPIRES = re.compile(r"[0-9]{1,12}")


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative key, else raise ValueError."""
    if not isinstance(key, str) or not key or len(key) > 1024:
        raise ValueError("invalid media key")
    if key.startswith("/") or "\\" in key or "\x00" in key or ".." in key:
        raise ValueError(f"invalid media key: {key!r}")
    if not all(_SEGMENT.fullmatch(part) for part in key.split("/")):
        raise ValueError(f"invalid media key: {key!r}")
    return key


class DiskMediaStore:
    backend_name = "disk"

    def __init__(self, root: Path, secret: bytes, base_url_path: str = "/media"):
        if not secret:
            raise ValueError("DiskMediaStore needs a signing secret")
        self.root = Path(root)
        self._secret = secret
        self._base = base_url_path.rstrip("/")

    @classmethod
    def from_url(cls, url: str, *, secret: bytes, base_url_path: str = "/media") -> DiskMediaStore:
        """`file://data/media` (relative to the working directory) or `file:///abs/path`."""
        if not url.startswith("file://") or len(url) == len("file://"):
            raise ValueError(f"not a file:// media URL: {url}")
        return cls(Path(unquote(url[len("file://") :])), secret, base_url_path)

    # -- MediaStore -------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        private_dir(path.parent)
        _atomic_write(_sidecar(path), content_type.encode())
        _atomic_write(path, data)

    def get(self, key: str) -> tuple[bytes, str] | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        return data, self._content_type(path)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)

    def signed_url(self, key: str, expires_in_seconds: int) -> SignedUrl:
        check_key(key)
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(
            seconds=int(expires_in_seconds)
        )
        expires = str(int(expires_at.timestamp()))
        url = f"{self._base}/{key}?expires={expires}&signature={self._sign(key, expires)}"
        return SignedUrl(url=url, expires_at=expires_at)

    # -- serving signed URLs ----------------------------------------------------------------
    def verify(self, key: str, expires: str, signature: str, now: datetime) -> None:
        """Raise `Forbidden(code="invalid_signature")` unless the URL is genuine and unexpired."""
        try:
            check_key(key)
        except ValueError:
            raise Forbidden("invalid media URL", code="invalid_signature") from None
        if not isinstance(expires, str) or not _EXPIRES.fullmatch(expires):
            raise Forbidden("invalid media URL", code="invalid_signature")
        given = (signature or "").encode("utf-8", "replace")
        if not hmac.compare_digest(self._sign(key, expires).encode(), given):
            raise Forbidden("invalid media URL signature", code="invalid_signature")
        if int(expires) <= now.timestamp():
            raise Forbidden("media URL expired", code="invalid_signature")

    def local_path(self, key: str) -> Path | None:
        """The file holding `key` (for FileResponse), or None if it does not exist."""
        path = self._path(key)
        return path if path.is_file() else None

    def content_type(self, key: str) -> str:
        return self._content_type(self._path(key))

    # -- internals --------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _sign(self, key: str, expires: str) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _content_type(path: Path) -> str:
        try:
            return _sidecar(path).read_text("utf-8").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}.type")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
