"""The Lambda functions' requirement set, derived from pyproject.toml (the one place versions
are pinned): the project's dependencies plus its `aws` extra, without those only the embedded
shape imports (`[tool.skillsession] embedded-only`: the web server, the CLI's libraries, local
password hashing). `make build-ApiFunction` installs these beside the package (installed with
--no-deps); `pip install .` still installs everything.

    python tools/lambda_requirements.py [pyproject.toml]   # one requirement a line
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def name_of(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def lambda_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    config = tomllib.loads(pyproject.read_text())
    project = config["project"]
    embedded_only = {name_of(n) for n in config["tool"]["skillsession"]["embedded-only"]}
    wanted = project["dependencies"] + project["optional-dependencies"]["aws"]
    unknown = embedded_only - {name_of(r) for r in project["dependencies"]}
    if unknown:
        raise ValueError(f"embedded-only names no dependency: {sorted(unknown)}")
    chosen: dict[str, str] = {}
    for requirement in wanted:
        if name_of(requirement) not in embedded_only:
            chosen.setdefault(name_of(requirement), requirement)
    return list(chosen.values())


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "pyproject.toml"
    print("\n".join(lambda_requirements(path)))
