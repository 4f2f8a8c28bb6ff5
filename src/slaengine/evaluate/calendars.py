"""An exact business clock: open hours in a timezone, minus holidays, as UTC epoch seconds.

Each calendar keeps a table of its open intervals as UTC epoch seconds with the open seconds
before each one, built a local calendar year at a time when first needed (years 1900–2200).
Due times and elapsed times are then a `bisect` and a subtraction: no datetime arithmetic and
no walking over days per call.

Semantics:

- `elapsed(start, end)` is the exact number of open seconds in `[start, end)`.
- `add_seconds(start, s)` is the earliest instant `t` with `elapsed(start, t) == s`. A start
  outside open hours therefore counts from the next opening, and an allowance that runs out
  exactly at a closing is due at that closing, not at the next opening. `s == 0` gives `start`.
- Business days: a business day is a local date with at least one open interval (a holiday
  with its own `open` hours is one; a closed holiday is not). Counting starts at
  `next_open(start)`: when that is the first opening of its local day (the lead arrived before
  opening, after closing or on a closed day) that day is business day 1; otherwise (it arrived
  during the day, including during a lunch break) business day 1 is the next business day.
  Due is the last closing time of business day N: with Mon–Fri 09:00–17:00, Mon 10:00 + 1bd
  is due Tue 17:00, Fri 17:30 + 1bd Mon 17:00, and Mon 08:00 + 1bd Mon 17:00.
- Public holidays (`public_holidays: {country, subdivision}`) are closed days, taken from the
  `holidays` library a year at a time as the table grows; an entry of the hand-written
  `holidays:` list for the same date wins, so a company can keep a public holiday half open.
- Local opening and closing times become UTC with zoneinfo and `fold=0`: a time that occurs
  twice (the autumn fold) means its first occurrence, and a time that does not exist (the
  spring gap) is read with the offset before the change, so it maps forward by the gap, as
  zoneinfo does (02:30 in Amsterdam on 2026-03-29 opens at 03:30 CEST). Intervals that
  overlap after that mapping are merged.
- `always_open()` is the wall clock: `start + seconds` and `end - start`, in UTC.

Instants are POSIX epoch seconds (floats) in the fast methods and aware datetimes in the
convenience methods; anything before local 1900-01-01 or from local 2201-01-01 on raises
`ValueError`.
"""

from __future__ import annotations

import threading
import zoneinfo
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from ..agreement.models.common import Duration, Interval
from ..agreement.models.sections import WEEKDAYS, Calendar
from ..agreement.public_holidays import names as public_holiday_names

FIRST_YEAR = 1900
LAST_YEAR = 2200

_Hours = tuple[tuple[int, int], ...]  # (start, end) in minutes from local midnight


class _Table(NamedTuple):
    """Open intervals of local years `first_year..last_year`, as one snapshot."""

    first_year: int
    last_year: int
    lo: float  # epoch of local midnight starting first_year
    hi: float  # epoch of local midnight after last_year
    starts: list[float]  # merged open intervals; starts[0] == lo, so bisect never returns -1
    ends: list[float]
    cum: list[float]  # open seconds before interval i; one extra entry: the total
    day_opens: list[float]  # per business day: first opening and last closing
    day_closes: list[float]


_EMPTY = _Table(0, -1, float("inf"), float("-inf"), [], [], [], [], [])


class BusinessCalendar:
    """Open hours in a timezone; 24x7 when built with `always_open`."""

    timezone: zoneinfo.ZoneInfo

    def __init__(self, timezone: zoneinfo.ZoneInfo, week: tuple[_Hours, ...],
                 holidays: dict[date, _Hours],
                 public: Callable[[int], Mapping[date, str]] | None = None) -> None:
        self.timezone = timezone
        self._week = week  # indexed by date.weekday()
        self._holidays = holidays
        self._public = public  # a year's public holidays (closed), asked once per year built
        self._lock = threading.Lock()
        self._years: dict[int, tuple[list[tuple[float, float]], list[tuple[float, float]]]] = {}
        self._table = _EMPTY
        self._min = self._local(date(FIRST_YEAR, 1, 1), 0)
        self._max = self._local(date(LAST_YEAR + 1, 1, 1), 0)

    @classmethod
    def from_model(cls, calendar: Calendar, timezone: str) -> BusinessCalendar:
        """The calendar in its own timezone, or else `timezone` (the agreement's)."""
        name = calendar.timezone or timezone
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone `{name}`") from None
        week = tuple(_hours(calendar.hours.get(day, [])) for day in WEEKDAYS)
        # A later entry for the same date wins; validation warns about duplicates.
        holidays = {h.date: _hours(h.open) for h in calendar.holidays}
        public = calendar.public_holidays
        if public is None:
            return cls(zone, week, holidays)
        country, subdivision = public.country, public.subdivision
        try:
            public_holiday_names(country, subdivision, 2000)
        except NotImplementedError:
            raise ValueError(f"no public holidays for country `{country}`"
                             + (f" subdivision `{subdivision}`" if subdivision else "")) from None
        return cls(zone, week, holidays,
                   lambda year: public_holiday_names(country, subdivision, year))

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """The wall clock: every second counts."""
        return _WallClock()

    # ------------------------------------------------------------ fast core (epoch seconds)

    def add_seconds(self, start: float, seconds: float) -> float:
        """The earliest instant by which `seconds` of open time have passed since `start`."""
        if seconds <= 0:
            if seconds < 0:
                raise ValueError("cannot add a negative allowance")
            self._check(start)
            return start
        t = self._table
        if not t.lo <= start < t.hi:
            t = self._cover(start, start)
        step = 1
        while True:
            _, _, _, _, starts, ends, cum, _, _ = t
            i = bisect_right(starts, start) - 1
            e = ends[i]
            target = cum[i] + (start if start < e else e) - starts[i] + seconds
            j = bisect_left(cum, target) - 1
            if j < len(starts):
                return starts[j] + (target - cum[j])
            t, step = self._grow(t, step), step * 2

    def add_business_days(self, start: float, days: int) -> float:
        """The last closing of the `days`-th business day counted from `start` (see module)."""
        if days <= 0:
            if days < 0:
                raise ValueError("cannot add a negative number of business days")
            self._check(start)
            return start
        opening = self.next_open(start)
        t, step = self._table, 1
        while True:
            k = bisect_right(t.day_opens, opening) - 1
            n = k + (days - 1 if t.day_opens[k] == opening else days)
            if n < len(t.day_closes):
                return t.day_closes[n]
            t, step = self._grow(t, step), step * 2

    def elapsed(self, start: float, end: float) -> float:
        """Open seconds in `[start, end)`; 0 when `end <= start`."""
        if end <= start:
            self._check(start)
            return 0.0
        _, _, lo, hi, starts, ends, cum, _, _ = self._table
        if not (lo <= start and end <= hi):
            _, _, lo, hi, starts, ends, cum, _, _ = self._cover(start, end)
        # Inlined rather than _open_before() twice: this is the evaluator's hot path.
        i = bisect_right(starts, start) - 1
        j = bisect_right(starts, end) - 1
        e, s = ends[j], ends[i]
        return ((cum[j] + (end if end < e else e) - starts[j])
                - (cum[i] + (start if start < s else s) - starts[i]))

    def next_open(self, instant: float) -> float:
        """The first open instant at or after `instant`."""
        t = self._table
        if not t.lo <= instant < t.hi:
            t = self._cover(instant, instant)
        step = 1
        while True:
            i = bisect_right(t.starts, instant) - 1
            if instant < t.ends[i]:
                return instant
            if i + 1 < len(t.starts):
                return t.starts[i + 1]
            t, step = self._grow(t, step), step * 2

    def is_open(self, instant: float) -> bool:
        """Whether `instant` lies in open hours (an opening is open, a closing is not)."""
        t = self._table
        if not t.lo <= instant < t.hi:
            t = self._cover(instant, instant)
        return instant < t.ends[bisect_right(t.starts, instant) - 1]

    # ------------------------------------------------------------ aware datetimes

    def add(self, start: datetime, allowance: Duration) -> datetime:
        """When `allowance` from `start` runs out, in the calendar's timezone."""
        epoch = _epoch(start)
        if allowance.is_business_days:
            due = self.add_business_days(epoch, allowance.amount)
        else:
            due = self.add_seconds(epoch, allowance.seconds)
        return datetime.fromtimestamp(due, self.timezone)

    def elapsed_between(self, start: datetime, end: datetime) -> float:
        """Open seconds from `start` to `end`, as `elapsed`."""
        return self.elapsed(_epoch(start), _epoch(end))

    def open_intervals(self, first: date, last: date) -> Iterator[tuple[float, float, float]]:
        """`(open_start, open_end, open_seconds_before)` for local dates `first..last`.

        Intervals are clipped to those dates and the running total starts at 0 at local
        midnight of `first`: the table `elapsed` interpolates, for a SQL join to use.
        """
        if last < first:
            return
        lo, hi = self._local(first, 0), self._local(last + timedelta(days=1), 0)
        t = self._cover(lo, hi)
        starts, ends, cum = t.starts, t.ends, t.cum
        base = _open_before(t, lo)
        for i in range(bisect_right(starts, lo) - 1, bisect_left(starts, hi)):
            s, e = max(starts[i], lo), min(ends[i], hi)
            if s < e:
                yield s, e, cum[i] + (s - starts[i]) - base

    # ------------------------------------------------------------ the table

    def _check(self, instant: float) -> None:
        if not self._min <= instant < self._max:
            raise ValueError(f"instant {instant!r} is outside the years {FIRST_YEAR}–{LAST_YEAR} "
                             "that calendars cover")

    def _cover(self, first: float, last: float) -> _Table:
        """The table, extended to the local years of `first` and `last`."""
        self._check(first)
        if last != self._max:  # an interval may end exactly at the range's end
            self._check(last)
        t = self._table
        if t.lo <= first and last <= t.hi:
            return t
        lo_year = datetime.fromtimestamp(first, self.timezone).year
        hi_year = datetime.fromtimestamp(min(last, self._max - 1), self.timezone).year
        return self._extend(lo_year, hi_year)  # joined with the years already built

    def _grow(self, t: _Table, years: int) -> _Table:
        """The table with `years` more years after `t`; for an allowance that runs past it."""
        if t.last_year >= LAST_YEAR:
            raise ValueError(f"the calendar is not open long enough before the end of {LAST_YEAR}")
        return self._extend(t.first_year, min(t.last_year + years, LAST_YEAR))

    def _extend(self, first_year: int, last_year: int) -> _Table:
        with self._lock:  # readers use whichever whole snapshot they got; no lock needed
            t = self._table
            if t.starts and t.first_year <= first_year and last_year <= t.last_year:
                return t
            if t.starts:
                first_year, last_year = min(first_year, t.first_year), max(last_year, t.last_year)
            pairs: list[tuple[float, float]] = []
            days: list[tuple[float, float]] = []
            for year in range(first_year, last_year + 1):
                if year not in self._years:
                    self._years[year] = self._build_year(year)
                pairs += self._years[year][0]
                days += self._years[year][1]
            lo = self._local(date(first_year, 1, 1), 0)
            hi = self._local(date(last_year + 1, 1, 1), 0)
            starts, ends = [lo], [lo]  # a closed sentinel at the start of the range
            for s, e in sorted(pairs):
                if s <= ends[-1]:  # overlapping or touching: one interval
                    ends[-1] = max(ends[-1], e)
                else:
                    starts.append(s)
                    ends.append(e)
            cum = [0.0]
            for s, e in zip(starts, ends, strict=True):
                cum.append(cum[-1] + (e - s))
            days.sort()
            self._table = _Table(first_year, last_year, lo, hi, starts, ends, cum,
                                 [d[0] for d in days], [d[1] for d in days])
            return self._table

    def _build_year(self, year: int) -> tuple[list[tuple[float, float]],
                                              list[tuple[float, float]]]:
        """Open intervals and business days (first opening, last closing) of a local year."""
        lo, hi = self._local(date(year, 1, 1), 0), self._local(date(year + 1, 1, 1), 0)
        pairs: list[tuple[float, float]] = []
        days: list[tuple[float, float]] = []
        closed = self._public(year) if self._public is not None else {}
        day = date(year, 1, 1)
        while day.year == year:
            # A hand-written entry wins over a public holiday: it may open a short day.
            hours = self._holidays.get(day, () if day in closed else self._week[day.weekday()])
            # Clamped to the year so that an odd DST gap cannot push one out of its table.
            spans = [(max(self._local(day, a), lo), min(self._local(day, b), hi))
                     for a, b in hours]
            spans = [(s, e) for s, e in spans if s < e]  # a gap can empty an interval
            if spans:
                pairs += spans
                days.append((min(s for s, _ in spans), max(e for _, e in spans)))
            day += timedelta(days=1)
        return pairs, days

    def _local(self, day: date, minute: int) -> float:
        """Epoch of a local wall time; `fold=0` (see the module docstring)."""
        if minute == 24 * 60:
            day, minute = day + timedelta(days=1), 0
        return datetime(day.year, day.month, day.day, minute // 60, minute % 60,
                        tzinfo=self.timezone).timestamp()


class _WallClock(BusinessCalendar):
    """Every second counts; business days have no meaning here."""

    def __init__(self) -> None:
        self.timezone = zoneinfo.ZoneInfo("UTC")
        self._min = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp()
        self._max = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp()

    def add_seconds(self, start: float, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("cannot add a negative allowance")
        self._check(start)
        due = start + seconds
        if due > self._max:
            raise ValueError(f"the due time is after {LAST_YEAR}")
        return due

    def add_business_days(self, start: float, days: int) -> float:
        raise ValueError("business days need a business calendar, not the wall clock")

    def elapsed(self, start: float, end: float) -> float:
        self._check(start)
        if end <= start:
            return 0.0
        if end > self._max:
            self._check(end)
        return float(end - start)

    def next_open(self, instant: float) -> float:
        self._check(instant)
        return instant

    def is_open(self, instant: float) -> bool:
        self._check(instant)
        return True

    def open_intervals(self, first: date, last: date) -> Iterator[tuple[float, float, float]]:
        if first <= last:
            lo = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()
            end = last + timedelta(days=1)
            hi = datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()
            self._check(lo)
            self._check(hi - 1)
            yield lo, hi, 0.0


def _hours(intervals: list[Interval]) -> _Hours:
    return tuple(sorted((i.start, i.end) for i in intervals))


def _open_before(t: _Table, instant: float) -> float:
    """The table's running total of open seconds at `instant` (within the table)."""
    i = bisect_right(t.starts, instant) - 1
    return t.cum[i] + min(instant, t.ends[i]) - t.starts[i]


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no timezone; give an aware datetime, "
                         "e.g. 2026-11-20T10:00:00+01:00")
    return moment.timestamp()
