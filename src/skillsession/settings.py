"""Configuration from `SKILLSESSION_*` environment variables (and an optional `.env`)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "skillsession", "password"}


class SettingsError(ValueError):
    """A setting that cannot be used; `variable` names it (SKILLSESSION_...)."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SKILLSESSION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./data")
    store: str | None = Field(None, description="sqlite:///path.db | dynamodb://table?region=")
    media: str | None = Field(None, description="file://dir | s3://bucket/prefix")
    mail: str | None = Field(None, description="files://dir | smtp://host:587 | sns://arn")
    auth: str = Field("local", description="local | cognito://region/pool?client_id=")
    metrics: str = Field("none", description="none | cloudwatch://namespace?stack=&region=")
    secret_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    mail_from: str = "SkillSession <no-reply@skillsession.localhost>"
    token_ttl_seconds: int = 3600
    expiry_interval_seconds: float = 60.0  # 0 disables the in-process job
    outbox_interval_seconds: float = 2.0  # 0 disables in-process delivery
    outbox_lease_seconds: int = 60  # a claimed notification returns after this if unfinished
    # tries of one notification before it is marked failed; with the backoff (5 s doubling up
    # to 1 h) 12 tries span about 2.5 hours, so a mail outage of that long loses nothing
    outbox_max_attempts: int = Field(12, ge=1, le=100)
    max_body_bytes: int = 8 * 1024 * 1024
    # a request's head (request line and headers): its size, and how long it may take to arrive
    # (from the connection's start, or the end of the previous exchange); see http/transport.py
    max_header_bytes: int = Field(32 * 1024, ge=1024)
    header_timeout_seconds: float = Field(10.0, gt=0)
    # abuse limits of /auth/* (each a sliding window; 429 with Retry-After): failed logins per
    # e-mail *and* client address (a stranger cannot lock the owner out); every /auth/* call per
    # client address (counted per process); sign-ups per client address per hour (0: no limit)
    login_max_failures: int = Field(5, ge=1)
    login_window_seconds: int = Field(900, ge=1)
    auth_calls_per_address: int = Field(60, ge=0)
    auth_window_seconds: int = Field(300, ge=1)
    signups_per_address: int = Field(10, ge=0)
    # the client address is the socket peer (API Gateway's sourceIp in Lambda); with proxies in
    # front, name them (IP addresses or networks): a request from one of them is the first
    # address in X-Forwarded-For, read from the right, that is not one of them
    trusted_proxies: list[str] = Field(default_factory=list)
    # argon2 hashes at once per process (each holds 64 MiB); another waits this long for its
    # turn, then gets a 503 with Retry-After
    password_hashes_at_once: int = Field(2, ge=1)
    password_hash_wait_seconds: float = Field(5.0, ge=0)
    code_ttl_seconds: int = 24 * 3600
    code_max_failures: int = 5
    # fair use: pending booking requests one student may hold with one tutor, and in all (0: no
    # limit)
    max_pending_per_tutor: int = Field(3, ge=0)
    max_pending_total: int = Field(10, ge=0)
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "warning"  # "info" logs every request as a JSON line
    # per worker process: the bytes of rendered answers kept, get-teacher-slots, the three
    # booking lists and tutor search together in one LRU (0: off; see service/answer_cache.py).
    # SKILLSESSION_SLOT_CACHE_BYTES, its former name, is still read
    answer_cache_bytes: int = Field(
        32 * 1024 * 1024,
        ge=0,
        validation_alias=AliasChoices(
            "answer_cache_bytes",
            "SKILLSESSION_ANSWER_CACHE_BYTES",
            "slot_cache_bytes",
            "SKILLSESSION_SLOT_CACHE_BYTES",
        ),
    )
    # the hot routes' happy path served outside FastAPI's per-request machinery (http/fast.py)
    fast_routes: bool = True
    # debugging and tests: every answer names the worker process that gave it (X-Worker-Id: pid)
    worker_id_header: bool = False

    @field_validator("secret_key")
    @classmethod
    def _no_placeholder_secret(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.lower() in PLACEHOLDER_SECRETS or len(value) < 32:
            raise ValueError(
                "SKILLSESSION_SECRET_KEY must be a random string of at least 32 characters"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        return [entry.strip() for entry in value]

    @property
    def store_url(self) -> str:
        return self.store or f"sqlite:///{self.data_dir / 'skillsession.db'}"

    @property
    def media_url(self) -> str:
        return self.media or f"file://{self.data_dir / 'media'}"

    @property
    def mail_url(self) -> str:
        return self.mail or f"files://{self.data_dir / 'mail'}"
