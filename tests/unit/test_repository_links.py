"""The repository documents itself: no file points outside it (a clone has nothing beside it),
and every relative link in its Markdown leads to a file that is there."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# and hidden ones but .ci; out: bench/out, what `make bench` writes and git ignores
SKIP_DIRS = {"node_modules", "data", "build", "dist", "__pycache__", "out"}
TEXT_SUFFIXES = {".md", ".py", ".toml", ".yaml", ".yml", ".json", ".txt", ".sql", ".lua", ".cfg"}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def repository_files():
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not d.endswith(".egg-info")
            and (d == ".ci" or not d.startswith("."))
        ]
        for name in names:
            path = Path(folder) / name
            if path.suffix in TEXT_SUFFIXES or name in ("Makefile", "run"):
                yield path


def test_no_file_points_outside_the_repository():
    outside = "../" + "shared"  # spelled so that this file does not match itself
    offenders = [
        str(path.relative_to(ROOT))
        for path in repository_files()
        if outside in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert offenders == []


def test_relative_markdown_links_lead_to_files():
    dead = []
    for path in repository_files():
        if path.suffix != ".md":
            continue
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL, or an anchor in the same file
            if not (path.parent / target.split("#")[0]).resolve().exists():
                dead.append(f"{path.relative_to(ROOT)}: {target}")
    assert dead == []
