"""Demo people: a student is never named like a tutor (student N once drew tutor N's name:
`Random(-i)` seeds like `Random(i)`), and the names vary."""

from __future__ import annotations

from datetime import UTC, datetime

from skillsession import demo
from skillsession.domain.model import Role


def names(people: int) -> dict[Role, list[str]]:
    found: dict[Role, list[str]] = {Role.TUTOR: [], Role.STUDENT: []}
    now = datetime(2030, 1, 1, tzinfo=UTC)
    for batch, _ in demo.batches(range(1, people + 1), range(1, people + 1), 1, "hash", now):
        for profile in batch.profiles:
            found[profile.role].append(f"{profile.first_name} {profile.last_name}")
    return found


def test_no_student_is_named_like_a_tutor():
    found = names(300)
    assert not set(found[Role.STUDENT]) & set(found[Role.TUTOR])
    assert all(s != t for s, t in zip(found[Role.STUDENT], found[Role.TUTOR], strict=True))


def test_the_default_demo_names_vary():
    found = names(10)  # `make run`: 20 tutors, 10 students
    assert len(set(found[Role.STUDENT])) >= 8
    assert len(set(found[Role.TUTOR])) >= 8
