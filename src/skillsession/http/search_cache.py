"""Cached rendered answers of tutor search: `POST /get-user-profiles-and-teacher-search` with
`skill`/`skills` and no dates.

A page of tutor cards is read from the tutors' profiles and skills only: it is the same for every
caller (a card never shows a mobile number) and changes only when a profile does. Every profile
write (`save_profile`, `set_profile_image`, `bulk_insert`) changes
`AnswerVersions.profiles_version` in its own transaction, so the answers go into the per-process
`AnswerCache` (`Deps.answers`, service/answer_cache.py) under that version, as the slots and the
booking lists do: the request is checked as without the cache (same errors, same order), the
version is read before any profile, and stored bytes are served only under the version they were
stored with (the argument in `http/slot_cache.py` and `http/list_cache.py` holds as it is). A
search with dates also depends on the tutors' slots and the time: it is not cached, nor is
anything on a store without versions (DynamoDB). Cards carry no signed URL, so entries need no
`valid_until`.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from skillsession.http import views
from skillsession.service import profiles as service
from skillsession.service.deps import Deps


def tutor_search_json(deps: Deps, search: service.TutorSearch) -> bytes:
    """The body of a search answer (`{"tutors": [...], "next_cursor"}`) for a checked search,
    from the cache when it is still right (never for a search with dates)."""
    key = ("search", search.keys, search.between, search.limit, search.after)

    def render() -> tuple[bytes, datetime | None]:
        tutors, next_cursor = service.read_search(deps, search)
        cards = [views.tutor_card(t) for t in tutors]
        return orjson.dumps({"tutors": cards, "next_cursor": next_cursor}), None

    if search.between is not None:  # depends on slots and the time: no version covers it
        return render()[0]
    # the version first, the profiles after: see the module docstring
    return deps.answers.cached(deps, key, lambda v: v.profiles_version(), render)
