"""The one place that turns settings into concrete adapters."""

from __future__ import annotations

import hashlib
import hmac
from functools import partial
from urllib.parse import urlparse

from skillsession.adapters.private import private_dir
from skillsession.ports.storage import Stores
from skillsession.service.deps import Deps
from skillsession.settings import Settings, SettingsError


def _adapter(variable: str, build):
    """`build()`, its ValueError (a URL it cannot use) named after the setting."""
    try:
        return build()
    except SettingsError:
        raise
    except ValueError as exc:
        raise SettingsError(variable, str(exc)) from None


def build_store(settings: Settings) -> Stores:
    return _adapter("SKILLSESSION_STORE", lambda: _build_store(settings))


def _build_store(settings: Settings):
    url = settings.store_url
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        from skillsession.adapters.store.sqlite import open_store

        return open_store(url)
    if scheme == "memory":
        from skillsession.adapters.store.memory import open_store

        return open_store()
    if scheme == "dynamodb":
        from skillsession.adapters.store.dynamodb import open_store

        return open_store(url)
    raise ValueError(f"unsupported store {url!r} (sqlite:///PATH, dynamodb://TABLE?region=…)")


def build_media(settings: Settings, secret: bytes):
    return _adapter("SKILLSESSION_MEDIA", lambda: _build_media(settings, secret))


def _build_media(settings: Settings, secret: bytes):
    url = settings.media_url
    scheme = urlparse(url).scheme
    if scheme == "file":
        from skillsession.adapters.media.disk import DiskMediaStore

        return DiskMediaStore.from_url(url, secret=_derive(secret, "media"))
    if scheme == "s3":
        from skillsession.adapters.media.s3 import S3MediaStore

        return S3MediaStore.from_url(url)
    raise ValueError(f"unsupported media {url!r} (file://DIR, s3://BUCKET/PREFIX)")


def build_mailer(settings: Settings):
    return _adapter("SKILLSESSION_MAIL", lambda: _build_mailer(settings))


def _build_mailer(settings: Settings):
    url = settings.mail_url
    scheme = urlparse(url).scheme
    if scheme == "files":
        from skillsession.adapters.mail.files import FileMailer

        return FileMailer.from_url(url)
    if scheme in ("smtp", "smtps"):
        from skillsession.adapters.mail.smtp import SmtpMailer

        return SmtpMailer.from_url(url)
    if scheme == "ses":
        from skillsession.adapters.mail.ses import SesMailer

        return SesMailer.from_url(url)
    if scheme == "sns":
        from skillsession.adapters.mail.sns import SnsMailer

        return SnsMailer.from_url(url)
    raise ValueError(f"unsupported mail {url!r} (files://DIR, smtp://HOST:PORT, ses://, sns://)")


def store_exists(settings: Settings) -> bool:
    """Whether the configured store is there already (a SQLite file, a DynamoDB table),
    found without creating anything: commands that only use a store refuse a missing one
    (a mistyped path) instead of creating an empty one."""
    url = settings.store_url
    if urlparse(url).scheme == "sqlite":
        from skillsession.adapters.store.sqlite import database_path

        return _adapter("SKILLSESSION_STORE", lambda: database_path(url)).exists()
    admin = build_store(settings).admin
    try:
        return getattr(admin, "exists", lambda: True)()
    finally:
        admin.close()


def build_metrics(settings: Settings):
    return _adapter("SKILLSESSION_METRICS", lambda: _build_metrics(settings))


def _build_metrics(settings: Settings):
    url = settings.metrics
    if url == "none":
        return None
    if urlparse(url).scheme == "cloudwatch":
        from skillsession.adapters.metrics.cloudwatch import CloudWatchMetrics

        return CloudWatchMetrics.from_url(url)
    raise ValueError(f"unsupported SKILLSESSION_METRICS: {url}")


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def build(settings: Settings | None = None) -> Deps:
    settings = settings or Settings()
    if settings.auth.startswith("cognito://"):
        return _build_cognito(settings)
    if settings.auth != "local":
        raise SettingsError(
            "SKILLSESSION_AUTH", f"unsupported {settings.auth!r} (local, cognito://…)"
        )
    from skillsession.adapters.auth.floors import TokenFloors
    from skillsession.adapters.auth.local import (
        LocalTokens,
        PasswordHasher,
        load_or_create_secret_key,
    )
    from skillsession.service.accounts import token_floor

    private_dir(settings.data_dir)
    secret = load_or_create_secret_key(settings.data_dir, settings.secret_key)
    stores = build_store(settings)
    tokens = LocalTokens(
        _derive(secret, "tokens"),
        ttl_seconds=settings.token_ttl_seconds,
        floors=TokenFloors(
            partial(token_floor, stores.accounts), ttl_seconds=settings.token_floor_cache_seconds
        ),
    )
    return Deps(
        settings=settings,
        stores=stores,
        media=build_media(settings, secret),
        mailer=build_mailer(settings),
        metrics=build_metrics(settings),
        verifier=tokens,
        issuer=tokens,
        passwords=PasswordHasher(
            at_once=settings.password_hashes_at_once,
            wait_seconds=settings.password_hash_wait_seconds,
        ),
        code_secret=_derive(secret, "codes"),
    )


def _build_cognito(settings: Settings) -> Deps:
    """Accounts live in Cognito: no token issuer, no password hashing, no codes; /auth/* calls
    are carried out by Cognito (adapters/auth/cognito_accounts.py). The instance secret only signs disk media URLs; with S3 media none is needed, so a
    Lambda never writes a key of its own into its ephemeral /tmp."""
    from skillsession.adapters.auth.cognito import CognitoVerifier
    from skillsession.adapters.auth.cognito_accounts import CognitoAccounts
    from skillsession.adapters.auth.floors import TokenFloors

    secret = b""
    if urlparse(settings.media_url).scheme == "file":
        from skillsession.adapters.auth.local import load_or_create_secret_key

        private_dir(settings.data_dir)
        secret = load_or_create_secret_key(settings.data_dir, settings.secret_key)
    stores = build_store(settings)
    # the token floors of Cognito's accounts are kept in the store (Cognito has the accounts)
    floors = TokenFloors(
        stores.revocations.token_floor, ttl_seconds=settings.token_floor_cache_seconds
    )
    return Deps(
        settings=settings,
        stores=stores,
        media=build_media(settings, secret),
        mailer=build_mailer(settings),
        metrics=build_metrics(settings),
        verifier=_adapter(
            "SKILLSESSION_AUTH", lambda: CognitoVerifier.from_url(settings.auth, floors=floors)
        ),
        issuer=None,
        passwords=None,
        accounts=_adapter("SKILLSESSION_AUTH", lambda: CognitoAccounts.from_url(settings.auth)),
    )
