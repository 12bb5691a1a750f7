import base64
import functools
import json
import os
import stat
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest

from skillsession.adapters.auth import local
from skillsession.adapters.auth.local import (
    LocalTokens,
    PasswordHasher,
    load_or_create_secret_key,
    verify_dummy_password,
)
from skillsession.domain.errors import Unauthorized
from skillsession.ports import Identity

SECRET = b"t" * 32
FAST = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


# -- passwords ------------------------------------------------------------------------------
def test_hash_and_verify():
    hasher = PasswordHasher(**FAST)
    hashed = hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert hasher.verify(hashed, "correct horse battery")
    assert not hasher.verify(hashed, "wrong horse battery")
    assert not hasher.needs_rehash(hashed)


@pytest.mark.parametrize("bad_hash", ["", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$x$y", "é"])
def test_verify_never_raises_for_bad_hashes(bad_hash):
    hasher = PasswordHasher(**FAST)
    assert hasher.verify(bad_hash, "whatever") is False
    assert hasher.needs_rehash(bad_hash) is True


def test_needs_rehash_when_parameters_change():
    old = PasswordHasher(**FAST).hash("pw-0123456789")
    assert PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).needs_rehash(old)


def test_default_hasher_is_argon2id_with_strong_parameters():
    hashed = PasswordHasher().hash("pw-0123456789")
    assert hashed.startswith("$argon2id$") and "m=65536" in hashed


def test_dummy_verify_is_always_false():
    assert PasswordHasher(**FAST).verify_dummy("anything") is False
    assert verify_dummy_password("anything") is False


# -- secret key -----------------------------------------------------------------------------
def test_secret_key_created_0600_and_reused(tmp_path: Path):
    key = load_or_create_secret_key(tmp_path, None)
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(key) == 128 and bytes.fromhex(key.decode())
    assert load_or_create_secret_key(tmp_path, None) == key
    assert load_or_create_secret_key(tmp_path, "") == key


def test_configured_secret_wins_and_no_file_is_written(tmp_path: Path):
    configured = "c" * 32
    assert load_or_create_secret_key(tmp_path, configured) == configured.encode()
    assert not (tmp_path / "secret.key").exists()


def test_short_configured_secret_is_refused(tmp_path: Path):
    with pytest.raises(ValueError):
        load_or_create_secret_key(tmp_path, "c" * 31)


def test_concurrent_creation_yields_one_key(tmp_path: Path):
    with ThreadPoolExecutor(16) as pool:
        keys = set(pool.map(lambda _: load_or_create_secret_key(tmp_path, None), range(64)))
    assert len(keys) == 1
    assert (tmp_path / "secret.key").read_text().strip().encode() in keys


def test_reader_waits_for_a_file_being_written(tmp_path: Path):
    path = tmp_path / "secret.key"
    path.touch(mode=0o600)  # another worker has created it but not written it yet
    timer = threading.Timer(0.1, lambda: path.write_text("k" * 64 + "\n"))
    timer.start()
    try:
        assert load_or_create_secret_key(tmp_path, None) == b"k" * 64
    finally:
        timer.join()


def test_empty_secret_file_eventually_fails(tmp_path: Path):
    (tmp_path / "secret.key").touch()
    with pytest.raises(ValueError):
        local._read_secret(tmp_path / "secret.key", wait_seconds=0.05)


# -- tokens ---------------------------------------------------------------------------------
def claims(**overrides):
    now = int(time.time())
    base = {
        "sub": "user-1",
        "email": "a@example.com",
        "iss": "skillsession",
        "aud": "skillsession-api",
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issue_and_verify():
    tokens = LocalTokens(SECRET, ttl_seconds=120)
    token, expires_in = tokens.issue("user-1", "a@example.com")
    assert expires_in == 120
    assert tokens.verify(token) == Identity(user_id="user-1", email="a@example.com")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["exp"] - payload["iat"] == 120
    assert {"jti", "iss", "aud"} <= payload.keys()


def test_issue_with_explicit_ttl_and_unique_jti():
    tokens = LocalTokens(SECRET)
    first, ttl = tokens.issue("u", "u@example.com", ttl=30)
    second, _ = tokens.issue("u", "u@example.com", ttl=30)
    assert ttl == 30 and first != second


def test_expired_token():
    token = jwt.encode(claims(iat=int(time.time()) - 100, exp=int(time.time()) - 10), SECRET)
    with pytest.raises(Unauthorized) as err:
        LocalTokens(SECRET).verify(token)
    assert err.value.code == "token_expired"


def hs256(payload: dict, key: bytes = SECRET, **kw) -> str:
    return jwt.encode(payload, key, algorithm="HS256", **kw)


@functools.cache
def invalid_tokens() -> dict[str, str]:
    with warnings.catch_warnings():  # PyJWT warns that a 32-byte key is short for HS512
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        hs512 = jwt.encode(claims(), SECRET, algorithm="HS512")
    good = hs256(claims())
    header, payload, signature = good.split(".")
    unsigned_header = b64({"alg": "none", "typ": "JWT"})
    rs_header = b64({"alg": "RS256", "typ": "JWT"})
    return {
        "wrong-signature": hs256(claims(), b"x" * 32),
        "alg-none": f"{unsigned_header}.{payload}.",
        "alg-none-lib": jwt.encode(claims(), None, algorithm="none"),
        "alg-rs256": f"{rs_header}.{payload}.{signature}",
        "alg-hs512": hs512,
        "wrong-issuer": hs256(claims(iss="someone-else")),
        "wrong-audience": hs256(claims(aud="other-api")),
        "no-audience": hs256(claims(aud=None)),
        "no-issuer": hs256(claims(iss=None)),
        "no-exp": hs256(claims(exp=None)),
        "no-iat": hs256(claims(iat=None)),
        "no-sub": hs256(claims(sub=None)),
        "no-email": hs256(claims(email=None)),
        "non-string-email": hs256(claims(email=42)),
        "tampered-payload": f"{header}.{b64(claims(sub='admin'))}.{signature}",
        "expired-and-forged": hs256(claims(exp=1), b"x" * 32),
        "garbage": "not-a-token",
        "empty": "",
        "three-dots": "a.b.c",
        "non-ascii": "é.é.é",
    }


@pytest.mark.parametrize("name", list(invalid_tokens()))
def test_invalid_tokens_are_unauthorized(name: str):
    tokens = LocalTokens(SECRET)
    with pytest.raises(Unauthorized) as err:
        tokens.verify(invalid_tokens()[name])
    assert err.value.code == "invalid_token"
    assert not tokens._cache


def test_repeated_verification_is_cached(monkeypatch: pytest.MonkeyPatch):
    tokens = LocalTokens(SECRET)
    token, _ = tokens.issue("user-1", "a@example.com")
    calls = []
    real_decode = jwt.decode
    monkeypatch.setattr(
        local.jwt, "decode", lambda *a, **k: calls.append(1) or real_decode(*a, **k)
    )
    for _ in range(5):
        assert tokens.verify(token).user_id == "user-1"
    assert len(calls) == 1


def test_cache_does_not_outlive_exp():
    clock = [time.time()]
    tokens = LocalTokens(SECRET, ttl_seconds=60, clock=lambda: clock[0])
    token, _ = tokens.issue("user-1", "a@example.com")
    assert tokens.verify(token).user_id == "user-1"
    clock[0] += 61
    with pytest.raises(Unauthorized) as err:
        tokens.verify(token)
    assert err.value.code == "token_expired"
    assert token not in tokens._cache


def test_cache_is_bounded():
    tokens = LocalTokens(SECRET, cache_size=3)
    issued = [tokens.issue(f"user-{i}", f"{i}@example.com")[0] for i in range(10)]
    for token in issued:
        tokens.verify(token)
    assert list(tokens._cache) == issued[-3:]


def test_tokens_from_another_instance_secret_are_refused():
    token, _ = LocalTokens(b"a" * 32).issue("user-1", "a@example.com")
    with pytest.raises(Unauthorized):
        LocalTokens(b"b" * 32).verify(token)


def test_hashes_run_a_bounded_number_at_a_time_then_busy():
    """`at_once` hashes or checks at a time; one more waits `wait_seconds`, then Busy (503)."""
    from skillsession.domain.errors import Busy

    hasher = PasswordHasher(at_once=1, wait_seconds=0.2, **FAST)
    inside, release = threading.Event(), threading.Event()
    real = hasher._hasher

    class SlowHasher:  # argon2's hasher, whose hash waits until released
        def hash(self, password):
            inside.set()
            release.wait(10)
            return real.hash(password)

        def verify(self, password_hash, password):
            return real.verify(password_hash, password)

    hasher._hasher = SlowHasher()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(hasher.hash, "one password")
        assert inside.wait(10)
        with pytest.raises(Busy) as busy:
            hasher.verify(first_hash := PasswordHasher(**FAST).hash("x" * 12), "x" * 12)
        assert busy.value.code == "auth_busy" and busy.value.retry_after >= 1
        release.set()
        assert hasher.verify(first.result(10), "one password")  # the turn was given back
    assert hasher.verify(first_hash, "x" * 12)
