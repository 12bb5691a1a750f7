"""Cached rendered answers of `POST /get-teacher-slots`.

Rendering a month of slots (240 slots, 77 KB of JSON) costs ~0.8 ms; sending stored bytes costs
a few µs. Each worker process keeps a byte-bounded LRU of rendered answers (`Deps.answers`,
service/answer_cache.py, shared with the booking lists and search), keyed by the resolved
listing (tutor, first and last local day, status, viewer's zone) and holding (slot version,
valid until, bytes). A request resolves and checks its query as without the cache (same
errors, same order; the resolution itself is remembered, see the end), reads the tutor's slot
version, and is served the stored bytes only if the version is the one they were stored under
and the time is before `valid_until`; otherwise the slots are read and rendered and the entry replaced.

Why a cached answer never shows a slot that was taken (or misses one that was freed/published):
every store method that writes a tutor's slots changes the tutor's version in the same
transaction (`AnswerVersions.slot_version`). A request that reads the version after that commit reads the
new version and misses. An entry is stored under the version read *before* its slots were read,
so an entry built from data read after a write is stored under the older version at worst: it
can be stored stale-keyed (and miss later), never hold older data than its version promises.
Versions are never reused, so no later state of the tutor's slots matches an old entry. What
changes with the time alone is in `valid_until` (`service.availability.unchanged_until`): an
available slot leaves the answer when it starts. A listing "from today" names its days, so it
becomes another key when the viewer's day changes. A store without versions (DynamoDB: None) is
never cached. Entries are per process and die with it (and with its `Deps`).

The resolution itself (the tutor's and the caller's profiles: the tutor exists and is one, the
viewer's zone, today in it, the status allowed) is remembered per caller and query in the same
cache, under `AnswerVersions.profiles_version` (changed by every profile write, in its transaction) and,
for a query from "today", until the caller's day ends (`resolved_until`); errors are never
remembered. So a repeated question reads two versions and nothing else, and in one statement
(`AnswerVersions.slot_answer_versions`): the remembered resolution names the tutor whose slot version to
read with the profiles version, and is then checked against that profiles version as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import orjson

from skillsession.http import views
from skillsession.ports import Identity
from skillsession.ports.storage import AnswerVersions
from skillsession.service import availability as service
from skillsession.service.deps import Deps


def teacher_slots_json(deps: Deps, identity: Identity, query: service.SlotQuery) -> bytes:
    """The body of a get-teacher-slots answer (`{"slots": [...]}`), from the cache when it is
    still right. Raises the service's errors, as `service.availability.tutor_slots` does."""
    resolution_key = ("slot-query", identity.user_id, query)
    answers = deps.answers
    remembered = answers.peek(resolution_key)
    if remembered is not None:  # both versions in one read, then the usual checks
        tutor_id = remembered.tutor_id
        both = answers.version(deps, lambda v: v.slot_answer_versions(tutor_id))
        if both is not None:
            profiles_version, slot_version = both
            listing = answers.get(resolution_key, profiles_version, deps.now())
            if listing is not None:
                return _answer(deps, listing, lambda v: slot_version)
    listing = _resolved(deps, resolution_key, identity, query)
    tutor_id = listing.tutor_id
    return _answer(deps, listing, lambda v: v.slot_version(tutor_id))


def _answer(
    deps: Deps, listing: service.SlotListing, version: Callable[[AnswerVersions], int]
) -> bytes:
    """The listing's body, cached under the tutor's slot version `version(versions)` (read
    before the slots: see the module docstring)."""
    key = (
        "slots",
        listing.tutor_id,
        listing.first,
        listing.last,
        listing.status,
        listing.zone.key,
        listing.limit,
        listing.after,
    )

    def render() -> tuple[bytes, datetime | None]:
        page = service.read_slots(deps, listing)
        body = orjson.dumps(
            {
                "slots": [views.slot(s, listing.zone) for s in page.slots],
                "next_cursor": page.next_cursor,
            }
        )
        return body, service.unchanged_until(listing, page.slots)

    return deps.answers.cached(deps, key, version, render)


LISTING_COST = 200  # bytes a remembered SlotListing holds, roughly (its entry's overhead aside)


def _resolved(
    deps: Deps, key: tuple, identity: Identity, query: service.SlotQuery
) -> service.SlotListing:
    """`resolve_slots(query)` for the caller, remembered under `key` while no profile changes
    (all it reads) and, for a query from "today", until the caller's day ends; errors are not
    remembered. A repeated question then costs a version read instead of two profile reads."""

    def resolve() -> tuple[service.SlotListing, datetime | None]:
        listing = service.resolve_slots(deps, identity, query)
        return listing, service.resolved_until(query, listing)

    # the version first, the profiles after (as for every cached answer): `resolve_slots` reads
    # nothing but profiles, the tutor's and the caller's
    return deps.answers.cached(deps, key, lambda v: v.profiles_version(), resolve, LISTING_COST)
