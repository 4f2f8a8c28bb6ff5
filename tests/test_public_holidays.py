"""Public holidays: the library's days, asked once per year, and the validator's wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from slaengine.agreement.models.sections import Calendar
from slaengine.agreement.public_holidays import names, problem
from slaengine.evaluate.calendars import BusinessCalendar


@pytest.mark.parametrize(("country", "subdivision"), [("NL", None), ("DE", "BY"), ("US", "NY")])
@pytest.mark.parametrize("year", [2026, 2027])
def test_names_are_the_librarys_days(country: str, subdivision: str | None, year: int) -> None:
    expected = holidays.country_holidays(country, subdiv=subdivision, years=year)
    found = names(country, subdivision, year)
    assert set(found) == set(expected)
    assert all(name for name in found.values())


def test_names_are_in_english() -> None:
    assert names("NL", None, 2026)[date(2026, 4, 27)] == "King's Day"
    assert names("DE", "BY", 2026)[date(2026, 6, 4)] == "Corpus Christi"


@pytest.mark.parametrize(("country", "subdivision", "code", "hint"), [
    ("NL", None, None, None),
    ("DE", "BY", None, None),
    ("nl", None, "unknown-country", "write `NL`"),
    ("NLX", None, "unknown-country", "did you mean `NL`"),
    ("DE", "Bayern", "unknown-subdivision", "write `subdivision: BY`"),
    ("DE", "QQ", "unknown-subdivision", "use one of"),
])
def test_problems_are_worded_with_a_fix(country: str, subdivision: str | None,
                                        code: str | None, hint: str | None) -> None:
    found = problem(country, subdivision)
    if code is None:
        assert found is None
    else:
        assert found is not None
        assert found[0] == code
        assert hint is not None and hint in found[2]


@pytest.mark.parametrize(("country", "subdivision", "zone"),
                         [("NL", None, "Europe/Amsterdam"), ("DE", "BY", "Europe/Berlin")])
def test_the_clock_closes_exactly_the_public_holidays(country: str, subdivision: str | None,
                                                      zone: str) -> None:
    """Every weekday of two years is open unless it is a public holiday (or hand-written)."""
    calendar = Calendar.model_validate({
        "timezone": zone, "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00"),
        "public_holidays": {"country": country, "subdivision": subdivision},
        "holidays": [{"date": "2026-12-24", "open": "09:00-12:00"}]})
    clock = BusinessCalendar.from_model(calendar, "UTC")
    library = holidays.country_holidays(country, subdiv=subdivision, years=[2026, 2027])
    day, closed_weekdays = date(2026, 1, 1), 0
    while day.year < 2028:
        noon = datetime(day.year, day.month, day.day, 9, tzinfo=UTC).timestamp()
        if day.weekday() < 5:
            expected = day == date(2026, 12, 24) or day not in library
            assert clock.is_open(noon) is expected, day
            closed_weekdays += not expected
        day += timedelta(days=1)
    assert closed_weekdays >= 12  # the check saw real holidays, not an empty list


def test_an_unknown_country_is_refused_by_the_clock() -> None:
    calendar = Calendar.model_validate({"hours": {"mon": "09:00-17:00"},
                                        "public_holidays": {"country": "XX"}})
    with pytest.raises(ValueError, match="no public holidays for country `XX`"):
        BusinessCalendar.from_model(calendar, "UTC")
