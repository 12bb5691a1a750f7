"""Cached rendered answers of the three booking lists: `GET /get-pending-booking-slots`,
`GET /get-teacher-bookings` and `GET /get-student-bookings`.

A page of 100 bookings with their parties is ~100 KB of JSON and costs ~1 ms to read and render;
stored bytes cost a few µs. The answers go into the per-process `AnswerCache` (`Deps.answers`,
service/answer_cache.py, shared with get-teacher-slots), exactly as the slots do
(`http/slot_cache.py`), keyed by the request as asked: the caller, which list (pending; or
the tutor's or the student's) and its parameters as given (status, from_date, to_date, limit,
cursor). A request reads the caller's booking list version first and is served the stored bytes
if they were stored under that version; a miss then resolves and checks the query as without
the cache (same errors, same order: the caller's profile, then limit, status, dates, cursor),
reads and renders. Errors are never stored, so a stored answer was checked once; what the check
read (the caller's profile: role, zone) is covered by the version like everything else.

What an answer depends on, and how each is covered:
- the parameters: in the key as given; what they mean (the dates as instants in the caller's
  zone, the default limit) follows from them and the caller's profile;
- the caller's bookings (either party): `AnswerVersions.booking_list_version(user_id)` changes in the
  transaction of every write of a booking of the user, as tutor or as student (request;
  accept, reject, cancel; the expiry job's expired and completed), so a request reading the
  version after that commit misses;
- the profiles shown (each booking's tutor and student: name, e-mail) and the caller's own
  (role, zone): every profile write (`save_profile`, `set_profile_image`, `bulk_insert`) changes
  every user's version, through one global "profiles" version that the store folds into the
  user's (both come from one counter: the user's number is the later of the two, so a bump of
  either gives a number never seen). Profile writes are rare next to list reads; a per-user
  fan-out to everyone who has a booking with the editor would be more writes and more code to
  get wrong;
- the time: nothing. No list filters or renders by the clock (a booking's state changes only by
  a write: the expiry job writes what it expires or completes; the slot state shown is the
  booking's), and lists carry no signed photo URL (a party is id, name and e-mail), so entries
  need no `valid_until`. A view adding a signed URL must add one, before the URL expires.

Why a cached answer is never staler than an uncached one: an entry is stored under the version
its maker read *before* reading any booking or profile, and the write that set that version had
committed (with its data, same transaction) before the maker read it; so the entry shows at
least every write up to that version. A request served it read the same version, so no
list-changing write committed between that version's write and its own version read: the entry
shows every write an uncached answer made at that moment would, and at most writes that
committed after (concurrent with the request). Versions are never reused, so no later state
matches an old entry. A store without versions (DynamoDB: None) is never cached. Entries are per
process (each worker has its own; the versions live in the shared database) and die with it.
Restoring a database backup rolls versions back: `skillsession restore` wants the service
stopped first, which also empties every cache.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime

import orjson

from skillsession.domain.model import Role
from skillsession.http import views
from skillsession.ports import Identity
from skillsession.service import bookings as service
from skillsession.service.deps import Deps


def _list_json(
    deps: Deps,
    identity: Identity,
    asked: tuple[Hashable, ...],
    resolve: Callable[[], service.BookingListing],
) -> bytes:
    """The body of a booking list answer (`{"bookings": [...], "next_cursor"}`), keyed by the
    request as asked (the caller, which list, its parameters as given), from the cache when it
    is still right; else `resolve()` (every check, the caller's profile), read and render. A hit
    reads the caller's version and nothing else: everything the resolution reads (the caller's
    role and zone) is a profile, under the same version."""
    key = ("bookings", identity.user_id, *asked)

    def render() -> tuple[bytes, datetime | None]:
        listing = resolve()
        return orjson.dumps(views.booking_list(service.read_list(deps, listing))), None

    # the version first, the profile, bookings and parties after: see the module docstring
    user_id = identity.user_id
    return deps.answers.cached(deps, key, lambda v: v.booking_list_version(user_id), render)


def pending_json(deps: Deps, identity: Identity, limit: int | None, cursor: str | None) -> bytes:
    """get-pending-booking-slots; raises the service's errors as `service.bookings.pending`."""
    return _list_json(
        deps,
        identity,
        ("pending", limit, cursor),
        lambda: service.resolve_pending(deps, identity, limit, cursor),
    )


def bookings_json(deps: Deps, identity: Identity, role: Role, query: service.BookingQuery) -> bytes:
    """get-teacher-bookings / get-student-bookings; raises as `service.bookings.for_role`."""
    return _list_json(
        deps,
        identity,
        (role, query),
        lambda: service.resolve_for_role(deps, identity, role, query),
    )
