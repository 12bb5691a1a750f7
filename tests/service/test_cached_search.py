"""Cached tutor search (http/search_cache.py) is always the answer rendered afresh: after a tutor
joins, changes skills, name or image; page by page; for every caller alike; never with dates, on
a store without versions or without bytes; with the same errors. On memory and on SQLite."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest
from service_fakes import counting, person

from skillsession.domain.errors import DomainError
from skillsession.domain.model import Role
from skillsession.http import views
from skillsession.http.search_cache import tutor_search_json
from skillsession.service import profiles
from skillsession.service.answer_cache import AnswerCache, AnswerCacheConfig

TUTOR, STUDENT = Role.TUTOR, Role.STUDENT


@pytest.fixture
def deps(deps, real_store):
    deps.stores, deps.counts = counting(real_store, searches=("search_tutors",))
    return deps


@pytest.fixture
def student(deps):
    return person(deps, "student", STUDENT, time_zone="America/Halifax")


def ask(deps, identity, skills, limit=10, cursor=None, **dates) -> dict:
    """The (maybe cached) answer, checked against the one rendered afresh."""
    frm, to = dates.get("available_from"), dates.get("available_to")
    search = profiles.resolve_search(deps, identity, skills, frm, to, limit, cursor)
    answer = tutor_search_json(deps, search)
    tutors, next_cursor = profiles.read_search(deps, search)
    fresh = {"tutors": [views.tutor_card(t) for t in tutors], "next_cursor": next_cursor}
    assert orjson.loads(answer) == fresh
    return fresh


def names(answer: dict) -> list[str]:
    return [t["first_name"] for t in answer["tutors"]]


def test_a_repeated_search_reads_no_profiles_and_every_profile_change_shows(deps, student):
    ada = person(deps, "ada", TUTOR, teaching_skills="Python, Statistics")
    other_caller = person(deps, "other", STUDENT)
    first = ask(deps, student, ["Python"])
    assert names(first) == ["Ada"]
    searches = deps.counts.searches
    search = profiles.resolve_search(deps, student, ["Python"], None, None, 10, None)
    assert orjson.loads(tutor_search_json(deps, search)) == first
    assert deps.counts.searches == searches  # served from the cache
    search = profiles.resolve_search(deps, other_caller, ["Python"], None, None, 10, None)
    assert orjson.loads(tutor_search_json(deps, search)) == first  # the same for every caller
    assert deps.counts.searches == searches

    bob = person(deps, "bob", TUTOR, teaching_skills="python")  # a tutor joins
    assert names(ask(deps, student, ["Python"])) == ["Ada", "Bob"]
    profiles.save(deps, ada, None, {"teaching_skills": ["Statistics"]})  # changes skills
    assert names(ask(deps, student, ["Python"])) == ["Bob"]
    profiles.save(deps, bob, None, {"first_name": "Robert"})  # renames
    assert names(ask(deps, other_caller, ["Python"])) == ["Robert"]
    deps.stores.profiles.set_profile_image(
        bob.user_id, "img/bob.png"
    )  # a card shows has_profile_image
    assert ask(deps, student, ["python"])["tutors"][0]["has_profile_image"] is True
    assert names(ask(deps, student, ["Statistics", "Python"])) == []


def test_pages_follow_their_cursor(deps, student):
    for name in ("t1", "t2", "t3", "t4", "t5"):
        person(deps, name, TUTOR, teaching_skills="Chess")
    seen, cursor = [], None
    for _ in range(3):
        page = ask(deps, student, ["Chess"], limit=2, cursor=cursor)
        seen += names(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["T1", "T2", "T3", "T4", "T5"]
    again = ask(deps, student, ["Chess"], limit=2)
    assert names(again) == seen[:2]


def test_searches_with_dates_are_not_cached(deps, student):
    person(deps, "ada", TUTOR, teaching_skills="Python")
    dates = {"available_from": "2026-12-01", "available_to": "2026-12-03"}
    assert ask(deps, student, ["Python"], **dates)["tutors"] == []
    assert len(deps.answers) == 0


def test_no_versions_or_no_bytes_no_cache(deps, student):
    person(deps, "ada", TUTOR, teaching_skills="Python")
    versions = deps.stores.versions
    deps.stores = replace(deps.stores, versions=None)  # as on the DynamoDB store
    ask(deps, student, ["Python"])
    assert len(deps.answers) == 0
    deps.stores = replace(deps.stores, versions=versions)
    deps.answers = AnswerCache(AnswerCacheConfig(max_bytes=0))
    ask(deps, student, ["Python"])
    assert len(deps.answers) == 0


def test_errors_are_those_of_the_uncached_search(deps, student):
    for skills, cursor in (([], None), (["Python"], "not-a-cursor"), (["x" * 200], None)):
        with pytest.raises(DomainError) as uncached:
            profiles.resolve_search(deps, student, skills, None, None, 10, cursor)
        with pytest.raises(DomainError) as cached:
            search = profiles.resolve_search(deps, student, skills, None, None, 10, cursor)
            tutor_search_json(deps, search)
        assert type(cached.value) is type(uncached.value)
        assert (cached.value.code, cached.value.details) == (
            uncached.value.code,
            uncached.value.details,
        )
