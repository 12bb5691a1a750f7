"""Instants as text (`iso`, `span_text`, `local_fields`): the cached fast paths give exactly what
the straightforward `astimezone` + `strftime` gives, for any instant and zone, across DST changes,
in half- and quarter-hour zones, for instants in any representation (UTC or local, folds,
microseconds), whether the caches are cold or warm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from skillsession.domain import local_time
from skillsession.domain.local_time import iso, local_fields, span_text

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",  # negative DST in tzdata
    "America/New_York",
    "America/St_Johns",  # -3:30 with DST
    "America/Santiago",  # DST changes at midnight
    "America/Halifax",
    "Asia/Kolkata",  # +5:30
    "Asia/Kathmandu",  # +5:45
    "Asia/Gaza",  # transitions at odd local times
    "Australia/Lord_Howe",  # DST shift of 30 minutes
    "Australia/Adelaide",  # +9:30 with DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # skipped 2011-12-30
    "Africa/Casablanca",  # DST suspended for Ramadan
]
FIRST = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
LAST = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())


def reference_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference_span(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[str, ...]:
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return (
        reference_iso(start),
        reference_iso(end),
        local_start.date().isoformat(),
        local_start.strftime("%H:%M"),
        local_end.strftime("%H:%M"),
    )


@cache
def transitions(name: str) -> list[int]:
    """The unix seconds at which `name`'s UTC offset changes, 2000..2040 (day scan + bisection)."""
    tz = ZoneInfo(name)

    def offset(seconds: int) -> timedelta:
        return datetime.fromtimestamp(seconds, tz).utcoffset()

    found, last = [], int(datetime(2040, 1, 1, tzinfo=UTC).timestamp())
    for day in range(FIRST, last, 86400):
        if offset(day) != offset(day + 86400):
            lo, hi = day, day + 86400
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(day) else (lo, mid)
            found.append(hi)
    return found or [FIRST]


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


zones = st.sampled_from(ZONES)
any_instant = st.integers(FIRST, LAST)
near_a_transition = zones.flatmap(
    lambda name: st.tuples(st.sampled_from(transitions(name)), st.integers(-4 * 3600, 4 * 3600))
).map(sum)
# slots sit on quarter hours; bookings' request/update instants are any second
instants = st.one_of(
    any_instant, near_a_transition, near_a_transition.map(lambda s: s - s % 900), any_instant
)
lengths = st.one_of(
    st.sampled_from([15, 30, 45, 60, 90, 120, 240]).map(lambda m: m * 60),
    st.integers(1, 24 * 3600),
)
# how a caller may hold the instant: the stores' UTC datetimes, a local datetime (possibly in a
# fold), or one with microseconds (from a clock)
representations = st.sampled_from(["utc", "local", "micro"])


def held(seconds: int, how: str, zone: str) -> datetime:
    instant = utc(seconds)
    if how == "local":
        return instant.astimezone(ZoneInfo(zone))
    if how == "micro":
        return instant + timedelta(microseconds=123_456)
    return instant


@given(instants, representations, zones)
def test_iso_is_strftime_in_utc(seconds, how, zone):
    instant = held(seconds, how, zone)
    expected = reference_iso(instant)
    assert iso(instant) == expected
    assert iso(instant) == expected  # again, from the cache
    assert iso(utc(seconds)) == reference_iso(utc(seconds))


@given(instants, lengths, zones, representations, zones)
def test_span_text_is_astimezone_and_strftime(seconds, length, zone, how, held_in):
    tz = ZoneInfo(zone)
    start, end = held(seconds, how, held_in), held(seconds + length, how, held_in)
    expected = reference_span(start, end, tz)
    assert span_text(start, end, tz) == expected
    assert span_text(start, end, tz) == expected
    assert span_text(utc(seconds), utc(seconds + length), tz) == reference_span(
        utc(seconds), utc(seconds + length), tz
    )
    day, start_time, end_time = expected[2:]
    assert local_fields(start, end, tz) == {
        "date": day,
        "start_time": start_time,
        "end_time": end_time,
        "time_zone": zone,
    }


def test_the_two_instants_of_a_repeated_wall_time_stay_apart():
    # 02:30 happens twice in Berlin on 2026-10-25; as local datetimes the two compare and hash
    # equal, so a cache keyed by them would answer one with the other's text
    berlin, kolkata = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Kolkata")
    first = datetime(2026, 10, 25, 2, 30, tzinfo=berlin)
    second = first.replace(fold=1)
    end = utc(int(second.timestamp()) + 3600)
    for _ in range(2):
        assert iso(first) == "2026-10-25T00:30:00Z"
        assert iso(second) == "2026-10-25T01:30:00Z"
        assert span_text(first, end, kolkata) == reference_span(first, end, kolkata)
        assert span_text(second, end, kolkata) == reference_span(second, end, kolkata)
        assert span_text(first, end, kolkata)[3] == "06:00"
        assert span_text(second, end, kolkata)[3] == "07:00"


def test_one_instant_gives_one_text_whatever_its_representation():
    instant = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    kolkata = ZoneInfo("Asia/Kolkata")
    texts = {
        iso(instant),
        iso(instant.astimezone(kolkata)),
        iso(instant + timedelta(microseconds=999_999)),
        iso(instant.replace(tzinfo=ZoneInfo("UTC"))),
    }
    assert texts == {"2026-11-29T09:00:00Z"}
    assert span_text(instant, instant + timedelta(minutes=45), kolkata)[2:] == (
        "2026-11-29",
        "14:30",
        "15:15",
    )


def test_caches_are_bounded():
    for cached in (local_time._iso_utc, local_time._span_text_utc):
        assert cached.cache_info().maxsize is not None
        assert cached.cache_info().maxsize <= local_time.CACHED_INSTANTS
