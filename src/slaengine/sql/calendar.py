"""Business calendars as lookup tables, so SQL computes due and elapsed times exactly.

`BusinessCalendar.open_intervals` gives the calendar's open intervals (UTC) with the open
time before each, for a range of local years: the same intervals the Python clocks use. The
SQL needs three equality lookups on them (hash joins, no range joins), all in microseconds:

* `<calendar>_days`, one row per UTC day (key: whole days since `base`): the open time
  before the day starts and the day's open pieces (`s1, e1, ...`, empty ones padded), so the
  open time before any instant is `before + sum(clamp(t - s_k, 0, e_k - s_k))`; and for
  business-day allowances the number of business days whose first opening is before the day
  starts, and the first openings that fall within it (`o1, ...`);
* `<calendar>_due`, one row per `width` microseconds of open time (key: `(target - 1) div
  width`): the open intervals that reach into it (`c` open time before, `s` start, `l`
  length), so the instant at which `target` of open time has passed is `s + target - c` of
  the first candidate with `target <= c + l`;
* `<calendar>_bdays`, one row per business day (key: its index): its last closing and the
  open time before that closing (a business-day allowance is due at a closing).

Instants outside `[lo, hi)` (local 1 January of the first year to local 1 January after the
last) are out of the calendar's range, as the Python calendar is outside 1900-2200.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from ..agreement.models.sections import Calendar
from ..evaluate.calendars import FIRST_YEAR, LAST_YEAR, BusinessCalendar
from .errors import Unsupported

SECOND: Final = 1_000_000
DAY: Final = 86_400 * SECOND
WALL_LO: Final = int(datetime(FIRST_YEAR, 1, 1, tzinfo=UTC).timestamp()) * SECOND
WALL_HI: Final = int(datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp()) * SECOND
_MAX_CANDIDATES: Final = 8


def _us(seconds: float) -> int:
    whole = int(seconds)
    if whole != seconds:  # opening hours are whole minutes; offsets whole seconds
        raise ValueError(f"calendar instant {seconds!r} is not a whole second")
    return whole * SECOND


@dataclass(frozen=True)
class CalendarTable:
    """One calendar's lookup tables for local years `first_year..last_year`."""

    name: str
    timezone_name: str
    first_year: int
    last_year: int
    lo: int
    hi: int
    base: int  # UTC midnight at or before `lo`: day key 0
    width: int
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    cums: tuple[int, ...]
    day_opens: tuple[int, ...]
    day_closes: tuple[int, ...]
    days: tuple[tuple[int, ...], ...]
    due: tuple[tuple[int, ...], ...]
    pieces: int
    opens: int
    candidates: int

    @property
    def total(self) -> int:
        return self.cums[-1] + self.ends[-1] - self.starts[-1] if self.starts else 0

    def before(self, t: int) -> int:
        """Open microseconds in `[lo, t)` (t within the range)."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.cums[i] + min(t, self.ends[i]) - self.starts[i]

    def bdays(self) -> list[tuple[int, int, int]]:
        return [(n, close, self.before(close)) for n, close in enumerate(self.day_closes)]

    def day_key(self, t: int) -> int:
        return (t - self.base) // DAY


def _local_midnight(zone: tzinfo, day: date) -> int:
    return int(datetime.combine(day, time(0), zone).timestamp()) * SECOND


def build(name: str, calendar: Calendar, timezone: str, first_year: int,
          last_year: int) -> CalendarTable:
    """The lookup tables of one calendar (cached: years of a table are built once)."""
    if not FIRST_YEAR <= first_year <= last_year <= LAST_YEAR:
        raise Unsupported(f"the calendar years {first_year}-{last_year}",
                          f"calendars cover {FIRST_YEAR}-{LAST_YEAR}")
    key = (name, calendar.model_dump_json(), timezone, first_year, last_year)
    if key not in _CACHE:
        if len(_CACHE) >= 32:
            _CACHE.clear()
        _CACHE[key] = _build(name, calendar, timezone, first_year, last_year)
    return _CACHE[key]


_CACHE: dict[tuple[str, str, str, int, int], CalendarTable] = {}


def _build(name: str, model: Calendar, timezone: str, first_year: int,
           last_year: int) -> CalendarTable:
    cal = BusinessCalendar.from_model(model, timezone)
    zone = cal.timezone
    lo = _local_midnight(zone, date(first_year, 1, 1))
    hi = _local_midnight(zone, date(last_year + 1, 1, 1))
    starts, ends, cums = [], [], []
    for s, e, cum in cal.open_intervals(date(first_year, 1, 1), date(last_year, 12, 31)):
        starts.append(_us(s))
        ends.append(_us(e))
        cums.append(_us(cum))
    # Business days: the first opening and last closing of each local day with open hours.
    # (Private to the calendar: the same lists its `add_business_days` counts on.)
    opens_closes = sorted(day for year in range(first_year, last_year + 1)
                          for day in cal._build_year(year)[1])
    day_opens = tuple(_us(o) for o, _ in opens_closes)
    day_closes = tuple(_us(c) for _, c in opens_closes)
    base = lo - lo % DAY
    zone_name = model.timezone or timezone
    table = CalendarTable(name, zone_name, first_year, last_year, lo, hi, base, DAY,
                          tuple(starts),
                          tuple(ends), tuple(cums), day_opens, day_closes, (), (), 0, 0, 0)
    days, pieces, opens = _days(table)
    due, width, candidates = _due(table)
    return CalendarTable(name, zone_name, first_year, last_year, lo, hi, base, width,
                         table.starts,
                         table.ends, table.cums, day_opens, day_closes, days, due, pieces,
                         opens, candidates)


def _days(t: CalendarTable) -> tuple[tuple[tuple[int, ...], ...], int, int]:
    rows: list[tuple[int, list[tuple[int, int]], int, list[int]]] = []
    count = (t.hi - t.base) // DAY + 2  # the day holding `hi` too: a stop may fall on it
    for key in range(count):
        start, end = t.base + key * DAY, t.base + (key + 1) * DAY
        first = max(bisect_right(t.starts, start) - 1, 0)
        last = bisect_left(t.starts, end)
        parts = [(max(s, start), min(e, end)) for s, e in
                 zip(t.starts[first:last], t.ends[first:last], strict=True)
                 if max(s, start) < min(e, end)]
        o_first, o_last = bisect_left(t.day_opens, start), bisect_left(t.day_opens, end)
        rows.append((key, parts, o_first, list(t.day_opens[o_first:o_last])))
    pieces = max((len(r[1]) for r in rows), default=0) or 1
    opens = max((len(r[3]) for r in rows), default=0) or 1
    out = []
    for key, parts, before_days, day_opens in rows:
        start = t.base + key * DAY
        padded = parts + [(start, start)] * (pieces - len(parts))
        moments = day_opens + [start + DAY] * (opens - len(day_opens))
        out.append((key, t.before(start), *[x for p in padded for x in p], before_days,
                    *moments))
    return tuple(out), pieces, opens


def _due(t: CalendarTable) -> tuple[tuple[tuple[int, ...], ...], int, int]:
    width = DAY
    while True:
        buckets: list[list[tuple[int, int, int]]] = []
        j = 0
        total = t.total
        for b in range((total - 1) // width + 1 if total else 0):
            low, high = b * width, (b + 1) * width
            while j < len(t.starts) and t.cums[j] + t.ends[j] - t.starts[j] <= low:
                j += 1
            found, k = [], j
            while k < len(t.starts) and t.cums[k] < high:
                found.append((t.cums[k], t.starts[k], t.ends[k] - t.starts[k]))
                k += 1
            buckets.append(found)
        candidates = max((len(b) for b in buckets), default=0) or 1
        if candidates <= _MAX_CANDIDATES or width <= 3600 * SECOND:
            break
        width //= 2
    rows = []
    for b, found in enumerate(buckets):
        padded = found + [(0, 0, -1)] * (candidates - len(found))
        rows.append((b, *[x for c in padded for x in c]))
    return tuple(rows), width, candidates


def day_columns(table: CalendarTable) -> list[str]:
    return (["day", "before_us"]
            + [f"{p}{k}" for k in range(1, table.pieces + 1) for p in ("s", "e")]
            + ["bdays_before"] + [f"o{k}" for k in range(1, table.opens + 1)])


def due_columns(table: CalendarTable) -> list[str]:
    return ["bucket"] + [f"{p}{k}" for k in range(1, table.candidates + 1)
                         for p in ("c", "s", "l")]


BDAY_COLUMNS: Final = ["n", "close_us", "close_before_us"]
MIDNIGHT_COLUMNS: Final = ["day", "midnight_us"]


def midnight_range(first_year: int, last_year: int) -> tuple[date, date]:
    """The first and last date of the midnights table for local years `first..last`: a
    year either side, for offsets that move a clock time across New Year."""
    return date(max(first_year - 1, 1), 1, 1), date(min(last_year + 1, 9998), 12, 31)


def midnights(timezone: str, first_year: int, last_year: int) -> list[tuple[date, int]]:
    """Local midnight of each date (as `datetime.combine(d, time(0), tz)` reads it), for dates
    stored as `date` fields and used as clock times."""
    zone = ZoneInfo(timezone)
    day, end = midnight_range(first_year, last_year)
    out = []
    while day <= end:
        out.append((day, _local_midnight(zone, day)))
        day += timedelta(days=1)
    return out
