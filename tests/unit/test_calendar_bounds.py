"""The service's date range (domain.local_time.DAY_RANGE) and error bodies that always encode."""

from __future__ import annotations

from datetime import UTC, date, datetime

import orjson
import pytest

from skillsession.domain import local_time
from skillsession.domain.errors import ValidationFailed
from skillsession.http.responses import error_response


@pytest.mark.parametrize("text", ["0001-01-01", "1969-12-31", "2201-01-01", "9999-12-31"])
def test_dates_outside_the_range_are_refused(text):
    with pytest.raises(ValidationFailed) as raised:
        local_time.parse_date(text, "from_date")
    assert raised.value.details == {"from_date": text}


def test_the_range_is_inclusive():
    assert local_time.parse_date("1970-01-01", "d") == local_time.FIRST_DAY == date(1970, 1, 1)
    assert local_time.parse_date("2200-12-31", "d") == local_time.LAST_DAY == date(2200, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: used to raise OverflowError
        "9999-12-31T23:59:59-01:00",
        "1969-12-31T23:59:59Z",
        "2201-01-01T00:00:00Z",
        "not an instant",
    ],
)
def test_instants_outside_the_range_are_refused(text):
    with pytest.raises(ValidationFailed):
        local_time.parse_instant(text, "cursor")


def test_instants_in_the_range_are_utc():
    assert local_time.parse_instant("2026-12-01T09:00:00+01:00") == datetime(
        2026, 12, 1, 8, tzinfo=UTC
    )


def test_an_error_quoting_any_value_encodes():
    details = {"slot_minutes": 2**64, "n": -(2**70), "when": date(2026, 1, 1), "x": [object()]}
    body = orjson.loads(error_response(422, "validation_error", "bad", details).body)
    assert body["error"]["details"]["slot_minutes"] == str(2**64)
    assert body["error"]["details"]["n"] == str(-(2**70))
    assert body["error"]["details"]["when"] == "2026-01-01"
