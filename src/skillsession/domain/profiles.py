"""Profile rules: which fields a role has, how an update merges, who sees what."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from skillsession.domain import local_time, text
from skillsession.domain.errors import Conflict, ValidationFailed
from skillsession.domain.model import Profile, Role
from skillsession.domain.skills import parse_skills

COMMON_FIELDS = ("first_name", "last_name", "mobile_number", "time_zone")
STUDENT_FIELDS = (
    "university_name",
    "program_name",
    "enrolled_courses",
    "start_year",
    "end_year",
)
TUTOR_FIELDS = ("teaching_skills", "experience_years", "experience_description")
ROLE_FIELDS = {Role.STUDENT: STUDENT_FIELDS, Role.TUTOR: TUTOR_FIELDS}
EDITABLE_FIELDS = COMMON_FIELDS + STUDENT_FIELDS + TUTOR_FIELDS
# the fields' limits (in characters; the years' and the experience's as numbers)
MAX_NAME_LENGTH = 100  # first and last name, and a skill named in a list
MAX_MOBILE_LENGTH = 40
MAX_STUDIES_LENGTH = 200  # university_name, program_name
MAX_COURSES = 50
MAX_COURSE_LENGTH = 100
FIRST_YEAR, LAST_YEAR = 1900, 2200  # start_year, end_year
MAX_EXPERIENCE_YEARS = 80
MAX_DESCRIPTION_LENGTH = 4000  # experience_description
# one-line fields (names reach e-mail headers); `experience_description` is free text
LINE_FIELDS = frozenset(EDITABLE_FIELDS) - {"experience_description", "start_year", "end_year"}


def merge(
    existing: Profile | None,
    user_id: str,
    email: str,
    role: Role | None,
    changes: dict[str, Any],
    now: datetime,
) -> Profile:
    """Apply a save-user-details body: create on first call, keep omitted fields after.

    The role is fixed at creation; fields of the other role are refused."""
    if existing is None and role is None:
        raise ValidationFailed("role is required for a new profile", details={"role": "required"})
    if existing is not None and role is not None and role != existing.role:
        raise Conflict("the role cannot be changed", code="role_change")
    role = existing.role if existing is not None else role
    foreign = [f for f in ROLE_FIELDS[_other(role)] if changes.get(f) is not None]
    if foreign:
        raise ValidationFailed(
            f"fields not allowed for a {role.value}",
            details={f: f"not a {role.value} field" for f in foreign},
        )
    values = {
        k: v for k, v in changes.items() if k in COMMON_FIELDS + ROLE_FIELDS[role] and v is not None
    }
    _check_text(values)
    if "teaching_skills" in values:
        values["teaching_skills"] = parse_skills(values["teaching_skills"])
    if "time_zone" in values:
        values["time_zone"] = local_time.zone(values["time_zone"]).key
    base = existing or Profile(user_id=user_id, email=email, role=role, created_at=now)
    profile = replace(base, **values, email=email, updated_at=now)
    if profile.start_year and profile.end_year and profile.end_year < profile.start_year:
        raise ValidationFailed(
            "end_year is before start_year", details={"end_year": "< start_year"}
        )
    return profile


def _check_text(values: dict[str, Any]) -> None:
    """The schemas refuse these already; this holds for every other caller too."""
    for name, value in values.items():
        if name == "experience_description":
            if isinstance(value, str) and (problem := text.text_problem(value)):
                raise ValidationFailed(f"{name} {problem}", details={name: problem})
            continue
        if name not in LINE_FIELDS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                text.require_line(item, name)


def _other(role: Role) -> Role:
    return Role.TUTOR if role == Role.STUDENT else Role.STUDENT
