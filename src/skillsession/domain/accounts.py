"""Account rules: e-mail normalisation, password strength, the mailed verification codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from skillsession.domain.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str, field: str = "email") -> str:
    """Emails are case-insensitive and stored lower case, trimmed."""
    value = email.strip().lower() if isinstance(email, str) else ""
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValidationFailed("not a valid e-mail address", details={field: "invalid e-mail"})
    return value


def check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
            details={"password": f"min {MIN_PASSWORD_LENGTH} characters"},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed("password too long", details={"password": "too long"})


def mask_email(email: str) -> str:
    """For logs: `a***@example.com`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


# -- verification codes (6 digits, mailed; only their HMAC is stored) ------------------------
def new_verification_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(user_id: str, code: str, secret: bytes) -> str:
    """What is stored instead of the code: HMAC-SHA256(secret, user_id + code), hex."""
    return hmac.new(secret, f"{user_id}\n{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(user_id: str, code: str, secret: bytes, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_code(user_id, code, secret).encode(), stored_hash.encode())
