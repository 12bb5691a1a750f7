"""Profiles and tutor search (the seed's two profile paths)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from skillsession.domain import profiles as P
from skillsession.domain.ids import MAX_ID_LENGTH
from skillsession.domain.local_time import MAX_ZONE_LENGTH
from skillsession.domain.model import Role
from skillsession.domain.skills import MAX_SEARCH_SKILLS, MAX_SKILL_LENGTH, MAX_SKILLS_TEXT_LENGTH
from skillsession.http import schemas as S
from skillsession.http import views
from skillsession.http.fast import FastRoute
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.search_cache import tutor_search_json
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.ports import Identity
from skillsession.service import paging
from skillsession.service import profiles as service
from skillsession.service.deps import Deps

router = APIRouter(tags=["profiles"], dependencies=AUTHENTICATED)

Name = S.line(P.MAX_NAME_LENGTH)
Course = S.line(P.MAX_COURSE_LENGTH)


class ProfileBody(BaseModel):
    role: Role | None = None
    email: S.Email | None = Field(None, description="optional; must be the caller's")
    first_name: Name | None = None
    last_name: Name | None = None
    mobile_number: S.line(P.MAX_MOBILE_LENGTH) | None = None
    time_zone: str | None = Field(
        None, max_length=MAX_ZONE_LENGTH, description="IANA zone, default UTC"
    )
    university_name: S.line(P.MAX_STUDIES_LENGTH) | None = None
    program_name: S.line(P.MAX_STUDIES_LENGTH) | None = None
    enrolled_courses: list[Course] | None = Field(None, max_length=P.MAX_COURSES)
    start_year: int | None = Field(None, ge=P.FIRST_YEAR, le=P.LAST_YEAR)
    end_year: int | None = Field(None, ge=P.FIRST_YEAR, le=P.LAST_YEAR)
    teaching_skills: list[Name] | S.line(MAX_SKILLS_TEXT_LENGTH) | None = Field(
        None, description="a list, or one comma-separated string"
    )
    experience_years: int | None = Field(None, ge=0, le=P.MAX_EXPERIENCE_YEARS)
    experience_description: S.free_text(P.MAX_DESCRIPTION_LENGTH) | None = None


@router.post(
    "/save-user-details",
    operation_id="saveUserDetails",
    description="The first call creates the profile (201) and must give `role`; later calls "
    "update it (200), and fields left out keep their value. The role is fixed once set (409). "
    "Students give `university_name`, `program_name`, `enrolled_courses`, `start_year`, "
    "`end_year`; tutors give `teaching_skills` (a list, or one comma-separated string), "
    "`experience_years`, `experience_description`. Skills match case- and space-insensitively. "
    "`time_zone` is an IANA zone (default `UTC`).",
    summary="Create (201) or update (200) the caller's profile",
    **documented(S.ProfileEnvelope, 200, 201),
)
async def save_user_details(body: ProfileBody, deps: AppDeps, identity: CurrentUser):
    changes = body.model_dump(exclude_unset=True, exclude={"role"})
    profile, created = service.save(deps, identity, body.role, changes)
    return OrjsonResponse({"profile": views.profile(profile)}, status_code=201 if created else 200)


class LookupOrSearch(BaseModel):
    email: S.Email | None = None
    user_id: str | None = Field(None, max_length=MAX_ID_LENGTH)
    skill: str | None = Field(None, max_length=MAX_SKILL_LENGTH)
    skills: list[Name] | Annotated[str, Field(max_length=MAX_SKILLS_TEXT_LENGTH)] | None = Field(
        None, max_length=MAX_SEARCH_SKILLS
    )
    available_from: S.Day | None = Field(None, description=S.DAY_NOTE)
    available_to: S.Day | None = Field(None, description=S.DAY_NOTE)
    limit: int | None = Field(None, ge=1, le=paging.MAX_LIMIT)
    cursor: str | None = Field(None, max_length=paging.MAX_CURSOR_LENGTH)


def profiles_and_search(
    deps: Deps, identity: Identity, body: LookupOrSearch | None
) -> dict | bytes:
    body = body or LookupOrSearch()
    if body.skill is not None or body.skills is not None:
        skills = [body.skill] if body.skill is not None else []
        if body.skills is not None:
            skills += body.skills.split(",") if isinstance(body.skills, str) else body.skills
        search = service.resolve_search(
            deps,
            identity,
            skills,
            body.available_from,
            body.available_to,
            paging.check_limit(body.limit),
            body.cursor,
        )
        return tutor_search_json(deps, search)
    found = service.lookup(deps, identity, body.email, body.user_id)
    return {"profile": views.profile(found.profile, found.show_mobile)}


# served by the thin dispatch on its happy path (http/fast.py)
PROFILES_AND_SEARCH = FastRoute(
    "POST",
    "/get-user-profiles-and-teacher-search",
    profiles_and_search,
    operation_id="getUserProfilesAndTeacherSearch",
    description="Two uses, chosen by the body. Profile look-up: no body or `{}` gives the "
    "caller's own profile, `email` or `user_id` another user's (`mobile_number` only for its "
    "owner and the other party of an accepted booking); 404 if none. Tutor search: `skill` or "
    "`skills` (all must match), optionally `available_from`/`available_to` (only tutors with an "
    "available slot in that range), `limit` and `cursor`: `tutors` and `next_cursor`.",
    summary="Profile look-up ({} / email / user_id) or tutor search (skill / skills)",
    doc=documented(S.LookupOrSearchOut),
    body=LookupOrSearch,
    optional_body=True,
)
PROFILES_AND_SEARCH.add_to(router)
FAST_ROUTES = (PROFILES_AND_SEARCH,)
