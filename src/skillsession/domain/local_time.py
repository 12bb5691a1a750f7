"""Time zones and instants. Storage is UTC; people read local dates and times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skillsession.domain.errors import ValidationFailed

# Every date the service accepts lies in this range (API.md: the calendar's edges are bad input):
# a day and its neighbours then always convert to UTC instants in any zone, with room to spare.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2200, 12, 31)
DAY_RANGE = f"{FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}"
MAX_ZONE_LENGTH = 64  # an IANA zone's name, at most


@lru_cache(maxsize=512)
def zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone called `name`, or a 422 naming `field`."""
    if (
        not name
        or "\x00" in name
        or name.startswith("/")
        or ".." in name
        or len(name) > MAX_ZONE_LENGTH
    ):
        raise ValidationFailed("unknown time zone", details={field: f"not an IANA zone: {name!r}"})
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationFailed(
            "unknown time zone", details={field: f"not an IANA zone: {name!r}"}
        ) from exc


# Rendering a list formats the same instants again and again (slots start on the hour or the
# quarter; a page of bookings is read many times), and turning a datetime into text costs µs, so
# whole-second instants in UTC -- what the stores hand out -- go through bounded caches keyed by
# the datetime itself (hit: ~0.1 µs). Only `tzinfo is UTC` instants are cached: UTC has no folds,
# so equal keys are equal instants (in a zone with a fold, 01:30 fold=0 and fold=1 compare and
# hash equal). Other instants take the uncached path, which is also the definition.
# tests/unit/test_time_text.py checks both against `astimezone` + `strftime`.
CACHED_INSTANTS = 1 << 13  # per cache; full, the two hold ~5 MiB


def iso(instant: datetime) -> str:
    """`2026-12-01T08:00:00Z`."""
    if instant.tzinfo is UTC and not instant.microsecond:
        return _iso_utc(instant)
    return _iso(instant)


def _iso(instant: datetime) -> str:
    # `isoformat` is `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` (years 1000..9999), twice as fast as
    # `strftime("%Y-%m-%dT%H:%M:%SZ")`, and gives the same text
    return instant.astimezone(UTC).isoformat()[:19] + "Z"


_iso_utc = lru_cache(maxsize=CACHED_INSTANTS)(_iso)


def parse_instant(text: str, field: str = "now") -> datetime:
    """An ISO 8601 instant (UTC if it names no offset) on a day in `DAY_RANGE`, in UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ValidationFailed("not an ISO 8601 instant", details={field: str(text)}) from exc
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise ValidationFailed(f"instants lie in {DAY_RANGE}", details={field: str(text)})
    return value


def parse_date(text: str, field: str) -> date:
    """A `YYYY-MM-DD` date in `DAY_RANGE`."""
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("dates are YYYY-MM-DD", details={field: str(text)}) from exc
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(f"dates lie in {DAY_RANGE}", details={field: str(text)})
    return day


def parse_clock(text: str, field: str) -> tuple[int, int]:
    """`HH:MM` (00:00..24:00) as (hours, minutes)."""
    parts = text.split(":") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValidationFailed("times are HH:MM", details={field: str(text)})
    hours, minutes = int(parts[0]), int(parts[1])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValidationFailed("times are HH:MM", details={field: text})
    return hours, minutes


def local_to_utc(day: date, clock: tuple[int, int], tz: ZoneInfo, field: str) -> datetime:
    """The UTC instant of a local wall time. `24:00` is midnight of the next day.

    A wall time that does not exist (skipped by a DST change) is a 422; an ambiguous one
    (repeated by a DST change) means its first occurrence."""
    hours, minutes = clock
    if hours == 24:
        day, hours = day + timedelta(days=1), 0
    local = datetime.combine(day, time(hours, minutes), tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationFailed(
            "this local time does not exist (daylight saving time change)",
            code="nonexistent_local_time",
            details={field: f"{day.isoformat()} {hours:02d}:{minutes:02d} in {tz.key}"},
        )
    return instant


def local_fields(start: datetime, end: datetime, tz: ZoneInfo) -> dict[str, str]:
    """What a person reads: local date, start and end time, and the zone."""
    _, _, day, start_time, end_time = span_text(start, end, tz)
    return {"date": day, "start_time": start_time, "end_time": end_time, "time_zone": tz.key}


def span_text(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[str, str, str, str, str]:
    """A span as text: `iso(start)`, `iso(end)`, and the local date, start and end time in `tz`
    (`YYYY-MM-DD`, `HH:MM`, `HH:MM`)."""
    if start.tzinfo is UTC and end.tzinfo is UTC:
        return _span_text_utc(start, end, tz)
    return _span_text(start, end, tz)


def _span_text(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[str, str, str, str, str]:
    local_start = start.astimezone(tz).isoformat()  # YYYY-MM-DDTHH:MM:SS...
    return (
        iso(start),
        iso(end),
        local_start[:10],
        local_start[11:16],
        end.astimezone(tz).isoformat()[11:16],
    )


_span_text_utc = lru_cache(maxsize=CACHED_INSTANTS)(_span_text)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `tz` (first existing wall time)."""
    local = datetime.combine(day, time(0, 0), tzinfo=tz)
    instant = local.astimezone(UTC)
    # midnight may fall in a DST gap (e.g. America/Santiago); then the day starts at the gap's end
    if instant.astimezone(tz).date() != day:
        instant = datetime.combine(day, time(1, 0), tzinfo=tz).astimezone(UTC)
    return instant


def after(now: datetime) -> datetime:
    """The first whole second after `now`: slots starting at or after it have not started
    (`start > now`), at the one-second resolution instants are stored with."""
    return now.replace(microsecond=0) + timedelta(seconds=1)
