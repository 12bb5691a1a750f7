"""Which characters a saved text may hold. One rule for every field, used by the schemas.

A *line* (a name, a course, a skill, anything that may end up in an e-mail header such as the
Subject or a display name) holds no control character at all: no CR/LF, tab, NUL, escape, no
Unicode line or paragraph separator. Free *text* (a message, a description, a reason) may keep
newlines and tabs (CR, LF, TAB) but no other control character. Refusing them when the text is
saved means a notification can never fail later because of what a person typed.
"""

from __future__ import annotations

import re

from skillsession.domain.errors import ValidationFailed

# Cc (C0, DEL, C1) plus U+2028/U+2029, which some parsers treat as line breaks.
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029"
_LINE_BAD = re.compile(f"[{_CONTROL}]")
# the same without TAB, LF and CR
_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")

LINE_PROBLEM = "must not contain control characters (line breaks, tabs, ...)"
TEXT_PROBLEM = "must not contain control characters other than line breaks and tabs"


def line_problem(value: str) -> str | None:
    """Why `value` cannot be saved as a one-line field (None: it can)."""
    return LINE_PROBLEM if _LINE_BAD.search(value) else None


def text_problem(value: str) -> str | None:
    """Why `value` cannot be saved as a free-text field (None: it can)."""
    return TEXT_PROBLEM if _TEXT_BAD.search(value) else None


def check_line(value: str) -> str:
    """`value` if it is a clean line; else ValueError (a schema's validator: 422 on that field)."""
    if problem := line_problem(value):
        raise ValueError(problem)
    return value


def check_text(value: str) -> str:
    """`value` if it is clean free text; else ValueError (422 on that field)."""
    if problem := text_problem(value):
        raise ValueError(problem)
    return value


def require_line(value: str | None, field: str) -> None:
    """For callers outside the HTTP schemas: ValidationFailed naming `field`."""
    if value is not None and (problem := line_problem(value)):
        raise ValidationFailed(f"{field} {problem}", details={field: problem})
