"""Profiles: save, look up (with the mobile-number rule), and tutor search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from skillsession.domain import local_time
from skillsession.domain import profiles as rules
from skillsession.domain.accounts import normalise_email
from skillsession.domain.errors import Forbidden, NotFound, ValidationFailed
from skillsession.domain.model import Profile, Role
from skillsession.domain.skills import parse_skills, skill_key
from skillsession.ports import Identity
from skillsession.service import paging
from skillsession.service.deps import Deps


@dataclass
class ProfileView:
    profile: Profile
    show_mobile: bool


def check_own_email(identity: Identity, email: str | None) -> None:
    """A body may name the caller's own e-mail, never another one."""
    if email is not None and normalise_email(email) != identity.email.lower():
        raise Forbidden("you can only act as yourself", code="email_mismatch")


def save(deps: Deps, identity: Identity, role: Role | None, changes: dict[str, Any]):
    """Returns (profile, created)."""
    check_own_email(identity, changes.pop("email", None))
    existing = deps.stores.profiles.get_profile(identity.user_id)
    profile = rules.merge(
        existing, identity.user_id, identity.email.lower(), role, changes, deps.now()
    )
    deps.stores.profiles.save_profile(profile)
    return profile, existing is None


def require_profile(deps: Deps, identity: Identity, role: Role | None = None) -> Profile:
    return check_profile(deps.stores.profiles.get_profile(identity.user_id), role)


def check_profile(profile: Profile | None, role: Role | None = None) -> Profile:
    """The caller's profile as read: 403 if they have none, or not the `role` asked for."""
    if profile is None:
        raise Forbidden(
            "create your profile first (POST /save-user-details)", code="profile_required"
        )
    if role is not None and profile.role != role:
        raise Forbidden(f"only {role.value}s can do this", code=f"{role.value}_only")
    return profile


def viewer_zone(deps: Deps, identity: Identity, explicit: str | None, fallback: str) -> ZoneInfo:
    """The zone a viewer reads times in: the one asked for, else their own, else `fallback`."""
    if explicit:
        return local_time.zone(explicit)
    viewer = deps.stores.profiles.get_profile(identity.user_id)
    return local_time.zone(viewer.time_zone if viewer else fallback)


def find_target(
    deps: Deps, identity: Identity, email: str | None, user_id: str | None
) -> Profile | None:
    """The profile named by e-mail or id (the caller's own when neither is given)."""
    if user_id:
        return deps.stores.profiles.get_profile(user_id)
    if email:
        return deps.stores.profiles.get_profile_by_email(normalise_email(email))
    return deps.stores.profiles.get_profile(identity.user_id)


def lookup(deps: Deps, identity: Identity, email: str | None, user_id: str | None) -> ProfileView:
    profile = find_target(deps, identity, email, user_id)
    if profile is None:
        raise NotFound("no such profile", code="profile_not_found")
    own = profile.user_id == identity.user_id
    return ProfileView(profile, own or _accepted_between(deps, identity.user_id, profile))


def _accepted_between(deps: Deps, viewer_id: str, profile: Profile) -> bool:
    viewer = deps.stores.profiles.get_profile(viewer_id)
    if viewer is None or viewer.role == profile.role:
        return False
    tutor_id, student_id = (
        (profile.user_id, viewer_id) if profile.role == Role.TUTOR else (viewer_id, profile.user_id)
    )
    return deps.stores.bookings.has_accepted_booking(tutor_id, student_id)


@dataclass(frozen=True)
class TutorSearch:
    """A checked search: skill keys (distinct, in the caller's order), the slot-start range a
    tutor needs an available slot in (None: any), page size and the user id to continue after."""

    keys: tuple[str, ...]
    between: tuple[datetime, datetime] | None
    limit: int
    after: str | None


def resolve_search(
    deps: Deps,
    identity: Identity,
    skills: list[str],
    available_from: str | None,
    available_to: str | None,
    limit: int,
    cursor: str | None,
) -> TutorSearch:
    """Every check of a search (422 on no skill, bad dates or cursor), without reading a tutor.
    Dates are the caller's days (their profile's zone)."""
    keys = [skill_key(s) for s in parse_skills(skills, "skills")]
    if not keys:
        raise ValidationFailed("name at least one skill", details={"skill": "required"})
    between = None
    if available_from or available_to:
        viewer = deps.stores.profiles.get_profile(identity.user_id)
        tz = local_time.zone(viewer.time_zone if viewer else "UTC")
        today = deps.now().astimezone(tz).date()
        first = local_time.parse_date(available_from, "available_from") if available_from else today
        last = (
            local_time.parse_date(available_to, "available_to")
            if available_to
            else first + timedelta(days=30)
        )
        if last < first:
            raise ValidationFailed(
                "available_to is before available_from",
                details={"available_to": "< available_from"},
            )
        start = max(local_time.day_start(first, tz), local_time.after(deps.now()))
        between = (start, local_time.day_start(last + timedelta(days=1), tz))
    after = paging.decode(cursor, 1)[0] if cursor else None
    return TutorSearch(tuple(dict.fromkeys(keys)), between, limit, after)


def read_search(deps: Deps, search: TutorSearch) -> tuple[list[Profile], str | None]:
    """The page of tutors and the cursor of the next page (None: the last page)."""
    found = deps.stores.profiles.search_tutors(
        list(search.keys), search.between, search.limit + 1, search.after
    )
    return paging.page(found, search.limit, lambda p: [p.user_id])
