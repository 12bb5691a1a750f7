"""Account rules: e-mail normalisation, password strength, the mailed verification codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from skillsession.domain.errors import BadRequest, Forbidden, ValidationFailed

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
MAX_CODE_LENGTH = 12  # what a code field may hold (a verification code is 6 digits)


def wrong_password(message: str = "the current password is wrong") -> Forbidden:
    """The caller's own password, asked again (change password, delete the account), is wrong:
    403, not 401, since the caller's token is good (a 401 would end the client's session)."""
    return Forbidden(message, code="wrong_password")


def invalid_code() -> BadRequest:
    """A mailed code that is wrong, gone or already used (400; the answer says no more)."""
    return BadRequest("wrong or expired code", code="invalid_code")


def email_address(email: str) -> str:
    """The normalised form of one bare e-mail address (`local@domain`, lower case, the domain in
    its ASCII form), or ValueError saying why it is not one.

    Checked as an address by email-validator (syntax only, no DNS): no display name
    (`Name <a@b>`), no list (`a@b,c@d`), no encoded word (`=?utf-8?q?...?=`), no quoted or
    non-ASCII local part, no comments, no IP literal. `.test` domains (RFC 2606) are allowed:
    the demo users live there."""
    from email_validator import EmailNotValidError, validate_email  # ~50 ms: first use only

    if not isinstance(email, str) or len(email) > MAX_EMAIL_LENGTH:
        raise ValueError("not a valid e-mail address")
    if "=?" in email:  # valid atext, but a mail client may decode it as an RFC 2047 word
        raise ValueError("not a valid e-mail address: no encoded words (=?...?=)")
    try:
        found = validate_email(
            email.strip(),
            check_deliverability=False,
            allow_smtputf8=False,
            allow_display_name=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            test_environment=True,
        )
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from None
    value = (found.ascii_email or found.normalized).lower()
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValueError("not a valid e-mail address: too long")
    return value


def normalise_email(email: str, field: str = "email") -> str:
    """Emails are case-insensitive and stored normalised (`email_address`); 422 otherwise."""
    try:
        return email_address(email)
    except ValueError as exc:
        raise ValidationFailed("not a valid e-mail address", details={field: str(exc)}) from None


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
