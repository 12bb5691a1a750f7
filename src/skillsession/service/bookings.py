"""Booking use cases: request a slot, answer, cancel, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from skillsession.domain import bookings as rules
from skillsession.domain import local_time
from skillsession.domain.errors import Conflict, NotFound, ValidationFailed
from skillsession.domain.model import Booking, BookingStatus, Profile, Role
from skillsession.ports import Identity
from skillsession.service import paging
from skillsession.service.deps import Deps
from skillsession.service.profiles import check_profile, require_profile, viewer_zone

MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class BookingAnswer:
    """A booking as its caller sees it: with the zone they read its times in."""

    booking: Booking
    time_zone: ZoneInfo


def request(
    deps: Deps, identity: Identity, slot_id: str, message: str | None, idempotency_key: str | None
) -> BookingAnswer:
    found, slot = deps.stores.bookings.get_profile_and_slot(identity.user_id, slot_id)
    student = check_profile(found, Role.STUDENT)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            "Idempotency-Key is 1..255 characters", details={"Idempotency-Key": "length"}
        )
    if slot is None:
        raise NotFound("no such slot", code="slot_not_found")
    now = deps.now()
    booking = rules.new_request(slot, identity.user_id, message, now)
    notification = rules.booking_notification("booking_requested", booking, slot.tutor_id, now)
    limits = rules.PendingLimits(
        deps.settings.max_pending_per_tutor, deps.settings.max_pending_total
    )
    stored = deps.stores.bookings.request_booking(
        booking, notification, now, idempotency_key, limits
    )
    if stored.slot_id != slot_id:
        raise ValidationFailed(
            "this Idempotency-Key was used for another slot",
            code="idempotency_key_reused",
            details={"Idempotency-Key": "reused with different parameters"},
        )
    return BookingAnswer(stored, local_time.zone(student.time_zone))


def _load(deps: Deps, booking_id: str) -> Booking:
    booking = deps.stores.bookings.get_booking(booking_id)
    if booking is None:
        raise NotFound("no such booking", code="booking_not_found")
    return booking


def _check_reason(reason: str | None) -> None:
    if reason is not None and len(reason) > rules.MAX_REASON_LENGTH:
        raise ValidationFailed("reason is too long", details={"reason": "too long"})


def _apply(deps: Deps, booking: Booking, transition: rules.Transition, reason: str | None):
    now = deps.now()
    notification = rules.booking_notification(
        transition.notification_kind,
        booking,
        rules.recipient(booking, transition.notify_role),
        now,
        reason,
    )
    updated = deps.stores.bookings.transition_booking(
        booking.booking_id,
        transition.from_statuses,
        transition.to_status,
        transition.slot_status,
        now,
        reason,
        notification,
        transition.require_not_started,
    )
    if updated is None:  # changed meanwhile, or the slot has started
        current = _load(deps, booking.booking_id)
        if transition.to_status == BookingStatus.CANCELLED:
            raise rules.not_cancellable(current)
        if current.booking_status != BookingStatus.PENDING:
            raise rules.not_pending(current)
        raise Conflict("the slot has already started", code="slot_started")
    return updated


def respond(
    deps: Deps, identity: Identity, booking_id: str, action: str, reason: str | None
) -> BookingAnswer:
    _check_reason(reason)
    booking = _load(deps, booking_id)
    transition = rules.response_transition(booking, identity.user_id, action)
    return _answer(deps, identity, _apply(deps, booking, transition, reason))


def cancel(deps: Deps, identity: Identity, booking_id: str, reason: str | None) -> BookingAnswer:
    _check_reason(reason)
    booking = _load(deps, booking_id)
    transition = rules.cancel_transition(booking, identity.user_id, deps.now())
    return _answer(deps, identity, _apply(deps, booking, transition, reason))


def _answer(deps: Deps, identity: Identity, booking: Booking) -> BookingAnswer:
    return BookingAnswer(booking, viewer_zone(deps, identity, None, "UTC"))


@dataclass
class BookingList:
    bookings: list[Booking]
    profiles: dict[str, Profile]
    next_cursor: str | None
    time_zone: ZoneInfo  # the caller's: the list's local fields are in it


@dataclass(frozen=True)
class BookingQuery:
    status: str | None = None
    from_date: str | None = None
    to_date: str | None = None
    limit: int | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class BookingListing:
    """A list query resolved and checked: whose bookings (as which party), which status,
    which start range, which page, with the local fields in which zone. Everything in the
    answer follows from it, the user's bookings and the profiles of their parties (not from
    the time: no list filters or renders by the clock)."""

    user_id: str
    role: Role
    zone: ZoneInfo  # the caller's: the list's local fields and dates are in it
    status: BookingStatus | None  # None: all
    start_from: datetime | None
    start_before: datetime | None
    limit: int
    after: tuple[datetime, str] | None  # the cursor's (start, booking_id)


def pending(deps: Deps, identity: Identity, limit: int | None, cursor: str | None) -> BookingList:
    return read_list(deps, resolve_pending(deps, identity, limit, cursor))


def for_role(deps: Deps, identity: Identity, role: Role, query: BookingQuery) -> BookingList:
    return read_list(deps, resolve_for_role(deps, identity, role, query))


def resolve_pending(
    deps: Deps, identity: Identity, limit: int | None, cursor: str | None
) -> BookingListing:
    """Pending requests, as the caller's role sees them (tutor: to me; student: mine)."""
    profile = require_profile(deps, identity)
    query = BookingQuery(status=BookingStatus.PENDING.value, limit=limit, cursor=cursor)
    return _resolve(profile, query)


def resolve_for_role(
    deps: Deps, identity: Identity, role: Role, query: BookingQuery
) -> BookingListing:
    return _resolve(require_profile(deps, identity, role), query)


def _resolve(profile: Profile, query: BookingQuery) -> BookingListing:
    """Every check of a list query (422 on a bad limit, status, date or cursor), reading
    nothing but the caller's profile (done by the caller)."""
    limit = paging.check_limit(query.limit)
    status = _status(query.status)
    tz = local_time.zone(profile.time_zone)
    start_from = (
        local_time.day_start(local_time.parse_date(query.from_date, "from_date"), tz)
        if query.from_date
        else None
    )
    start_before = (
        local_time.day_start(
            local_time.parse_date(query.to_date, "to_date") + timedelta(days=1), tz
        )
        if query.to_date
        else None
    )
    after = None
    if query.cursor:
        start_iso, booking_id = paging.decode(query.cursor, 2)
        try:  # a cursor is checked for what it holds, not only for its form
            after = (local_time.parse_instant(start_iso, "cursor"), booking_id)
        except ValidationFailed as exc:
            raise ValidationFailed("invalid cursor", details={"cursor": "invalid"}) from exc
    return BookingListing(
        profile.user_id, profile.role, tz, status, start_from, start_before, limit, after
    )


def read_list(deps: Deps, listing: BookingListing) -> BookingList:
    """The listing's page of bookings, ordered by (start, booking_id), with their parties."""
    fetch = (
        deps.stores.bookings.bookings_for_tutor
        if listing.role == Role.TUTOR
        else deps.stores.bookings.bookings_for_student
    )
    found = fetch(
        listing.user_id,
        listing.status,
        listing.start_from,
        listing.start_before,
        listing.limit + 1,
        listing.after,
    )
    items, next_cursor = paging.page(
        found, listing.limit, lambda b: [local_time.iso(b.start), b.booking_id]
    )
    ids = {b.tutor_id for b in items} | {b.student_id for b in items}
    return BookingList(
        items, deps.stores.profiles.get_profiles(sorted(ids)), next_cursor, listing.zone
    )


def _status(value: str | None) -> BookingStatus | None:
    if value in (None, "", "all"):
        return None
    try:
        return BookingStatus(value)
    except ValueError as exc:
        allowed = ", ".join(s.value for s in BookingStatus)
        raise ValidationFailed(
            "unknown status", details={"status": f"one of {allowed}, all"}
        ) from exc
