"""Rendered answers kept per worker process, checked against a store version on every request.

One component, `Deps.answers` (an `AnswerCache`, built with the `Deps` from
`AnswerCacheConfig`), serves every cached route: get-teacher-slots (`http/slot_cache.py`,
checked against the tutor's slot version), the three booking lists (`http/list_cache.py`,
checked against the caller's booking list version) and tutor search without dates
(`http/search_cache.py`, checked against the profiles version). It is a byte-bounded LRU with one
budget for all of them, `SKILLSESSION_ANSWER_CACHE_BYTES` (0: off): the least recently used answer
goes first, whichever route it belongs to, so the bytes follow the traffic. Keys start with the
route's tag, so two routes never share an entry. The versions are the store's `AnswerVersions`
role (`deps.stores.versions`), read at each request; a store that keeps none (DynamoDB) is never
cached.

The rule every user of `cached` keeps (the modules above argue it for their answers): the
version is read before any data the answer is made of, changes in the same transaction as
every write that can change the answer, and is never reused; what changes with the time alone
ends the entry at its `valid_until`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from skillsession.ports.storage import AnswerVersions, Stores

if TYPE_CHECKING:
    from skillsession.settings import Settings


class Deps(Protocol):
    """What the cache reads of `service.deps.Deps` (named here, so that the cache, which `Deps`
    holds, does not import it back): the stores' answer versions and the time."""

    stores: Stores

    def now(self) -> datetime: ...


T = TypeVar("T")
V = TypeVar("V")
ENTRY_OVERHEAD = 400  # bytes an entry costs besides its body (key, tuple, dict slot), roughly


@dataclass(frozen=True)
class AnswerCacheConfig:
    """What one process keeps: `max_bytes` of answers of every cached route together (0: off)."""

    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerCacheConfig:
        return cls(max_bytes=settings.answer_cache_bytes)


class AnswerCache:
    """A byte-bounded LRU of (version, valid_until, value, cost) by key: mostly rendered bodies
    (bytes, costing their length), also small objects at a given cost. Thread-safe: one lock
    around each look-up or store (the routes run on the event loop, but nothing forbids a
    thread)."""

    def __init__(self, config: AnswerCacheConfig):
        self.config = config
        self.max_bytes = max(0, config.max_bytes)
        self.enabled = self.max_bytes > 0
        self.size = 0  # bytes held, as counted by the entries' costs
        self._entries: OrderedDict[Hashable, tuple[Hashable, datetime | None, Any, int]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

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

    def version(self, deps: Deps, read: Callable[[AnswerVersions], V]) -> V | None:
        """`read(versions)` of the store's answer versions; None when this cache is off or the
        store keeps no versions (nothing is then cacheable)."""
        versions = deps.stores.versions
        if versions is None or not self.enabled:
            return None
        return read(versions)

    def cached(
        self,
        deps: Deps,
        key: Hashable,
        version: Callable[[AnswerVersions], Hashable | None],
        render: Callable[[], tuple[T, datetime | None]],
        cost: int | None = None,
    ) -> T:
        """The answer under `key`: the stored value if it was stored under the version read now
        (`version(deps.stores.versions)`) and is still valid, else `render()`'s (value,
        valid_until), stored under the version read *before* rendering. No versions (or the
        cache off): rendered, not stored. `cost`: see `put` (default: the value is a body of
        bytes)."""
        versions = deps.stores.versions
        stamp = version(versions) if self.enabled and versions is not None else None
        if stamp is not None:
            value = self.get(key, stamp, deps.now())
            if value is not None:
                return value
        value, valid_until = render()
        if stamp is not None:
            self.put(key, stamp, valid_until, value, cost)
        return value
