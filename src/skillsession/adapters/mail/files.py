"""Mailer that writes each message as an `.eml` file in a folder (like Django's file backend).

A message with a Message-ID is written to `<token>.eml`, the token derived from the Message-ID,
so redelivering the same Message-ID overwrites the same file in O(1); `paths()` lists by
modification time. Messages without one get `<UTC timestamp>-<uuid>.eml`. Files are written under a temporary name and renamed into place, so a reader never
sees a partial message. Headers are MIME-encoded (ASCII only); lines end in LF, as in Django's
file backend and mbox files — mail clients and `email.message_from_binary_file` accept that.
"""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.policy
import hashlib
import os
import re
import tempfile
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from skillsession.adapters.private import private_dir
from skillsession.ports import MailError

_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")  # no "-": it separates timestamp and token
_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # lexicographic order == time order; no "-" inside


class FileMailer:
    backend_name = "files"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    @classmethod
    def from_url(cls, url: str) -> FileMailer:
        """`files://data/mail` (relative to the working directory) or `files:///abs/path`."""
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() != "files":
            raise ValueError(f"not a files:// mail URL: {url!r}")
        path = rest.split("?", 1)[0].split("#", 1)[0]
        if not path:
            raise ValueError(f"files:// mail URL without a directory: {url!r}")
        return cls(Path(path))

    def __repr__(self) -> str:
        return f"FileMailer({str(self.directory)!r})"

    def send(self, message: EmailMessage) -> None:
        try:
            data = message.as_bytes(policy=email.policy.default)
        except (ValueError, LookupError, email.errors.MessageError) as exc:
            raise MailError(f"cannot serialise message: {exc!r}", permanent=True) from exc
        message_id = str(message.get("Message-ID", "")).strip()
        try:
            private_dir(self.directory)
            if message_id:
                target = self.directory / f"{_token(message_id)}.eml"
            else:  # nothing to be idempotent about: just a unique name
                target = self._new_path(uuid.uuid4().hex)
            _atomic_write(target, data)
        except OSError as exc:
            raise MailError(f"cannot write mail to {self.directory}: {exc}") from exc

    def paths(self) -> list[Path]:
        """The delivered `.eml` files, oldest first."""
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.glob("*.eml") if not p.name.startswith(".")]
        return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def messages(self) -> list[EmailMessage]:
        """The delivered messages, parsed, oldest first (handy for tests and the CLI)."""
        return [read_eml(p) for p in self.paths()]

    def _new_path(self, token: str) -> Path:
        stamp = datetime.now(UTC).strftime(_TIMESTAMP_FORMAT)
        return self.directory / f"{stamp}-{token}.eml"


def read_eml(path: Path | str) -> EmailMessage:
    with open(path, "rb") as fh:
        message = email.message_from_binary_file(fh, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _token(message_id: str) -> str:
    """A file-name-safe token: a readable prefix of the Message-ID plus a hash of all of it."""
    readable = _UNSAFE.sub("_", message_id.strip("<> ")).strip("._")[:48]
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{readable}_{digest}" if readable else digest


def _atomic_write(target: Path, data: bytes) -> None:
    # Hidden temp name (not *.eml) in the same directory, so os.replace() is an atomic rename.
    # mkstemp creates it 0600, which suits mail carrying verification codes.
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
