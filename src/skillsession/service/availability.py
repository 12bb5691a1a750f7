"""Tutors publish windows; the service cuts them into slots; anyone reads a tutor's slots."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from skillsession.domain import availability as rules
from skillsession.domain import local_time
from skillsession.domain.accounts import normalise_email
from skillsession.domain.errors import Forbidden, NotFound, ValidationFailed
from skillsession.domain.model import Availability, Profile, Role, Slot, SlotStatus
from skillsession.ports import Identity
from skillsession.service import paging
from skillsession.service.deps import Deps
from skillsession.service.profiles import check_profile, require_profile, viewer_zone

DEFAULT_RANGE_DAYS = 30
MAX_RANGE_DAYS = 92
# Slots in one answer (the default page, and the largest): a month of a busy tutor's hourly
# slots fits in one; a tutor's every quarter-hour for 92 days (~9,000 slots, 3 MB, tens of ms of
# one worker's time per request) comes in pages, `next_cursor` naming the next.
MAX_SLOTS_PER_ANSWER = 1000


def create(
    deps: Deps, identity: Identity, windows: list[rules.WindowRequest]
) -> tuple[list[Availability], list[Slot]]:
    tutor = check_profile(
        deps.stores.slots.get_profile_for_availability(identity.user_id), Role.TUTOR
    )
    if not windows:
        raise ValidationFailed("give at least one window", details={"windows": "empty"})
    if len(windows) > rules.MAX_WINDOWS_PER_REQUEST:
        raise ValidationFailed(
            f"at most {rules.MAX_WINDOWS_PER_REQUEST} windows", details={"windows": "too many"}
        )
    now = deps.now()
    many = len(windows) > 1
    resolved = [
        rules.resolve_window(
            replace(w, time_zone=w.time_zone or tutor.time_zone),
            now,
            prefix=f"windows[{i}]." if many else "",
        )
        for i, w in enumerate(windows)
    ]
    availabilities, slots = rules.build(tutor.user_id, resolved, now)
    deps.stores.slots.create_availability(availabilities, slots)
    return availabilities, slots


def delete(deps: Deps, identity: Identity, availability_id: str) -> None:
    require_profile(deps, identity, Role.TUTOR)
    availability = deps.stores.slots.get_availability(availability_id)
    if availability is None:
        raise NotFound("no such availability", code="availability_not_found")
    if availability.tutor_id != identity.user_id:
        raise Forbidden("this is another tutor's availability", code="not_owner")
    deps.stores.slots.delete_availability(availability_id)


@dataclass(frozen=True)
class SlotQuery:
    tutor_id: str | None = None
    tutor_email: str | None = None
    from_date: str | None = None
    to_date: str | None = None
    status: str | None = None
    time_zone: str | None = None
    limit: int | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class SlotListing:
    """A slot query resolved and checked: whose slots, which local days, which status, shown in
    which zone. Everything in the answer follows from it, the tutor's slots and the time."""

    tutor_id: str
    first: date
    last: date
    status: SlotStatus | None  # None: all
    zone: ZoneInfo
    limit: int = MAX_SLOTS_PER_ANSWER  # slots per page
    after: datetime | None = None  # the page starts after the slot that started then (cursor)


@dataclass(frozen=True)
class SlotPage:
    slots: list[Slot]
    next_cursor: str | None


def tutor_slots(deps: Deps, identity: Identity, query: SlotQuery) -> tuple[list[Slot], ZoneInfo]:
    listing = resolve_slots(deps, identity, query)
    return read_slots(deps, listing).slots, listing.zone


def resolve_slots(deps: Deps, identity: Identity, query: SlotQuery) -> SlotListing:
    """Every check of a slot query (unknown tutor 404, another tutor's non-available slots 403,
    bad dates or range 422), without reading any slot."""
    tutor = _find_tutor(deps, query)
    tz = viewer_zone(deps, identity, query.time_zone, tutor.time_zone)
    status = _status_filter(query.status or SlotStatus.AVAILABLE.value, tutor, identity)
    today = deps.now().astimezone(tz).date()
    first = local_time.parse_date(query.from_date, "from_date") if query.from_date else today
    last = (
        local_time.parse_date(query.to_date, "to_date")
        if query.to_date
        else first + timedelta(days=DEFAULT_RANGE_DAYS)
    )
    if last < first:
        raise ValidationFailed("to_date is before from_date", details={"to_date": "< from_date"})
    if (last - first).days > MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"at most {MAX_RANGE_DAYS} days at once", details={"to_date": "range too long"}
        )
    limit = query.limit if query.limit is not None else MAX_SLOTS_PER_ANSWER
    if not 1 <= limit <= MAX_SLOTS_PER_ANSWER:
        raise ValidationFailed(
            f"limit must be 1..{MAX_SLOTS_PER_ANSWER}", details={"limit": str(limit)}
        )
    after = None
    if query.cursor:
        (start_iso,) = paging.decode(query.cursor, 1)
        try:  # a cursor is checked for what it holds, not only for its form
            after = local_time.parse_instant(start_iso, "cursor")
        except ValidationFailed as exc:
            raise ValidationFailed("invalid cursor", details={"cursor": "invalid"}) from exc
    return SlotListing(tutor.user_id, first, last, status, tz, limit, after)


def read_slots(deps: Deps, listing: SlotListing) -> SlotPage:
    """The listing's page of slots, ordered by start; `available` ones only if not started
    yet. A tutor's slots never start at the same instant (windows do not overlap), so a
    page's cursor is the start of its last slot."""
    start = local_time.day_start(listing.first, listing.zone)
    if listing.after is not None:
        start = max(start, listing.after + timedelta(seconds=1))  # instants are whole seconds
    if listing.status == SlotStatus.AVAILABLE:
        start = max(start, local_time.after(deps.now()))  # available: not started yet
    end = local_time.day_start(listing.last + timedelta(days=1), listing.zone)
    found = deps.stores.slots.slots_for_tutor(
        listing.tutor_id, start, end, listing.status, listing.limit + 1
    )
    slots, next_cursor = paging.page(found, listing.limit, lambda s: [local_time.iso(s.start)])
    return SlotPage(slots, next_cursor)


def resolved_until(query: SlotQuery, listing: SlotListing) -> datetime | None:
    """Until when `resolve_slots` gives `listing` again for `query`, profiles unchanged: a query
    without `from_date` starts on the viewer's today, so until that day ends. None: always."""
    if query.from_date:
        return None
    return local_time.day_start(listing.first + timedelta(days=1), listing.zone)


def unchanged_until(listing: SlotListing, slots: list[Slot]) -> datetime | None:
    """Until when `read_slots` gives `slots` again, as long as none of the tutor's slots is
    written (the slot version): an `available` listing loses its first slot when that starts;
    other listings do not depend on the time (the expiry job writes the slots it expires).
    None: no time limit. The listing's days are its own, so a listing for "today" is another
    listing tomorrow."""
    if listing.status == SlotStatus.AVAILABLE and slots:
        return slots[0].start  # ordered by start: the first to start
    return None


def _find_tutor(deps: Deps, query: SlotQuery) -> Profile:
    if query.tutor_id:
        tutor = deps.stores.profiles.get_profile(query.tutor_id)
    elif query.tutor_email:
        tutor = deps.stores.profiles.get_profile_by_email(
            normalise_email(query.tutor_email, "tutor_email")
        )
    else:
        raise ValidationFailed("give tutor_id or tutor_email", details={"tutor_id": "required"})
    if tutor is None or tutor.role != Role.TUTOR:
        raise NotFound("no such tutor", code="tutor_not_found")
    return tutor


def _status_filter(status: str, tutor: Profile, identity: Identity) -> SlotStatus | None:
    own = tutor.user_id == identity.user_id
    if status == SlotStatus.AVAILABLE.value:
        return SlotStatus.AVAILABLE
    allowed = {"all", *(s.value for s in SlotStatus)}
    if status not in allowed:
        raise ValidationFailed(
            "unknown status", details={"status": f"one of {', '.join(sorted(allowed))}"}
        )
    if not own:
        raise Forbidden("only the tutor can see slots other than available ones", code="not_owner")
    return None if status == "all" else SlotStatus(status)
