"""The domain's rules for saved text and e-mail addresses (domain/text.py, domain/accounts.py)."""

from __future__ import annotations

import pytest

from skillsession.domain import text
from skillsession.domain.accounts import email_address, normalise_email
from skillsession.domain.errors import ValidationFailed

CONTROL = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + ["\u2028", "\u2029"]
KEPT_IN_TEXT = {"\t", "\n", "\r"}


@pytest.mark.parametrize("char", CONTROL, ids=lambda c: f"U+{ord(c):04X}")
def test_no_control_character_in_a_line(char):
    assert text.line_problem(f"Ann{char}Bcc: x@evil.test") is not None
    with pytest.raises(ValueError):
        text.check_line(f"Ann{char}")
    if char in KEPT_IN_TEXT:
        assert text.check_text(f"first line{char}second") == f"first line{char}second"
    else:
        with pytest.raises(ValueError):
            text.check_text(f"text{char}")


@pytest.mark.parametrize("value", ["Zoë O'Brien-Łukasz", "李小龍", "Ann 🙂", "", "  spaced  "])
def test_ordinary_text_passes(value):
    assert text.check_line(value) == value
    assert text.check_text(value) == value


def test_require_line_names_the_field():
    with pytest.raises(ValidationFailed) as caught:
        text.require_line("a\nb", "last_name")
    assert "last_name" in caught.value.details


HOSTILE_ADDRESSES = [
    "=?utf-8?q?victim=40example.com?=<attacker@evil.test>",  # encoded word + display name
    "a@b.test,attacker@evil.test",  # a list
    "a@b.test, attacker@evil.test",
    "a@b.test;attacker@evil.test",
    "Victim <victim@example.com>",  # display name
    "<victim@example.com>",
    '"victim@example.com" <attacker@evil.test>',
    "=?utf-8?q?victim?=@example.com",  # encoded word as local part
    "victim@example.com (comment)",
    "a@b.test\r\nBcc: attacker@evil.test",  # header injection
    "a@b.test\nx",
    "a\x00@b.test",
    '"quoted local"@example.com',
    "a@[127.0.0.1]",  # domain literal
    "ü@example.com",  # needs SMTPUTF8
    "a..b@example.com",
    "a@localhost",
    "a@b",
    "@b.test",
    "a@",
    "",
    "x" * 250 + "@b.test",
]


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_hostile_addresses_are_not_addresses(address):
    with pytest.raises(ValueError):
        email_address(address)
    with pytest.raises(ValidationFailed) as caught:
        normalise_email(address, "tutor_email")
    assert set(caught.value.details) == {"tutor_email"}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  Ann@Example.COM ", "ann@example.com"),
        ("a+tag@sub.example.org", "a+tag@sub.example.org"),
        ("tutor1@demo.skillsession.test", "tutor1@demo.skillsession.test"),
        ("a@münchen.de", "a@xn--mnchen-3ya.de"),  # IDN domain kept in its ASCII form
    ],
)
def test_addresses_are_normalised(given, stored):
    assert email_address(given) == stored
    assert email_address(stored) == stored
