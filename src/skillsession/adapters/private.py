"""Files and directories that only their owner may read: the embedded shape's data dir holds
password hashes, verification codes, tokens, mail and images. Modes are set at creation (not
left to the umask); what exists already is left as it is."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | Path) -> None:
    """`path` as a directory, creating it and each missing parent 0700 (`mkdir -p -m 700`)."""
    path = Path(path)
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(directory, DIR_MODE)  # mkdir's mode passes through the umask


def private_file(path: str | Path) -> None:
    """Create `path` empty and 0600 unless it exists (a database file, before SQLite opens it:
    its -wal, -shm and journal files then take the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
