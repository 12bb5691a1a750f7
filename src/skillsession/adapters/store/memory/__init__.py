"""The storage ports in memory: the readable reference implementation, and the fake for the
service tests.

One `MemoryState` (state.py: plain dicts behind one lock) is shared by one object per role;
every method runs under the lock, so each is atomic, as the ports require of every backend.
`open_store()` builds a fresh, empty store; `memory://` in bootstrap is that."""

from __future__ import annotations

from skillsession.adapters.store.memory.accounts import MemoryAccounts
from skillsession.adapters.store.memory.admin import MemoryAdmin
from skillsession.adapters.store.memory.bookings import MemoryBookings
from skillsession.adapters.store.memory.outbox import MemoryOutbox
from skillsession.adapters.store.memory.profiles import MemoryProfiles
from skillsession.adapters.store.memory.rate_limits import MemoryRateLimits
from skillsession.adapters.store.memory.slots import MemorySlots
from skillsession.adapters.store.memory.state import MemoryState
from skillsession.adapters.store.memory.versions import MemoryVersions
from skillsession.ports.storage import Stores


def open_store() -> Stores:
    """A new, empty in-memory store in every role (nothing to migrate)."""
    state = MemoryState()
    return Stores(
        accounts=MemoryAccounts(state),
        rate_limits=MemoryRateLimits(state),
        profiles=MemoryProfiles(state),
        slots=MemorySlots(state),
        bookings=MemoryBookings(state),
        outbox=MemoryOutbox(state),
        admin=MemoryAdmin(state),
        versions=MemoryVersions(state),
    )
