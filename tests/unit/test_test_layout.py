"""The test tree is what the README says it is: every folder of tests under tests/ is described
in its layout (and nothing described is missing), and no test module edits `sys.path` (the
import path is pyproject's pytest `pythonpath`, one place)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def readme_test_folders() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^tests/\n(.*?)^\S", readme, re.MULTILINE | re.DOTALL)
    assert block, "README.md lays out tests/"
    return set(re.findall(r"^  ([a-z0-9_]+)/ ", block.group(1), re.MULTILINE))


def test_the_readme_describes_every_folder_of_tests_and_no_other():
    folders = {p.parent.name for p in TESTS.glob("*/test_*.py")}
    assert readme_test_folders() == folders


def test_no_test_module_edits_sys_path():
    offenders = [
        str(path.relative_to(ROOT))
        for path in TESTS.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    ]
    assert offenders == []
