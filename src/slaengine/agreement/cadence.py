"""The calendar arithmetic of the operating cadence: meeting periods and action statuses.

A meeting held `every: week` (ISO weeks, Monday to Sunday), `month`, `quarter` or `year` is
expected once in each such period. The period that counts on a given day is the last *full*
one before it: on Wednesday the 18th of November, last week (9–15 November) and October, not
the week or month still under way. An action is `done` when `done` is true or a date,
`overdue` when its due date is before today and it is not done, and `open` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal

from .models.meeting import Cadence

ActionStatus = Literal["open", "overdue", "done"]
_MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}


def period_of(day: date, every: Cadence) -> tuple[date, date]:
    """The first and last date of the period of `every` that holds `day`."""
    if every == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    months = _MONTHS_IN[every]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return start, _add_months(start, months) - timedelta(days=1)


def last_full_period(today: date, every: Cadence) -> tuple[date, date]:
    """The last period of `every` that ended before `today`'s period began."""
    start, _ = period_of(today, every)
    return period_of(start - timedelta(days=1), every)


def period_label(start: date, every: Cadence) -> str:
    """`the week of 2026-11-09`, `October 2026`, `2026-Q4`, `2026`."""
    if every == "week":
        return f"the week of {start.isoformat()}"
    if every == "month":
        return f"{start:%B %Y}"
    if every == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def cadence_word(every: Cadence) -> str:
    return {"week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "yearly"}[every]


def is_done(done: bool | date) -> bool:
    return done is True or isinstance(done, date)


def action_status(due: date | None, done: bool | date, today: date) -> ActionStatus:
    """`done`, `overdue` (due before today, not done) or `open`."""
    if is_done(done):
        return "done"
    if due is not None and due < today:
        return "overdue"
    return "open"


def missed(every: Cadence, held: Iterable[date], today: date) -> tuple[date, date] | None:
    """The last full period when no meeting was held, or None when one was."""
    start, end = last_full_period(today, every)
    return None if any(start <= day <= end for day in held) else (start, end)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)
