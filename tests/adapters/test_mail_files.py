from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from skillsession.adapters.mail.files import FileMailer, read_eml
from skillsession.ports import MailError
from skillsession.service.mail_message import build_message

NAME = re.compile(r"^[A-Za-z0-9._]+\.eml$")  # the token of the Message-ID


def _msg(message_id: str | None = "n1", subject: str = "Café – Zoë", text: str = "Hallo Zoë\n"):
    return build_message(
        to="zoe@example.com",
        sender="no-reply@skillsession.localhost",
        subject=subject,
        text=text,
        message_id=message_id,
    )


def test_from_url_relative_and_absolute(tmp_path: Path):
    assert FileMailer.from_url("files://data/mail").directory == Path("data/mail")
    assert FileMailer.from_url(f"files://{tmp_path}/mail").directory == tmp_path / "mail"
    assert FileMailer.from_url("files:///var/mail/x").directory == Path("/var/mail/x")
    assert FileMailer.from_url("files://./out").directory == Path("out")
    assert FileMailer.from_url("files://data/mail").backend_name == "files"


@pytest.mark.parametrize("url", ["file://data/mail", "smtp://host", "files://", "data/mail"])
def test_from_url_rejects_other_urls(url):
    with pytest.raises(ValueError):
        FileMailer.from_url(url)


def test_send_creates_the_directory_and_one_readable_eml(tmp_path: Path):
    directory = tmp_path / "a" / "mail"
    mailer = FileMailer(directory)
    mailer.send(_msg())

    [path] = mailer.paths()
    assert path.parent == directory
    assert NAME.match(path.name), path.name
    assert "n1_skillsession" in path.name  # readable part of the Message-ID
    parsed = read_eml(path)
    assert parsed["Subject"] == "Café – Zoë"
    assert parsed["Message-ID"] == "<n1@skillsession>"
    assert parsed.get_content() == "Hallo Zoë\n"
    assert path.read_bytes().isascii()  # RFC 5322 on disk, MIME-encoded
    assert b"\r\n" not in path.read_bytes()  # LF line endings, like Django's file backend


def test_same_message_id_overwrites_the_same_file(tmp_path: Path):
    mailer = FileMailer(tmp_path)
    mailer.send(_msg(text="first\n"))
    [first] = mailer.paths()
    mailer.send(_msg(text="second\n"))
    assert mailer.paths() == [first]
    assert read_eml(first).get_content() == "second\n"


def test_different_messages_get_files_in_send_order(tmp_path: Path):
    mailer = FileMailer(tmp_path)
    ids = ["zzz", "aaa", "mmm", "b-1"]
    for message_id in ids:
        mailer.send(_msg(message_id=message_id, subject=message_id))
    assert [m["Subject"] for m in mailer.messages()] == ids
    assert len({p.name for p in mailer.paths()}) == len(ids)


def test_messages_without_message_id_never_overwrite(tmp_path: Path):
    mailer = FileMailer(tmp_path)
    first = _msg()
    del first["Message-ID"]
    mailer.send(first)
    mailer.send(first)
    assert len(mailer.paths()) == 2


def test_hostile_message_ids_stay_inside_the_directory(tmp_path: Path):
    mailer = FileMailer(tmp_path / "mail")
    for hostile in [
        "<../../etc/passwd@x>",
        "<a/b\\c@x>",
        "<" + "x" * 500 + "@x>",
        "<-@->",
        "<a b@c d>",
    ]:
        message = _msg()
        message.replace_header("Message-ID", hostile)
        mailer.send(message)
    paths = mailer.paths()
    assert len(paths) == 5
    for path in paths:
        assert path.parent == tmp_path / "mail"
        assert NAME.match(path.name), path.name
        assert len(path.name) < 120
    assert list(tmp_path.iterdir()) == [tmp_path / "mail"]


def test_written_atomically_via_a_hidden_temp_file(tmp_path: Path, monkeypatch):
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((str(src), str(dst)))
        assert Path(src).read_bytes()  # complete before it gets its final name
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    mailer = FileMailer(tmp_path)
    mailer.send(_msg())
    [(src, dst)] = renames
    assert Path(src).parent == tmp_path and Path(src).name.startswith(".")
    assert not src.endswith(".eml")
    assert [Path(dst)] == mailer.paths()
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(dst).name]  # no temp left


def test_failed_write_leaves_no_temp_file_and_is_temporary(tmp_path: Path, monkeypatch):
    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(MailError) as info:
        FileMailer(tmp_path).send(_msg())
    assert info.value.permanent is False
    assert list(tmp_path.iterdir()) == []


def test_unusable_directory_is_a_temporary_mail_error(tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(MailError) as info:
        FileMailer(blocker / "mail").send(_msg())
    assert info.value.permanent is False


def test_paths_ignores_other_files_and_missing_directory(tmp_path: Path):
    assert FileMailer(tmp_path / "nope").paths() == []
    (tmp_path / ".partial.tmp").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert FileMailer(tmp_path).paths() == []


def test_unserialisable_message_is_a_permanent_error(tmp_path: Path, monkeypatch):
    message = _msg()

    def broken(*args, **kwargs):
        raise ValueError("bad header")

    monkeypatch.setattr(message, "as_bytes", broken)
    with pytest.raises(MailError) as info:
        FileMailer(tmp_path).send(message)
    assert info.value.permanent is True
    assert list(tmp_path.iterdir()) == []
