"""Your data (API.md): export everything the service holds about the caller, and delete the
account.

Deleting is a sequence of steps, each one atomic store call, the whole idempotent: a crash
midway is finished by calling again. The account row (and its e-mail guard) goes last, in one
`AccountStore.delete_account` with the profile and the subscription, so until then the caller can
still sign in and call again:
1. the profile image's file (the profile still names it until step 4);
2. every live booking (pending or accepted, as tutor or as student) is cancelled through the
   ordinary booking transition, the other party notified through the outbox; a deleted tutor's
   slot is `expired` (nobody can book it again), a deleted student's is free again;
3. every availability window of a tutor, with its free slots (slots with history stay, expired),
   then once more step 2 for a request that came in meanwhile (none can come in after);
4. the e-mail subscription where the mailer keeps it (SNS); then profile, subscription,
   verification code and account, with the e-mail guard;
5. in the AWS shape, the identity provider's account (Cognito: its tokens revoked for its own
   APIs, then the user deleted).
The account's tokens are refused from step 4 on (the deleted mark step 4 leaves, read by the
token floors: other processes within their TTL), by the deleting process once step 5 is done.
Past bookings stay; where the API shows a name, a party without a profile is "Deleted user".
"""

from __future__ import annotations

from dataclasses import dataclass

from skillsession.domain import bookings as rules
from skillsession.domain.accounts import wrong_password
from skillsession.domain.errors import ValidationFailed
from skillsession.domain.model import (
    LIVE_BOOKING_STATUSES,
    Booking,
    BookingStatus,
    Profile,
    Role,
    SlotStatus,
    Subscription,
    User,
)
from skillsession.ports import Identity, SignedUrl
from skillsession.service import subscriptions
from skillsession.service.deps import Deps
from skillsession.service.media import URL_TTL_SECONDS

DELETED_REASON = "The other party deleted their SkillSession account."
PAGE = 200


@dataclass
class Export:
    user: User | None  # None in the AWS shape (Cognito keeps the account)
    identity: Identity
    profile: Profile | None
    as_tutor: list[Booking]
    as_student: list[Booking]
    names: dict[str, str]  # other parties' user_id -> display name
    subscription: Subscription | None
    image_url: SignedUrl | None


def _own_user(deps: Deps, identity: Identity) -> User | None:
    user = deps.stores.accounts.get_user_by_email(identity.email)
    return user if user is not None and user.user_id == identity.user_id else None


def _all_bookings(
    deps: Deps, user_id: str, role: Role, status: BookingStatus | None = None
) -> list[Booking]:
    """Every booking of the user as `role` (in `status`; None: all), page by page to the end."""
    fetch = (
        deps.stores.bookings.bookings_for_tutor
        if role == Role.TUTOR
        else deps.stores.bookings.bookings_for_student
    )
    found: list[Booking] = []
    after = None
    while True:
        page = fetch(user_id, status, None, None, PAGE, after)
        found += page
        if len(page) < PAGE:
            return found
        after = (page[-1].start, page[-1].booking_id)


def export(deps: Deps, identity: Identity) -> Export:
    profile = deps.stores.profiles.get_profile(identity.user_id)
    as_tutor = _all_bookings(deps, identity.user_id, Role.TUTOR)
    as_student = _all_bookings(deps, identity.user_id, Role.STUDENT)
    others = {b.student_id for b in as_tutor} | {b.tutor_id for b in as_student}
    profiles = deps.stores.profiles.get_profiles(sorted(others))
    image_url = None
    if profile is not None and profile.image_key is not None:
        image_url = deps.media.signed_url(profile.image_key, URL_TTL_SECONDS)
    return Export(
        user=_own_user(deps, identity),
        identity=identity,
        profile=profile,
        as_tutor=as_tutor,
        as_student=as_student,
        names={i: display_name(profiles.get(i)) for i in others},
        subscription=deps.stores.outbox.get_subscription(identity.user_id),
        image_url=image_url,
    )


def display_name(profile: Profile | None) -> str:
    """A party's name where the API shows one; a party without a profile has deleted the
    account (a booking's parties had profiles when it was made, and only deleting the account
    removes one)."""
    return profile.display_name if profile is not None else DELETED_USER


DELETED_USER = "Deleted user"


def delete(deps: Deps, identity: Identity, password: str | None) -> None:
    """Check the password (embedded accounts; in the AWS shape the token suffices), then run
    the steps above. Once the account is gone, a call with a token still in hand runs the
    steps again (each finds nothing left to do)."""
    user = _own_user(deps, identity)
    if deps.issuer is not None and user is not None:
        if not password:
            raise ValidationFailed(
                "your password is needed to delete the account",
                details={"password": "required"},
            )
        if deps.passwords is None or not deps.passwords.verify(user.password_hash, password):
            raise wrong_password("wrong password")
    user_id = identity.user_id
    profile = deps.stores.profiles.get_profile(user_id)
    if profile is not None and profile.image_key is not None:
        deps.media.delete(profile.image_key)
    _end_live_bookings(deps, user_id)
    deps.stores.slots.delete_tutor_availability(user_id)
    # a request that came in before the slots went: nothing can come in after
    _end_live_bookings(deps, user_id)
    subscriptions.end_at_mailer(deps, user_id)
    deps.stores.accounts.delete_account(user_id)
    if deps.accounts is not None:  # the identity provider's account (Cognito) goes last
        deps.accounts.delete_user(user_id)
    # this process refuses the account's tokens at once (the others within the floors' TTL:
    # they read the deleted mark); not before step 5 is done, so that a call that failed
    # there (Cognito unreachable) can be repeated at once with the same token
    deps.verifier.account_deleted(user_id)


def _end_live_bookings(deps: Deps, user_id: str) -> None:
    for role in (Role.TUTOR, Role.STUDENT):
        for status in (BookingStatus.PENDING, BookingStatus.ACCEPTED):
            for booking in _all_bookings(deps, user_id, role, status):
                _cancel(deps, booking, user_id)


def _cancel(deps: Deps, booking: Booking, leaving_id: str) -> None:
    """Cancel one live booking (whatever its time: nothing of a deleted user stays live),
    telling the other party; a no-op if it changed meanwhile."""
    now = deps.now()
    other = booking.student_id if leaving_id == booking.tutor_id else booking.tutor_id
    notification = rules.booking_notification(
        "booking_cancelled", booking, other, now, DELETED_REASON
    )
    # a deleted tutor's slot can never be booked again; a deleted student's is free again
    slot_status = SlotStatus.EXPIRED if leaving_id == booking.tutor_id else SlotStatus.AVAILABLE
    deps.stores.bookings.transition_booking(
        booking.booking_id,
        LIVE_BOOKING_STATUSES,
        BookingStatus.CANCELLED,
        slot_status,
        now,
        DELETED_REASON,
        notification,
        require_not_started=False,
    )
