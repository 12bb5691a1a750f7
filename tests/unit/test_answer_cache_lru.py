"""The rendered-answers cache (slots, booking lists) on its own: LRU by bytes, the version
check, `valid_until`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from skillsession.service.answer_cache import ENTRY_OVERHEAD, AnswerCache, AnswerCacheConfig

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def lru(max_bytes: int) -> AnswerCache:
    return AnswerCache(AnswerCacheConfig(max_bytes=max_bytes))


def body(n: int, fill: bytes = b"x") -> bytes:
    return fill * (n - ENTRY_OVERHEAD)  # costs exactly n bytes in the cache


def test_hit_needs_the_same_version():
    cache = lru(10_000)
    cache.put("k", 3, None, b"answer")
    assert cache.get("k", 3, NOW) == b"answer"
    assert cache.get("k", 3, NOW + timedelta(days=400)) == b"answer"  # no time limit
    assert cache.get("k", 4, NOW) is None
    assert len(cache) == 0 and cache.size == 0  # a stale entry is dropped
    assert cache.get("k", 3, NOW) is None
    assert cache.get("other", 3, NOW) is None


def test_valid_until_is_exclusive():
    cache = lru(10_000)
    until = NOW + timedelta(hours=1)
    cache.put("k", 1, until, b"answer")
    assert cache.get("k", 1, until - timedelta(microseconds=1)) == b"answer"
    assert cache.get("k", 1, until) is None
    assert len(cache) == 0


def test_put_replaces_and_counts_bytes():
    cache = lru(10_000)
    cache.put("k", 1, None, body(1_000))
    cache.put("k", 2, None, body(2_000))
    assert cache.size == 2_000 and len(cache) == 1
    assert cache.get("k", 1, NOW) is None
    cache.put("k", 2, None, body(2_000))
    assert cache.get("k", 2, NOW) == body(2_000)


def test_least_recently_used_goes_first_when_bytes_run_out():
    cache = lru(3_000)
    for key in "abc":
        cache.put(key, 1, None, body(1_000, key.encode()))
    assert cache.size == 3_000
    assert cache.get("a", 1, NOW)  # a is now the most recently used
    cache.put("d", 1, None, body(1_500))  # b, then c must go
    assert cache.get("b", 1, NOW) is None and cache.get("c", 1, NOW) is None
    assert cache.get("a", 1, NOW) and cache.get("d", 1, NOW)
    assert cache.size == 2_500 <= cache.max_bytes


def test_a_body_bigger_than_the_cache_is_not_stored():
    cache = lru(3_000)
    cache.put("small", 1, None, body(1_000))
    cache.put("huge", 1, None, body(3_001))
    assert cache.get("huge", 1, NOW) is None
    assert cache.get("small", 1, NOW)  # and it evicted nothing


def test_size_zero_stores_nothing():
    cache = lru(0)
    assert not cache.enabled
    cache.put("k", 1, None, b"")
    assert len(cache) == 0 and cache.get("k", 1, NOW) is None
    assert lru(-5).max_bytes == 0


def test_threads_keep_the_byte_count_right():
    cache = lru(50_000)

    def hammer(t: int) -> None:
        for i in range(2_000):
            key = (t * 7 + i) % 120
            if cache.get(key, i % 3, NOW) is None:
                cache.put(key, i % 3, None, body(1_000 + key))

    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = sum(len(v[2]) + ENTRY_OVERHEAD for v in cache._entries.values())
    assert cache.size == held <= cache.max_bytes


def test_cached_reads_the_version_before_rendering_and_stores_under_it():
    from types import SimpleNamespace

    cache = lru(10_000)
    deps = SimpleNamespace(stores=SimpleNamespace(versions=object()), now=lambda: NOW)
    order, versions = [], iter([1, 2, 2, None])

    def version(_versions):
        order.append("version")
        return next(versions)

    def render():
        order.append("render")
        return f"body-{len(order)}".encode(), None

    assert cache.cached(deps, "k", version, render) == b"body-2"  # miss: stored under version 1
    assert order == ["version", "render"]
    # a write moved the version to 2 meanwhile: the entry made under 1 is not served...
    assert cache.cached(deps, "k", version, render) == b"body-4"
    assert cache.cached(deps, "k", version, render) == b"body-4"  # ...the one made under 2 is
    assert cache.cached(deps, "k", version, render) == b"body-7"  # None: rendered, not served
    assert order[-2:] == ["version", "render"]


def test_the_budget_is_read_under_its_name_and_under_its_former_one(monkeypatch):
    from skillsession.service.deps import Deps
    from skillsession.settings import Settings

    monkeypatch.setenv("SKILLSESSION_SLOT_CACHE_BYTES", "1234")  # an operator's older .env
    assert Settings(_env_file=None).answer_cache_bytes == 1234
    monkeypatch.setenv("SKILLSESSION_ANSWER_CACHE_BYTES", "5678")  # the new name wins
    settings = Settings(_env_file=None)
    assert AnswerCacheConfig.from_settings(settings) == AnswerCacheConfig(max_bytes=5678)
    # the Deps that bootstrap builds holds one cache, sized by the settings
    deps = Deps(settings=settings, stores=None, media=None, mailer=None, verifier=None)
    assert deps.answers.config.max_bytes == 5678 and deps.answers.enabled
