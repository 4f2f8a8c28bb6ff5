"""Periods of the KPIs: month, quarter and ISO week keys in the agreement's timezone."""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = ["PeriodRange", "Periods", "parse_period"]

_PERIOD_TEXT = {
    "month": re.compile(r"(\d{4})-(0[1-9]|1[0-2])"),
    "quarter": re.compile(r"(\d{4})-Q([1-4])"),
    "week": re.compile(r"(\d{4})-W(\d{2})"),
}

def _period_start(kind: str, year: int, number: int, tz: tzinfo) -> float:
    """Epoch of the first instant of month, quarter or ISO week `number` of `year`."""
    if kind == "week":
        day = date.fromisocalendar(year, number, 1)
    else:
        day = date(year, number if kind == "month" else 3 * number - 2, 1)
    return datetime.combine(day, time(0), tz).timestamp()


def _periods_of_year(kind: str, year: int) -> range:
    if kind == "month":
        return range(1, 13)
    if kind == "quarter":
        return range(1, 5)
    return range(1, date(year, 12, 28).isocalendar()[1] + 1)  # 28 Dec is in the last week


def _key(kind: str, year: int, number: int) -> str:
    return {"month": f"{year:04d}-{number:02d}", "quarter": f"{year:04d}-Q{number}",
            "week": f"{year:04d}-W{number:02d}"}[kind]


def _local_key(kind: str, local: datetime) -> str:
    """The key of the period a local time falls in."""
    if kind == "week":
        return _key("week", *local.isocalendar()[:2])
    return _key(kind, local.year, local.month if kind == "month" else (local.month + 2) // 3)


@dataclass(frozen=True)
class PeriodRange:
    """One month, quarter or ISO week in the agreement's timezone: `[start, end)`."""

    kind: str
    key: str
    start: datetime
    end: datetime


def _too_far(text: str) -> ValueError:
    return ValueError(f"`{text}` is too far out: a period must begin and end within the years "
                      "1 to 9999, in UTC and in the agreement's timezone; write a period such "
                      "as `2026-10`")


def parse_period(text: str, tz: tzinfo) -> PeriodRange:
    """`2026-10`, `2026-Q4` or `2026-W43` as a range in `tz`; ValueError for anything else."""
    for kind, pattern in _PERIOD_TEXT.items():
        found = pattern.fullmatch(text.strip())
        if found is None:
            continue
        year, number = int(found.group(1)), int(found.group(2))
        if year == 0:
            raise _too_far(text)
        last = len(_periods_of_year(kind, year))
        if kind == "week" and not 1 <= number <= last:
            raise ValueError(f"{year} has no ISO week {number}")
        try:
            start = _period_start(kind, year, number, tz)
            end = (_period_start(kind, year + 1, 1, tz) if number == last
                   else _period_start(kind, year, number + 1, tz))
            return PeriodRange(kind, _key(kind, year, number),
                               datetime.fromtimestamp(start, UTC),
                               datetime.fromtimestamp(end, UTC))
        except (ValueError, OverflowError):  # the calendar holds the years 1 to 9999 only
            raise _too_far(text) from None
    raise ValueError(f"`{text}` is not a period; write a month `2026-10`, a quarter "
                     "`2026-Q4` or an ISO week `2026-W43`")


def _local(epoch: float, tz: tzinfo) -> datetime:
    """Local time of an epoch; at the ends of the datetime range, UTC or the range's end."""
    try:
        return datetime.fromtimestamp(epoch, tz)
    except (OverflowError, ValueError, OSError):
        try:
            return datetime.fromtimestamp(epoch, UTC)
        except (OverflowError, ValueError, OSError):
            return datetime.min if epoch < 0 else datetime.max


def _workable(key: str, tz: tzinfo, maturity: float) -> bool:
    """Whether the period `key` and what is worked out from it (the end of the period before,
    for a trend; its end plus the maturity, for when it matures) are dates."""
    try:
        period = parse_period(key, tz)
        (period.start - timedelta(seconds=1)).astimezone(tz)
        (period.end + timedelta(seconds=maturity)).astimezone(tz)
    except (ValueError, OverflowError):
        return False
    return True


class Periods:
    """The period key of an epoch by binary search over period starts, built a few years at a
    time as timestamps need them (a timezone conversion per lead would cost far more)."""

    def __init__(self, kind: str, tz: tzinfo):
        self.kind, self.tz = kind, tz
        self.years = (0, -1)
        self.starts: list[float] = []
        self.keys: list[str] = []
        self.ends: dict[str, float] = {}
        self.workable: dict[tuple[str, float], bool] = {}  # far-out keys, by maturity

    def key(self, epoch: float) -> str:
        """The key of the period `epoch` falls in; at the very ends of the calendar, where
        the timezone cannot be applied, the key of its UTC (or clamped) time."""
        starts = self.starts
        if not starts or not starts[0] <= epoch < starts[-1]:
            self._cover(epoch)
            starts = self.starts
            if not starts or not starts[0] <= epoch < starts[-1]:
                return _local_key(self.kind, _local(epoch, self.tz))
        return self.keys[bisect_right(starts, epoch) - 1]

    def lead_key(self, epoch: float, maturity: float = 0.0) -> str | None:
        """The key of the period a lead's timestamp falls in, or None when that period cannot
        be worked with: at the ends of the calendar (the years 1 and 9999) the period, its
        bounds, the end of the one before it or its end plus `maturity` seconds is not a date
        in UTC or in the timezone. Such a timestamp is bad data; `key` would clamp it."""
        starts = self.starts
        if not starts or not starts[0] <= epoch < starts[-1]:
            self._cover(epoch)
            starts = self.starts
            if not starts or not starts[0] <= epoch < starts[-1]:
                return self._far_key(epoch, maturity)
        return self.keys[bisect_right(starts, epoch) - 1]

    def _far_key(self, epoch: float, maturity: float) -> str | None:
        try:
            key = _local_key(self.kind, datetime.fromtimestamp(epoch, self.tz))
        except (OverflowError, ValueError, OSError):
            return None
        workable = self.workable.get((key, maturity))
        if workable is None:
            workable = self.workable[(key, maturity)] = _workable(key, self.tz, maturity)
        return key if workable else None

    def end(self, key: str) -> float:
        if key not in self.ends:
            try:
                self.ends[key] = parse_period(key, self.tz).end.timestamp()
            except (ValueError, OverflowError):  # the year 9999 has no end here
                self.ends[key] = math.inf
        return self.ends[key]

    def _cover(self, epoch: float) -> None:
        year = _local(epoch, UTC).year
        if not 1900 <= year <= 2200:  # bad data far out: worked out directly, not tabled
            return
        first, last = self.years
        first, last = (year - 2, year + 2) if first > last else (min(first, year - 2),
                                                                 max(last, year + 2))
        starts, keys = [], []
        for y in range(first, last + 1):
            for n in _periods_of_year(self.kind, y):
                starts.append(_period_start(self.kind, y, n, self.tz))
                keys.append(_key(self.kind, y, n))
        starts.append(_period_start(self.kind, last + 1, 1, self.tz))
        self.starts, self.keys, self.years = starts, keys, (first, last)
        self.ends = {k: starts[i + 1] for i, k in enumerate(keys)}

