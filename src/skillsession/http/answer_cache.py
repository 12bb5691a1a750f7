"""Rendered answers kept per worker process, checked against a version on every request.

One byte-bounded LRU per `Deps` (so per process) serves every cached route: get-teacher-slots
(`http/slot_cache.py`, checked against the tutor's slot version), the three booking lists
(`http/list_cache.py`, checked against the caller's booking list version) and tutor search
without dates (`http/search_cache.py`, checked against the profiles version). One budget for all
of them, `SKILLSESSION_SLOT_CACHE_BYTES` (0: off): the least recently used answer goes first,
whichever route it belongs to, so the bytes follow the traffic. Keys start with the route's
tag, so two routes never share an entry.

The rule every user of `cached` keeps (the modules above argue it for their answers): the
version is read before any data the answer is made of, changes in the same transaction as
every write that can change the answer, and is never reused; what changes with the time alone
ends the entry at its `valid_until`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from skillsession.service.deps import Deps

T = TypeVar("T")
ENTRY_OVERHEAD = 400  # bytes an entry costs besides its body (key, tuple, dict slot), roughly


class AnswerCache:
    """A byte-bounded LRU of (version, valid_until, value, cost) by key: mostly rendered bodies
    (bytes, costing their length), also small objects at a given cost. Thread-safe: one lock
    around each look-up or store (the routes run on the event loop, but nothing forbids a
    thread)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, max_bytes)
        self.size = 0  # bytes held, as counted by the entries' costs
        self._entries: OrderedDict[Hashable, tuple[Hashable, datetime | None, Any, int]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, version: Hashable, now: datetime) -> Any:
        """The stored value if it was stored under `version` and `now` is before its
        `valid_until`; else None (and a stale entry is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_version, valid_until, value, cost = entry
            if stored_version != version or (valid_until is not None and now >= valid_until):
                del self._entries[key]
                self.size -= cost
                return None
            self._entries.move_to_end(key)
            return value

    def peek(self, key: Hashable) -> Any:
        """The value stored under `key`, whatever its version and time (None: nothing): only to
        learn what to check, never to answer with."""
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[2]

    def put(
        self,
        key: Hashable,
        version: Hashable,
        valid_until: datetime | None,
        value: Any,
        cost: int | None = None,
    ) -> None:
        """Store (replacing any entry under `key`), then evict the least recently used entries
        until the bytes held fit. `cost`: the value's bytes (default: a body's length), plus
        the entry's overhead. A value costing more than the whole cache is not stored."""
        cost = (len(value) if cost is None else cost) + ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old[3]
            self._entries[key] = (version, valid_until, value, cost)
            self.size += cost
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= evicted[3]


def cache_for(deps: Deps) -> AnswerCache:
    """The answer cache of this process's `Deps` (made on first use, sized by the settings)."""
    cache = deps.caches.get("answers")
    if cache is None:
        cache = deps.caches.setdefault("answers", AnswerCache(deps.settings.slot_cache_bytes))
    return cache


def cached(
    deps: Deps,
    key: Hashable,
    version: Callable[[], Hashable | None],
    render: Callable[[], tuple[T, datetime | None]],
    cost: int | None = None,
) -> T:
    """The answer under `key`: the stored value if it was stored under the version read now
    and is still valid, else `render()`'s (value, valid_until), stored under the version read
    *before* rendering. `version()` None: not cacheable (the store keeps no version). `cost`:
    see `AnswerCache.put` (default: the value is a body of bytes)."""
    cache = cache_for(deps)
    stamp = version() if cache.enabled else None
    if stamp is not None:
        value = cache.get(key, stamp, deps.now())
        if value is not None:
            return value
    value, valid_until = render()
    if stamp is not None:
        cache.put(key, stamp, valid_until, value, cost)
    return value
