"""Skill names: matched case- and space-insensitively."""

from __future__ import annotations

from skillsession.domain.errors import ValidationFailed

MAX_SKILLS = 30
MAX_SKILL_LENGTH = 60
MAX_SKILLS_TEXT_LENGTH = 2000  # skills given as one comma-separated string
MAX_SEARCH_SKILLS = 10  # skills one search may name


def clean_skill(name: str) -> str:
    """The display form: inner whitespace collapsed, ends trimmed."""
    return " ".join(name.split())


def skill_key(name: str) -> str:
    """The matching form: `" linear  algebra"` and `"Linear Algebra"` give the same key."""
    return clean_skill(name).casefold()


def parse_skills(value: str | list[str], field: str = "teaching_skills") -> list[str]:
    """Accept a list or one comma-separated string; drop empties and duplicates (by key)."""
    items = value.split(",") if isinstance(value, str) else value
    seen: set[str] = set()
    skills: list[str] = []
    for item in items:
        name = clean_skill(item)
        if not name:
            continue
        if len(name) > MAX_SKILL_LENGTH:
            raise ValidationFailed(
                f"a skill is at most {MAX_SKILL_LENGTH} characters",
                details={field: f"too long: {name[:20]}..."},
            )
        key = skill_key(name)
        if key not in seen:
            seen.add(key)
            skills.append(name)
    if len(skills) > MAX_SKILLS:
        raise ValidationFailed(f"at most {MAX_SKILLS} skills", details={field: "too many skills"})
    return skills
