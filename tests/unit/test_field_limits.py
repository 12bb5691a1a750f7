"""Field limits are declared once, as constants of the domain (or of the service module that owns
the format: paging's cursor, a link's token, a signed URL's parameters), and the HTTP schemas use
those names: no number in `http/` bounds a field by itself."""

from __future__ import annotations

import ast
from pathlib import Path

import skillsession.http

HTTP = Path(skillsession.http.__file__).parent
BOUNDS = {"max_length", "min_length", "le", "lt", "ge", "gt"}
FIELD_HELPERS = {"line", "free_text"}  # http/schemas.py: a text field of at most N characters


def literal_bounds(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg in BOUNDS and isinstance(value, ast.Constant):
                if keyword.arg in ("ge", "gt") and value.value in (0, 1):
                    continue  # "not negative", "at least one": not a limit of anything
                found.append((node.lineno, f"{keyword.arg}={value.value!r}"))
        name = getattr(node.func, "attr", getattr(node.func, "id", None))
        if name in FIELD_HELPERS and any(isinstance(a, ast.Constant) for a in node.args):
            found.append((node.lineno, f"{name}({ast.unparse(node.args[0])})"))
    return found


def test_no_number_in_http_bounds_a_field():
    found = {
        str(path.relative_to(HTTP)): bounds
        for path in sorted(HTTP.rglob("*.py"))
        if (bounds := literal_bounds(ast.parse(path.read_text(), str(path))))
    }
    assert found == {}


def test_the_check_sees_a_literal_bound():
    code = "class B:\n    a: str = Field(max_length=2000)\n    b: S.free_text(1000)\n"
    assert sorted(literal_bounds(ast.parse(code))) == [
        (2, "max_length=2000"),
        (3, "free_text(1000)"),
    ]
