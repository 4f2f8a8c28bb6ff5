"""The KPI query's lookup tables: period keys of instants and dates, and dates' midnights.

The keys come from the Python KPIs' own `Periods`, so SQL places a lead in the same month,
quarter or ISO week (DST and ISO years included) without any time zone function:

* `<prefix>kpi_instants`, one row per UTC day (key: whole days since `BASE`): for each period
  kind, the key at the day's start (`<kind>_before`), the first microsecond of the day at
  which it changes (`<kind>_change`, `FAR` when it does not) and the key from then on
  (`<kind>_after`); periods are at least a week long, so a day holds at most one change;
* `<prefix>kpi_dates`, one row per date: its local midnight (`midnight_us`, as
  `datetime.combine(day, time(0), tz)` reads it) and its period keys.

The printed query reads tables made for a range of local years (`--what calendar` writes
them); the embedded engine makes rows for exactly the days and dates its leads hold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final

import sqlglot.expressions as exp

from ..kpis.periods import Periods
from .dialects import Dialect
from .tables import _create, _inserts

DAY: Final = 86_400_000_000
BASE: Final = -(2**57 // DAY + 1) * DAY  # before year 1: `t - BASE` is never negative
FAR: Final = 2**62
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
KINDS: Final = ("month", "quarter", "week")
INSTANTS: Final = "kpi_instants"
DATES: Final = "kpi_dates"


def micros(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime, exactly."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def first_us(limit: float, strict: bool = False) -> int:
    """The first whole microsecond whose epoch seconds (`u / 10**6`, as Python works out a
    timestamp) are at least `limit` (more than `limit` when `strict`): comparing microseconds
    with it is comparing Python's floats."""
    def reached(u: int) -> bool:
        return u / 10**6 > limit if strict else u / 10**6 >= limit

    u = math.floor(limit * 10**6)
    while reached(u):
        u -= 1
    while not reached(u):
        u += 1
    return u


def last_us(limit: float) -> int:
    """The last whole microsecond whose epoch seconds are at most `limit`."""
    return first_us(limit, strict=True) - 1


def midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def first_date(limit: float, tz: tzinfo) -> date | None:
    """The first date whose local midnight is at least `limit` (None: no date's is)."""
    try:
        day = max(datetime.fromtimestamp(limit, tz).date(), date.min + timedelta(days=1))
    except (OverflowError, ValueError, OSError):
        return date.min if limit < 0 else None
    day -= timedelta(days=1)
    while midnight(day, tz).timestamp() < limit:
        if day == date.max:
            return None
        day += timedelta(days=1)
    return day


def last_date(limit: float, tz: tzinfo) -> date | None:
    """The last date whose local midnight is at most `limit` (None: no date's is)."""
    after = first_date(math.nextafter(limit, math.inf), tz)
    if after is None:
        return date.max
    return None if after == date.min else after - timedelta(days=1)


class PeriodKeys:
    """Period keys of epoch microseconds and of dates, per kind, as `Periods` gives them."""

    def __init__(self, kinds: Iterable[str], tz: tzinfo):
        self.kinds: list[str] = [k for k in KINDS if k in set(kinds)]
        self.tz = tz
        self.periods: dict[str, Periods] = {k: Periods(k, tz) for k in self.kinds}

    def key(self, kind: str, us: int) -> str:
        return self.periods[kind].key(us / 10**6)

    def instant_row(self, day: int) -> tuple[Any, ...]:
        """The `kpi_instants` row of UTC day `day` (whole days since `BASE`)."""
        start = BASE + day * DAY
        row: list[Any] = [day]
        for kind in self.kinds:
            before, after = self.key(kind, start), self.key(kind, start + DAY - 1)
            change = FAR
            if after != before:
                low, high = start, start + DAY - 1  # key(low) == before, key(high) == after
                while high - low > 1:
                    middle = (low + high) // 2
                    if self.key(kind, middle) == before:
                        low = middle
                    else:
                        high = middle
                change = high
            row += [before, change, after]
        return tuple(row)

    def date_row(self, day: date) -> tuple[Any, ...]:
        """The `kpi_dates` row of a date: its local midnight and period keys."""
        local = midnight(day, self.tz)
        epoch = local.timestamp()
        return (day, micros(local), *(self.periods[k].key(epoch) for k in self.kinds))

    def instant_columns(self) -> list[tuple[str, str]]:
        return [("day", "BIGINT"), *((f"{k}_{part}", kind) for k in self.kinds
                                     for part, kind in (("before", "VARCHAR"),
                                                        ("change", "BIGINT"),
                                                        ("after", "VARCHAR")))]

    def date_columns(self) -> list[tuple[str, str]]:
        return [("day", "DATE"), ("midnight_us", "BIGINT"), *((k, "VARCHAR")
                                                             for k in self.kinds)]


def day_of(us: int) -> int:
    """The `kpi_instants` key of an instant."""
    return (us - BASE) // DAY


def year_span(years: tuple[int, int], tz: tzinfo) -> tuple[range, list[date]]:
    """The UTC days and the dates of local years `years` (a day either side)."""
    first, last = years
    low = micros(midnight(date(first, 1, 1), tz)) - DAY
    high = micros(midnight(date(last, 12, 31), tz)) + 2 * DAY
    days = range(day_of(low), day_of(high) + 1)
    start = date(first, 1, 1)
    dates = [start + timedelta(days=i) for i in range((date(last, 12, 31) - start).days + 1)]
    return days, dates


def lookup_rows(keys: PeriodKeys, days: Iterable[int], dates: Iterable[date]
                ) -> dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]:
    """Both tables' columns (name, type) and rows, for the given days and dates."""
    return {INSTANTS: (keys.instant_columns(), [keys.instant_row(d) for d in days]),
            DATES: (keys.date_columns(), [keys.date_row(d) for d in dates])}


def lookup_statements(d: Dialect, prefix: str, keys: PeriodKeys,
                      years: tuple[int, int]) -> Iterator[exp.Expr]:
    """CREATE TABLE and INSERT statements of both tables for local years `years`."""
    days, dates = year_span(years, keys.tz)
    for name, (columns, rows) in lookup_rows(keys, days, dates).items():
        yield _create(d, f"{prefix}{name}", columns)
        yield from _inserts(d, f"{prefix}{name}", rows)
