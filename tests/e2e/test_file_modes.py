"""What the embedded shape writes to disk (password hashes, codes, tokens, mail, images) is
readable by its owner only, whatever the umask: a fresh data dir through the real CLI and
server process."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from e2e.api_client import Api, Mailbox
from e2e.server import Server, run_cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The usual 022 (files 0644, directories 0755 unless the code says otherwise)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def assert_private(root: Path) -> None:
    """Every directory under `root` (itself included) is 0700 and every file 0600."""
    wrong = {
        str(p.relative_to(root.parent)): oct(mode(p))
        for p in [root, *root.rglob("*")]
        if mode(p) != (0o700 if p.is_dir() else 0o600)
    }
    assert not wrong, wrong


def test_a_fresh_data_dir_is_private(tmp_path, open_umask):
    data = tmp_path / "fresh" / "data"  # neither exists yet
    srv = Server(data)
    srv.data_dir = tmp_path / "fresh"  # the server's log goes beside the data dir, not in it
    srv.log_path = tmp_path / "fresh" / "server.log"
    srv.start()
    try:
        api = Api(srv.base_url, Mailbox(data / "mail")).as_new_user("student", "private")
        image = io.BytesIO()
        Image.new("RGB", (32, 32), "teal").save(image, "PNG")
        r = api.put(
            "/save-profile-img", content=image.getvalue(), headers={"Content-Type": "image/png"}
        )
        assert r.status_code == 200, r.text
        names = {p.name for p in data.iterdir()}
        assert {"skillsession.db", "skillsession.db-wal", "skillsession.db-shm"} <= names, names
        assert {"secret.key", "mail", "media"} <= names, names
        assert any((data / "media").rglob("*.png"))
        assert any((data / "mail").glob("*.eml"))
        assert_private(data)  # while the server runs: the -wal and -shm files are there
    finally:
        srv.stop()
    assert_private(data)


def test_a_backup_is_private(tmp_path, open_umask):
    data = tmp_path / "data"
    run_cli(data, "migrate")
    target = tmp_path / "copies" / "backup.db"
    run_cli(data, "backup", str(target))
    assert mode(target) == 0o600
    assert_private(data)
