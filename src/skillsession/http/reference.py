"""The API reference in Markdown (docs/api.md), rendered from the OpenAPI document.

`skillsession api-reference --output docs/api.md` writes it; a test renders the served document
and compares it with the committed file, so the two cannot drift. Everything here comes from the
document: the prose is its description and the operations' descriptions.
"""

from __future__ import annotations

import re
from typing import Any

ORDER = ("get", "put", "post", "delete", "patch")
REF = "#/components/schemas/"
HEADER = """<!-- Generated from the OpenAPI document: `skillsession api-reference --output docs/api.md`.
     Do not edit by hand; tests/e2e/test_api_document.py fails when this file and the served
     /openapi.json disagree. -->"""


def render(document: dict[str, Any]) -> str:
    info = document["info"]
    schemes = document.get("components", {}).get("securitySchemes", {})
    groups = operations_by_tag(document)
    lines = [HEADER, "", f"# {info['title']} HTTP API {info['version']}", ""]
    lines += [info.get("description", "").strip(), ""]
    lines += [
        "The same document, served: `GET /openapi.json` (OpenAPI "
        f"{document['openapi']}) and its interactive form, `GET /docs`.",
        "",
        "## Operations",
        "",
        "| operation | | operationId | summary |",
        "|---|---|---|---|",
    ]
    for operations in groups.values():
        for method, path, op in operations:
            lock = "public" if is_public(op) else "token"
            lines.append(
                f"| [`{method.upper()} {path}`](#{op['operationId'].lower()}) | {lock} "
                f"| `{op['operationId']}` | {cell(op.get('summary', ''))} |"
            )
    lines += ["", "## Errors", ""]
    lines += ["Every error answer has the [ErrorOut](#errorout) body. The statuses:", ""]
    lines += ["| status | meaning |", "|---|---|", *error_statuses(document)]
    for tag, operations in groups.items():
        lines += ["", f"## {tag[:1].upper()}{tag[1:]}"]
        for method, path, op in operations:
            lines += operation(method, path, op, schemes)
    lines += ["", "## Schemas"]
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        lines += schema_section(name, schema)
    return "\n".join(lines).rstrip() + "\n"


def operations_by_tag(document: dict[str, Any]) -> dict[str, list[tuple[str, str, dict]]]:
    groups: dict[str, list[tuple[str, str, dict]]] = {}
    for path, item in document["paths"].items():
        for method in sorted(item, key=lambda m: ORDER.index(m) if m in ORDER else len(ORDER)):
            op = item[method]
            groups.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    return groups


def is_public(op: dict[str, Any]) -> bool:
    return not op.get("security")


def operation(method: str, path: str, op: dict[str, Any], schemes: dict[str, Any]) -> list[str]:
    lines = ["", f'<a id="{op["operationId"].lower()}"></a>', ""]
    lines += [f"### `{method.upper()} {path}`", "", f"**{op.get('summary', '')}**", ""]
    if is_public(op):
        access = "public (no token)"
    else:
        names = [name for requirement in op["security"] for name in requirement]
        access = "`Authorization: Bearer <token>` (" + ", ".join(names) + ")"
        if any(schemes.get(name, {}).get("description") for name in names):
            access += ": " + "; ".join(schemes[n]["description"] for n in names if n in schemes)
    lines += [f"operationId `{op['operationId']}` · {access}", ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    parameters = op.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | type | required | notes |", "|---|---|---|---|---|"]
        for p in parameters:
            schema = p.get("schema", {})
            notes = p.get("description") or schema.get("description", "")
            lines.append(
                f"| `{p['name']}` | {p['in']} | {type_of(schema)} "
                f"| {'yes' if p.get('required') else 'no'} | {cell(notes)} |"
            )
        lines.append("")
    body = op.get("requestBody")
    if body:
        required = "required" if body.get("required") else "optional"
        lines.append(f"Request body ({required}):")
        lines.append("")
        for media_type, content in body.get("content", {}).items():
            lines.append(f"- `{media_type}`: {type_of(content.get('schema', {}))}")
        lines.append("")
        if body.get("description"):
            lines += [body["description"].strip(), ""]
    lines += ["| status | body | meaning |", "|---|---|---|"]
    errors: dict[str, list[str]] = {}  # body -> the error statuses that have it
    for status, response in op.get("responses", {}).items():
        shown = body_of(response)
        if status.startswith(("4", "5")):
            errors.setdefault(shown, []).append(status)
        else:
            lines.append(f"| {status} | {shown} | {cell(response.get('description', ''))} |")
    for shown, statuses in errors.items():
        lines.append(f"| {', '.join(statuses)} | {shown} | see [Errors](#errors) |")
    return lines


def body_of(response: dict[str, Any]) -> str:
    content = response.get("content", {})
    shown = ", ".join(
        type_of(c["schema"]) if c.get("schema") else f"`{media_type}`"
        for media_type, c in content.items()
    )
    return shown or "—"


def error_statuses(document: dict[str, Any]) -> list[str]:
    """The error statuses the operations document, with their meaning (the first one given)."""
    meanings: dict[str, str] = {}
    for item in document["paths"].values():
        for op in item.values():
            for status, response in op.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    meanings.setdefault(status, response.get("description", ""))
    return [f"| {status} | {cell(meanings[status])} |" for status in sorted(meanings)]


def schema_section(name: str, schema: dict[str, Any]) -> list[str]:
    lines = ["", f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip(), ""]
    properties = schema.get("properties")
    if not properties:
        lines.append(type_of(schema))
        return lines
    required = set(schema.get("required", ()))
    lines += ["| field | type | required | notes |", "|---|---|---|---|"]
    for field, spec in properties.items():
        lines.append(
            f"| `{field}` | {type_of(spec)} | {'yes' if field in required else 'no'} "
            f"| {cell(notes_of(spec))} |"
        )
    return lines


def type_of(schema: dict[str, Any]) -> str:
    """A schema as a short phrase: `string (≤ 254, pattern …)`, [BookingOut](#bookingout),
    `array of …`, `… or null`."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF)
        return f"[{name}](#{name.lower()})"
    for combinator, joiner in (("anyOf", " or "), ("oneOf", " or "), ("allOf", " and ")):
        if combinator in schema:
            return joiner.join(type_of(part) for part in schema[combinator])
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type")
    if kind == "array":
        text = f"array of {type_of(schema.get('items', {}))}"
    elif kind == "object" and "additionalProperties" in schema:
        values = schema["additionalProperties"]
        text = "object" if values is True else f"object of {type_of(values)}"
    elif kind is None:
        return "any"
    else:
        text = str(kind)
    limits = constraints(schema)
    return f"{text} ({', '.join(limits)})" if limits else text


def constraints(schema: dict[str, Any]) -> list[str]:
    found = []
    if "format" in schema:
        found.append(schema["format"])
    low, high = schema.get("minLength"), schema.get("maxLength")
    if high is not None:
        found.append(f"{low or 0}..{high} chars" if low else f"≤ {high} chars")
    elif low is not None:
        found.append(f"≥ {low} chars")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None or high is not None:
        found.append(
            f"{number(low) if low is not None else ''}..{number(high) if high is not None else ''}"
        )
    if "maxItems" in schema:
        found.append(f"≤ {schema['maxItems']} items")
    if "pattern" in schema:
        found.append(f"`{schema['pattern']}`")
    return found


def notes_of(spec: dict[str, Any]) -> str:
    notes = spec.get("description", "")
    if "default" in spec and spec["default"] is not None:
        notes = f"{notes}; default `{spec['default']}`" if notes else f"default `{spec['default']}`"
    examples = spec.get("examples")
    if examples:
        shown = ", ".join(f"`{e}`" for e in examples)
        notes = f"{notes}; e.g. {shown}" if notes else f"e.g. {shown}"
    return notes


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def cell(text: str) -> str:
    """Text that fits in one Markdown table cell."""
    return re.sub(r"\s+", " ", str(text)).replace("|", "\\|").strip()
