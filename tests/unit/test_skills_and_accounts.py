from __future__ import annotations

import pytest

from skillsession.domain.accounts import (
    check_password,
    code_matches,
    hash_code,
    mask_email,
    new_verification_code,
    normalise_email,
)
from skillsession.domain.errors import ValidationFailed
from skillsession.domain.skills import parse_skills, skill_key


def test_skill_keys_ignore_case_and_spaces():
    assert skill_key(" linear  algebra") == skill_key("Linear Algebra") == "linear algebra"


def test_skills_from_a_comma_string_or_a_list_without_duplicates():
    assert parse_skills("Python, linear  algebra,,python ") == ["Python", "linear algebra"]
    assert parse_skills(["C", " c ", "Go"]) == ["C", "Go"]


def test_too_many_or_too_long_skills_are_refused():
    with pytest.raises(ValidationFailed):
        parse_skills([f"s{i}" for i in range(31)])
    with pytest.raises(ValidationFailed):
        parse_skills(["x" * 61])


def test_emails_are_normalised():
    assert normalise_email("  Ada@Example.COM ") == "ada@example.com"
    for bad in ("", "no-at", "a@b", "a b@c.d", "x" * 300 + "@a.bc"):
        with pytest.raises(ValidationFailed):
            normalise_email(bad)
    assert mask_email("ada@example.com") == "a***@example.com"


def test_passwords_need_ten_characters():
    check_password("0123456789")
    with pytest.raises(ValidationFailed) as err:
        check_password("short")
    assert err.value.code == "weak_password"


# -- verification codes ---------------------------------------------------------------------
def test_verification_codes_are_six_digits():
    codes = {new_verification_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_code_hash_is_keyed_and_bound_to_the_user():
    hashed = hash_code("user-1", "123456", b"k" * 32)
    assert len(hashed) == 64 and "123456" not in hashed
    assert hashed == hash_code("user-1", "123456", b"k" * 32)
    assert hashed != hash_code("user-2", "123456", b"k" * 32)
    assert hashed != hash_code("user-1", "123456", b"j" * 32)
    assert code_matches("user-1", "123456", b"k" * 32, hashed)
    assert not code_matches("user-1", "123457", b"k" * 32, hashed)
