"""Your data: export everything the service holds about the caller, delete the account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from skillsession.domain import local_time
from skillsession.domain.accounts import MAX_PASSWORD_LENGTH
from skillsession.domain.model import Role
from skillsession.http import schemas as S
from skillsession.http import views
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.service import account_data

router = APIRouter(tags=["your data"], dependencies=AUTHENTICATED)


class DeleteAccountBody(BaseModel):
    password: str | None = Field(default=None, max_length=MAX_PASSWORD_LENGTH)


@router.get(
    "/account/export",
    operation_id="exportAccount",
    description="The caller's account (never the password hash), profile, a signed URL of the "
    "profile image (null if none), every booking as tutor and as student in every state (with "
    "the other party's name only, in the caller's time zone) and the e-mail subscription. "
    "Reviews, messages and in-app notifications do not exist in this service yet: their lists "
    "are always empty. In the AWS shape the account part is what the token says (Cognito "
    "keeps the rest).",
    summary="Export everything the service holds about the caller",
    **documented(S.ExportOut),
)
def export_account(deps: AppDeps, identity: CurrentUser):
    found = account_data.export(deps, identity)
    return OrjsonResponse(_export(found, deps.settings.public_url))


def _export(found: account_data.Export, base_url: str) -> dict[str, Any]:
    user, profile = found.user, found.profile
    account: dict[str, Any] = {"user_id": found.identity.user_id, "email": found.identity.email}
    if user is not None:
        account["status"] = user.status.value
        account["created_at"] = local_time.iso(user.created_at)
    tz = local_time.zone(profile.time_zone if profile else "UTC")
    bookings = [
        {
            **views.booking(b, tz),
            "role": role.value,
            "other_party_name": found.names[other(b)],
        }
        for role, items, other in (
            (Role.TUTOR, found.as_tutor, lambda b: b.student_id),
            (Role.STUDENT, found.as_student, lambda b: b.tutor_id),
        )
        for b in items
    ]
    bookings.sort(key=lambda b: (b["start"], b["booking_id"]))
    subscription = found.subscription
    return {
        "account": account,
        "profile": views.profile(profile) if profile else None,
        "profile_image": views.signed_url(found.image_url, base_url) if found.image_url else None,
        "bookings": bookings,
        "subscription": {
            "email": subscription.email,
            "subscription_status": subscription.status.value,
        }
        if subscription
        else None,
        "reviews": [],
        "messages": [],
        "notifications": [],
    }


@router.delete(
    "/account",
    operation_id="deleteAccount",
    description="Deletes the caller's profile, profile image, e-mail subscription, "
    "availability windows and free slots, and the account itself (the e-mail can sign up "
    "again). Pending requests are withdrawn and accepted bookings cancelled, each other "
    'party notified; past bookings stay, showing "Deleted user" for the caller. Embedded '
    "accounts need the `password` (422 without it, 403 `wrong_password`); in the AWS shape "
    "the token suffices. Safe to call again after an interruption.",
    summary="Delete the caller's account",
    **documented(S.DeletedOut),
)
def delete_account(deps: AppDeps, identity: CurrentUser, body: DeleteAccountBody | None = None):
    account_data.delete(deps, identity, body.password if body else None)
    return OrjsonResponse({"deleted": identity.user_id})
