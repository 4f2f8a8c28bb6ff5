"""The cadence's date arithmetic: periods, the last full one, and action statuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slaengine.agreement.cadence import (
    action_status,
    last_full_period,
    missed,
    period_label,
    period_of,
)
from slaengine.agreement.models.meeting import Cadence

CADENCES: list[Cadence] = ["week", "month", "quarter", "year"]
days = st.dates(date(1990, 1, 1), date(2100, 12, 31))


@given(days, st.sampled_from(CADENCES))
def test_a_period_holds_its_day_and_tiles_the_calendar(day: date, every: Cadence) -> None:
    start, end = period_of(day, every)
    assert start <= day <= end
    assert period_of(start, every) == period_of(end, every) == (start, end)
    assert period_of(start - timedelta(days=1), every)[1] == start - timedelta(days=1)
    assert period_of(end + timedelta(days=1), every)[0] == end + timedelta(days=1)
    length = (end - start).days + 1
    assert {"week": {7}, "month": {28, 29, 30, 31}, "quarter": {90, 91, 92},
            "year": {365, 366}}[every] >= {length}


@given(days, st.sampled_from(CADENCES))
def test_the_last_full_period_ends_the_day_before_the_current_one(day: date,
                                                                  every: Cadence) -> None:
    _, end = last_full_period(day, every)
    assert end == period_of(day, every)[0] - timedelta(days=1)
    assert end < day


@pytest.mark.parametrize(("today", "every", "expected"), [
    (date(2026, 11, 18), "week", (date(2026, 11, 9), date(2026, 11, 15))),
    (date(2026, 11, 16), "week", (date(2026, 11, 9), date(2026, 11, 15))),
    (date(2026, 11, 18), "month", (date(2026, 10, 1), date(2026, 10, 31))),
    (date(2026, 1, 5), "month", (date(2025, 12, 1), date(2025, 12, 31))),
    (date(2026, 11, 18), "quarter", (date(2026, 7, 1), date(2026, 9, 30))),
    (date(2026, 2, 1), "quarter", (date(2025, 10, 1), date(2025, 12, 31))),
    (date(2026, 11, 18), "year", (date(2025, 1, 1), date(2025, 12, 31))),
])
def test_last_full_periods_by_hand(today: date, every: Cadence,
                                   expected: tuple[date, date]) -> None:
    assert last_full_period(today, every) == expected


def test_labels() -> None:
    assert period_label(date(2026, 11, 9), "week") == "the week of 2026-11-09"
    assert period_label(date(2026, 10, 1), "month") == "October 2026"
    assert period_label(date(2026, 7, 1), "quarter") == "2026-Q3"
    assert period_label(date(2025, 1, 1), "year") == "2025"


def test_missed_looks_at_the_last_full_period_only() -> None:
    today = date(2026, 11, 18)
    assert missed("month", [date(2026, 10, 6)], today) is None
    assert missed("month", [date(2026, 11, 4)], today) == (date(2026, 10, 1),
                                                           date(2026, 10, 31))
    assert missed("month", [], today) is not None
    assert missed("week", [date(2026, 11, 15)], today) is None


@pytest.mark.parametrize(("due", "done", "status"), [
    (date(2026, 11, 30), False, "open"),
    (date(2026, 11, 18), False, "open"),  # due today is not yet late
    (date(2026, 11, 17), False, "overdue"),
    (date(2026, 11, 17), True, "done"),
    (date(2026, 11, 17), date(2026, 11, 20), "done"),
    (None, False, "open"),
])
def test_action_status(due: date | None, done: bool | date, status: str) -> None:
    assert action_status(due, done, date(2026, 11, 18)) == status
