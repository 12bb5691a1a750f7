"""Cached rendered answers of `POST /get-teacher-slots`.

Rendering a month of slots (240 slots, 77 KB of JSON) costs ~0.8 ms; sending stored bytes costs
a few µs. Each worker process keeps a byte-bounded LRU of rendered answers, keyed by the resolved
listing (tutor, first and last local day, status, viewer's zone) and holding (slot version,
valid until, bytes). A request resolves and checks its query exactly as without the cache (same
errors, same order), reads the tutor's slot version, and is served the stored bytes only if the
version is the one they were stored under and the time is before `valid_until`; otherwise the
slots are read and rendered and the entry replaced.

Why a cached answer never shows a slot that was taken (or misses one that was freed/published):
every store method that writes a tutor's slots changes the tutor's version in the same
transaction (`Store.slot_version`). A request that reads the version after that commit reads the
new version and misses. An entry is stored under the version read *before* its slots were read,
so an entry built from data read after a write is stored under the older version at worst: it
can be stored stale-keyed (and miss later), never hold older data than its version promises.
Versions are never reused, so no later state of the tutor's slots matches an old entry. What
changes with the time alone is in `valid_until` (`service.availability.unchanged_until`): an
available slot leaves the answer when it starts. A listing "from today" names its days, so it
becomes another key when the viewer's day changes. A store without versions (DynamoDB: None) is
never cached. Entries are per process and die with it (and with its `Deps`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime

import orjson

from skillsession.http import views
from skillsession.ports import Identity
from skillsession.service import availability as service
from skillsession.service.deps import Deps

ENTRY_OVERHEAD = 400  # bytes an entry costs besides its body (key, tuple, dict slot), roughly


class SlotCache:
    """A byte-bounded LRU of (version, valid_until, body) by key. Thread-safe: one lock around
    each look-up or store (the routes run on the event loop, but nothing forbids a thread)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, max_bytes)
        self.size = 0  # bytes held, as counted by `_cost`
        self._entries: OrderedDict[Hashable, tuple[int, datetime | None, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, version: int, now: datetime) -> bytes | None:
        """The stored body if it was stored under `version` and `now` is before its
        `valid_until`; else None (and a stale entry is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_version, valid_until, body = entry
            if stored_version != version or (valid_until is not None and now >= valid_until):
                del self._entries[key]
                self.size -= _cost(body)
                return None
            self._entries.move_to_end(key)
            return body

    def put(self, key: Hashable, version: int, valid_until: datetime | None, body: bytes) -> None:
        """Store (replacing any entry under `key`), then evict the least recently used entries
        until the bytes held fit. A body bigger than the whole cache is not stored."""
        cost = _cost(body)
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= _cost(old[2])
            self._entries[key] = (version, valid_until, body)
            self.size += cost
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= _cost(evicted[2])


def _cost(body: bytes) -> int:
    return len(body) + ENTRY_OVERHEAD


def cache_for(deps: Deps) -> SlotCache:
    """The slot cache of this process's `Deps` (made on first use, sized by the settings)."""
    cache = deps.caches.get("slots")
    if cache is None:
        cache = deps.caches.setdefault("slots", SlotCache(deps.settings.slot_cache_bytes))
    return cache


def teacher_slots_json(deps: Deps, identity: Identity, query: service.SlotQuery) -> bytes:
    """The body of a get-teacher-slots answer (`{"slots": [...]}`), from the cache when it is
    still right. Raises the service's errors, as `service.availability.tutor_slots` does."""
    listing = service.resolve_slots(deps, identity, query)
    cache = cache_for(deps)
    # the version first, the slots after: see the module docstring
    version = service.slot_version(deps, listing) if cache.enabled else None
    key = (listing.tutor_id, listing.first, listing.last, listing.status, listing.zone.key)
    if version is not None:
        body = cache.get(key, version, deps.now())
        if body is not None:
            return body
    slots = service.read_slots(deps, listing)
    body = orjson.dumps({"slots": [views.slot(s, listing.zone) for s in slots]})
    if version is not None:
        cache.put(key, version, service.unchanged_until(listing, slots), body)
    return body
