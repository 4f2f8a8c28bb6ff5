"""The business clock against a minute-by-minute walker, hand-computed vectors and properties."""

from __future__ import annotations

import itertools
import math
import random
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.agreement.models.common import Duration, Interval
from slaengine.agreement.models.sections import Calendar
from slaengine.evaluate.calendars import BusinessCalendar

ROOT = Path(__file__).resolve().parents[1]
VECTORS = yaml.safe_load((ROOT / "tests/fixtures/calendars/vectors.yaml").read_text())
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOUR = 3600


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@cache
def example_calendar() -> BusinessCalendar:
    """The agreement's `business` calendar, shared: its table is built once for all tests."""
    spec = slaengine.load_agreement(ROOT / "agreement").spec
    return BusinessCalendar.from_model(spec.calendars["business"], spec.timezone)


# ---------------------------------------------------------------- the independent walker


class Walker:
    """Ground truth by brute force, sharing nothing with the module but the models.

    Steps through `days` days of UTC minutes from `first`; a minute is open when its local
    wall time falls in that local date's hours (a holiday's own hours, or none). With whole-hour
    UTC offsets a local minute is a UTC minute, so open time is a union of whole minutes and
    every answer below is exact to the second. It reads a wall clock, so it has no opinion on
    opening times inside a DST gap or fold: the calendars given to it keep their boundaries
    out of those hours (the vectors pin that choice down instead).
    """

    def __init__(self, calendar: Calendar, first: str, days: int) -> None:
        assert calendar.timezone is not None
        zone = ZoneInfo(calendar.timezone)
        self.holidays = {h.date: h.open for h in calendar.holidays}
        public = calendar.public_holidays
        # Straight from the library, which expands to any year asked (`day in` ...).
        self.public = (holidays.country_holidays(public.country, subdiv=public.subdivision)
                       if public is not None else {})
        self.week = {WEEK.index(day): hours for day, hours in calendar.hours.items()}
        self.t0 = int(datetime.fromisoformat(first + "T00:00:00+00:00").timestamp())
        self.n = days * 1440
        self.open: list[bool] = []
        self.dates: list[date] = []
        self.prefix = [0]  # open minutes before minute k
        for k in range(self.n):
            local = datetime.fromtimestamp(self.t0 + 60 * k, zone)
            assert local.second == 0  # whole-minute offsets only
            minute = local.hour * 60 + local.minute
            is_open = any(i.start <= minute < i.end for i in self.hours(local.date()))
            self.open.append(is_open)
            self.dates.append(local.date())
            self.prefix.append(self.prefix[-1] + is_open)

    def hours(self, day: date) -> list[Interval]:
        if day in self.holidays:
            return self.holidays[day]
        if day in self.public:
            return []
        return self.week.get(day.weekday(), [])

    def opened(self, x: int) -> int:
        """Open seconds from the window's start to `x`."""
        m, rest = divmod(x - self.t0, 60)
        if m == self.n:
            return 60 * self.prefix[m]
        return 60 * self.prefix[m] + (rest if self.open[m] else 0)

    def elapsed(self, a: int, b: int) -> int:
        return max(0, self.opened(b) - self.opened(a))

    def add(self, a: int, seconds: int) -> int | None:
        """The earliest t with elapsed(a, t) == seconds; None when past the window."""
        if seconds == 0:
            return a
        target = self.opened(a) + seconds
        p = bisect_left(self.prefix, math.ceil(target / 60))
        if p > self.n:
            return None
        m = p - 1  # the open minute in which the target is reached
        return self.t0 + 60 * m + (target - 60 * self.prefix[m])

    def next_open(self, a: int) -> int | None:
        m = (a - self.t0) // 60
        if self.open[m]:
            return a
        later = next((k for k in range(m + 1, self.n) if self.open[k]), None)
        return None if later is None else self.t0 + 60 * later

    def add_business_days(self, a: int, days: int) -> int | None:
        """Close of the Nth business day, walking day by day (rule in the module docstring)."""
        opening = self.next_open(a)
        if opening is None:
            return None
        m = (opening - self.t0) // 60
        day = self.dates[m]
        first = (opening == self.t0 + 60 * m and self.dates[0] < day
                 and not any(self.open[k] for k in range(m) if self.dates[k] == day))
        count = 1 if first else 0
        while count < days:
            day += timedelta(days=1)
            count += bool(self.hours(day))
        if day >= self.dates[-1]:
            return None
        last = max(k for k in range(self.n) if self.dates[k] == day and self.open[k])
        return self.t0 + 60 * (last + 1)


AMSTERDAM = Calendar.model_validate({
    "timezone": "Europe/Amsterdam",
    "hours": {"mon": ["08:30-12:00", "13:00-17:30"], "tue": "09:00-17:00",
              "wed": ["09:00-12:30", "13:15-18:00"], "thu": "07:00-19:00", "fri": "09:00-16:00",
              # 24:00 meets Sunday's 00:00; Sunday's first interval spans the DST change.
              "sat": "10:00-24:00", "sun": ["00:00-06:00", "12:00-14:00"]},
    "holidays": [{"date": "2026-03-30"}, {"date": "2026-04-27"},
                 {"date": "2026-10-24", "open": "10:00-12:00"},
                 {"date": "2026-10-26", "open": "13:00-15:00"},
                 {"date": "2026-12-24", "open": "09:00-13:00"},
                 {"date": "2026-12-25"}, {"date": "2026-12-26"}],
})
NEW_YORK = Calendar.model_validate({
    "timezone": "America/New_York",
    "hours": {"mon": "08:00-18:00", "tue": "08:00-18:00", "wed": ["08:00-12:00", "12:30-18:00"],
              "thu": "08:00-18:00", "fri": "08:00-17:00", "sun": ["00:00-04:00", "22:00-24:00"]},
    "holidays": [{"date": "2026-03-09", "open": "10:00-14:00"}, {"date": "2026-11-03"},
                 {"date": "2026-11-26"}, {"date": "2026-11-27", "open": "08:00-13:00"}],
})
# Public holidays of two countries (one with a region), beside a hand-written short day
# that falls on a public holiday (Ascension Day 2026-05-14: the hand-written entry wins).
AMSTERDAM_PUBLIC = Calendar.model_validate({
    "timezone": "Europe/Amsterdam",
    "hours": {"mon": ["09:00-12:30", "13:30-17:30"], "tue": "09:00-17:30",
              "wed": "09:00-17:30", "thu": "09:00-17:30", "fri": "09:00-17:00",
              "sat": "10:00-12:00"},
    "public_holidays": {"country": "NL"},
    "holidays": [{"date": "2026-05-14", "open": "10:00-12:00"}, {"date": "2026-12-24",
                                                                  "open": "09:00-13:00"}],
})
MUNICH_PUBLIC = Calendar.model_validate({
    "timezone": "Europe/Berlin",
    "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "08:00-16:30"),
    "public_holidays": {"country": "DE", "subdivision": "BY"},
})
# Eight days each, with the DST change or the holidays in the middle.
WINDOWS = [
    (AMSTERDAM, "2026-03-25"), (AMSTERDAM, "2026-10-21"), (AMSTERDAM, "2026-12-20"),
    (AMSTERDAM, "2026-04-23"), (NEW_YORK, "2026-03-04"), (NEW_YORK, "2026-10-28"),
    (NEW_YORK, "2026-11-22"),
    # Good Friday, Easter and the DST change; King's Day; Ascension; Christmas to New Year
    (AMSTERDAM_PUBLIC, "2026-03-28"), (AMSTERDAM_PUBLIC, "2026-04-23"),
    (AMSTERDAM_PUBLIC, "2026-05-10"), (AMSTERDAM_PUBLIC, "2026-12-22"),
    # Epiphany; Corpus Christi (Bavaria only); German Unity Day; Christmas to New Year
    (MUNICH_PUBLIC, "2027-01-02"), (MUNICH_PUBLIC, "2026-06-01"),
    (MUNICH_PUBLIC, "2026-09-30"), (MUNICH_PUBLIC, "2026-12-28"),
]


@pytest.fixture(scope="module", params=WINDOWS, ids=lambda w: f"{w[0].timezone}{'-public' if w[0].public_holidays else ''}-{w[1]}")
def window(request: pytest.FixtureRequest) -> tuple[BusinessCalendar, Walker, random.Random]:
    calendar, first = request.param
    # The agreement timezone is deliberately wrong: the calendar's own must win.
    clock = BusinessCalendar.from_model(calendar, "Asia/Tokyo")
    return clock, Walker(calendar, first, 8), random.Random(first)


def instants(walker: Walker, rng: random.Random, lo_day: float, hi_day: float) -> Iterator[int]:
    """Random instants, half of them on whole minutes, in the given days of the window."""
    while True:
        x = walker.t0 + rng.randrange(int(lo_day * 86400), int(hi_day * 86400))
        yield x - x % 60 if rng.random() < 0.5 else x


def test_elapsed_matches_the_walker(window: tuple[BusinessCalendar, Walker, random.Random]) -> None:
    clock, walker, rng = window
    points = instants(walker, rng, 0, 8)
    for _ in range(1500):
        a, b = next(points), next(points)
        assert clock.elapsed(a, b) == walker.elapsed(a, b), (a, b)


def test_add_seconds_matches_the_walker(
        window: tuple[BusinessCalendar, Walker, random.Random]) -> None:
    clock, walker, rng = window
    starts, compared = instants(walker, rng, 1, 5), 0
    for _ in range(1500):
        a = next(starts)
        seconds = rng.choice([60 * rng.randrange(0, 2000), rng.randrange(0, 120_000)])
        expected = walker.add(a, seconds)
        if expected is None:
            continue
        due = clock.add_seconds(a, seconds)
        assert due == expected, (a, seconds)
        assert clock.elapsed(a, due) == seconds
        compared += 1
    assert compared > 750  # the window is long enough that most cases are checked


def test_open_and_next_open_match_the_walker(
        window: tuple[BusinessCalendar, Walker, random.Random]) -> None:
    clock, walker, rng = window
    points = instants(walker, rng, 0, 6)
    for _ in range(500):
        a = next(points)
        assert clock.is_open(a) == walker.open[(a - walker.t0) // 60]
        assert clock.next_open(a) == walker.next_open(a)


def test_business_days_match_a_day_by_day_walk(
        window: tuple[BusinessCalendar, Walker, random.Random]) -> None:
    clock, walker, rng = window
    starts, compared = instants(walker, rng, 1.5, 5), 0
    for _ in range(300):
        a, days = next(starts), rng.randint(1, 3)
        # Arriving exactly at an opening or a closing is the rule's edge: try it often.
        if rng.random() < 0.3:
            a = int(clock.next_open(a))
        expected = walker.add_business_days(a, days)
        if expected is None:
            continue
        assert clock.add_business_days(a, days) == expected, (a, days)
        compared += 1
    assert compared > 100


# ---------------------------------------------------------------- hand-computed vectors


def vector_calendar(name: str) -> BusinessCalendar:
    spec = VECTORS["calendars"][name]
    if spec == "agreement":
        return example_calendar()
    return BusinessCalendar.from_model(Calendar.model_validate(spec), "UTC")


@pytest.mark.parametrize("case", VECTORS["add"], ids=lambda c: c["name"])
def test_due_time_vectors(case: dict[str, Any]) -> None:
    clock = vector_calendar(case["calendar"])
    due = clock.add(datetime.fromisoformat(case["start"]), Duration.parse(case["allowance"]))
    assert due.isoformat() == case["due"]


@pytest.mark.parametrize("case", VECTORS["elapsed"], ids=lambda c: c["name"])
def test_elapsed_vectors(case: dict[str, Any]) -> None:
    clock = vector_calendar(case["calendar"])
    start, end = datetime.fromisoformat(case["start"]), datetime.fromisoformat(case["end"])
    assert clock.elapsed_between(start, end) == case["seconds"]


def test_the_vectors_cover_what_they_must() -> None:
    names = {c["name"] for c in VECTORS["add"]}
    assert {"friday evening 24h", "arrives on a closed holiday", "across the lunch break",
            "spring forward over the weekend", "fall back over the weekend",
            "ends at the evening close", "1bd arriving during the day",
            "1bd arriving friday evening", "1bd arriving before opening",
            "christmas 24h"} <= names


# ---------------------------------------------------------------- properties

ZONES = ["Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
         "Asia/Kolkata", "Pacific/Apia", "UTC"]


@st.composite
def clocks(draw: Any) -> tuple[BusinessCalendar, int, int]:
    """A random calendar (boundaries on half hours, so some fall in DST gaps and folds) and
    the epoch range of the two local years its instants are drawn from."""

    def intervals(min_size: int) -> list[str]:
        cuts = sorted(draw(st.lists(st.integers(0, 48), min_size=min_size, max_size=6,
                                    unique=True)))
        return [f"{a // 2:02d}:{a % 2 * 30:02d}-{b // 2:02d}:{b % 2 * 30:02d}"
                for a, b in zip(cuts[::2], cuts[1::2], strict=False)]

    year = draw(st.integers(1901, 2190))
    hours = {day: intervals(2 if day == "wed" else 0) for day in WEEK}
    holidays = [{"date": (date(year, 1, 1) + timedelta(days=draw(st.integers(0, 730))))
                 .isoformat(), "open": intervals(0)}
                for _ in range(draw(st.integers(0, 8)))]
    model = Calendar.model_validate({"hours": {k: v for k, v in hours.items() if v},
                                     "holidays": holidays})
    clock = BusinessCalendar.from_model(model, draw(st.sampled_from(ZONES)))
    return (clock, int(datetime(year, 1, 2, tzinfo=UTC).timestamp()),
            int(datetime(year + 1, 12, 30, tzinfo=UTC).timestamp()))


PROPERTIES = settings(max_examples=60, deadline=None)


@PROPERTIES
@given(clocks(), st.data())
def test_elapsed_undoes_add_seconds(clock: tuple[BusinessCalendar, int, int],
                                    data: st.DataObject) -> None:
    cal, lo, hi = clock
    start = data.draw(st.integers(lo, hi))
    a, b = sorted(data.draw(st.lists(st.integers(0, 100_000), min_size=2, max_size=2)))
    due_a, due_b = cal.add_seconds(start, a), cal.add_seconds(start, b)
    assert cal.elapsed(start, due_a) == a
    assert cal.elapsed(start, due_b) == b
    assert start <= due_a <= due_b
    if b > 0:  # the earliest such instant: open time is still running just before it
        assert cal.elapsed(start, max(start, due_b - 0.5)) < b
        assert cal.is_open(due_b - 0.5)


@PROPERTIES
@given(clocks(), st.data())
def test_elapsed_is_additive_and_bounded(clock: tuple[BusinessCalendar, int, int],
                                         data: st.DataObject) -> None:
    cal, lo, hi = clock
    a, b, c = sorted(data.draw(st.lists(st.integers(lo, hi), min_size=3, max_size=3)))
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)
    assert 0 <= cal.elapsed(a, b) <= b - a
    assert cal.elapsed(c, a) == 0


@PROPERTIES
@given(clocks(), st.data())
def test_next_open_is_the_next_open_instant(clock: tuple[BusinessCalendar, int, int],
                                            data: st.DataObject) -> None:
    cal, lo, hi = clock
    t = data.draw(st.integers(lo, hi))
    opening = cal.next_open(t)
    assert opening >= t
    assert cal.is_open(opening)
    assert cal.elapsed(t, opening) == 0
    assert (opening == t) == cal.is_open(t)


@PROPERTIES
@given(clocks(), st.data())
def test_business_days_end_at_a_closing_and_grow(clock: tuple[BusinessCalendar, int, int],
                                                  data: st.DataObject) -> None:
    cal, lo, hi = clock
    t = data.draw(st.integers(lo, hi))
    dues = [cal.add_business_days(t, n) for n in range(1, 4)]
    assert t < dues[0] < dues[1] < dues[2]
    assert all(cal.is_open(due - 0.5) for due in dues)


@PROPERTIES
@given(clocks(), st.data())
def test_open_intervals_are_the_table_elapsed_uses(clock: tuple[BusinessCalendar, int, int],
                                                   data: st.DataObject) -> None:
    cal, lo, _ = clock
    first = datetime.fromtimestamp(lo, cal.timezone).date() + timedelta(
        days=data.draw(st.integers(0, 300)))
    last = first + timedelta(days=data.draw(st.integers(0, 40)))
    rows = list(cal.open_intervals(first, last))
    begin = datetime.combine(first, datetime.min.time(), cal.timezone).timestamp()
    finish = datetime.combine(last + timedelta(days=1), datetime.min.time(),
                              cal.timezone).timestamp()
    assert all(begin <= s < e <= finish for s, e, _ in rows)
    assert all(e1 < s2 for (_, e1, _), (s2, _, _) in itertools.pairwise(rows))

    def total(x: float) -> float:  # open seconds from `begin`, read off the rows alone
        done = [c + min(x, e) - s for s, e, c in rows if s <= x]
        return done[-1] if done else 0.0

    a, b = sorted(data.draw(st.lists(st.integers(int(begin), int(finish)), min_size=2,
                                     max_size=2)))
    assert total(b) - total(a) == cal.elapsed(a, b)
    if rows:
        assert rows[0][2] == 0
        assert total(finish) == cal.elapsed(begin, finish)


# ---------------------------------------------------------------- wall clock, time zones


def test_always_open_is_the_wall_clock() -> None:
    wall = BusinessCalendar.always_open()
    start = datetime.fromisoformat("2026-03-28T12:00:00+01:00")
    assert wall.add(start, Duration.parse("24h")) == start + timedelta(hours=24)
    assert wall.add_seconds(100.5, 60) == 160.5
    assert wall.elapsed(100, 50) == 0
    end = datetime.fromisoformat("2026-03-30T12:00:00+02:00")
    assert wall.elapsed_between(start, end) == 47 * HOUR
    assert wall.is_open(0) and wall.next_open(12.25) == 12.25
    assert list(wall.open_intervals(date(1970, 1, 1), date(1970, 1, 2))) == [(0, 2 * 86400, 0)]
    with pytest.raises(ValueError, match="business calendar"):
        wall.add(start, Duration.parse("1bd"))


def test_timezone_defaults_to_the_agreements() -> None:
    model = Calendar.model_validate({"hours": {"mon": "09:00-17:00"}})
    clock = BusinessCalendar.from_model(model, "America/New_York")
    assert clock.timezone == ZoneInfo("America/New_York")
    monday = datetime.fromisoformat("2026-11-16T09:00:00-05:00")
    assert clock.add(monday, Duration.parse("8h")).isoformat() == "2026-11-16T17:00:00-05:00"
    own = model.model_copy(update={"timezone": "Europe/Amsterdam"})
    assert BusinessCalendar.from_model(own, "America/New_York").timezone.key == "Europe/Amsterdam"


def test_add_returns_the_calendars_timezone() -> None:
    clock = example_calendar()
    due = clock.add(datetime.fromisoformat("2026-11-16T09:00:00+00:00"), Duration.parse("1h"))
    assert due.tzinfo == ZoneInfo("Europe/Amsterdam")
    assert due.isoformat() == "2026-11-16T11:00:00+01:00"


def test_the_table_is_built_safely_from_many_threads() -> None:
    # Threads extend one table in a racy order; the answers must not depend on that order.
    shared = BusinessCalendar.from_model(AMSTERDAM, "UTC")
    rng = random.Random(7)
    jobs = [(rng.randrange(600_000_000, 2_800_000_000), rng.randrange(0, 5_000_000))
            for _ in range(400)]
    results: dict[int, tuple[float, float]] = {}

    def run(part: int) -> None:
        for k in range(part, len(jobs), 8):
            start, seconds = jobs[k]
            results[k] = (shared.add_seconds(start, seconds), shared.elapsed(start, start + 9e6))

    threads = [threading.Thread(target=run, args=(p,)) for p in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reference = BusinessCalendar.from_model(AMSTERDAM, "UTC")
    for k, (start, seconds) in sorted(enumerate(jobs), key=lambda job: job[1]):
        assert results[k] == (reference.add_seconds(start, seconds),
                              reference.elapsed(start, start + 9e6))


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("call", [
    lambda c: c.add(datetime(2026, 11, 16, 10), Duration.parse("1h")),
    lambda c: c.elapsed_between(datetime(2026, 11, 16, 10, tzinfo=UTC), datetime(2026, 11, 17)),
])
def test_naive_datetimes_are_refused(call: Callable[[BusinessCalendar], object]) -> None:
    for clock in (example_calendar(), BusinessCalendar.always_open()):
        with pytest.raises(ValueError, match="has no timezone"):
            call(clock)


FAR_PAST = datetime(1899, 12, 31, 23, tzinfo=UTC).timestamp()
FAR_FUTURE = datetime(2201, 1, 1, 1, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("call", [
    lambda c: c.is_open(FAR_PAST), lambda c: c.next_open(FAR_FUTURE),
    lambda c: c.add_seconds(FAR_FUTURE, 60), lambda c: c.add_seconds(FAR_PAST, 0),
    lambda c: c.elapsed(FAR_PAST, 0), lambda c: c.elapsed(0, FAR_FUTURE),
    lambda c: c.add(datetime(1850, 1, 1, tzinfo=UTC), Duration.parse("1h")),
    # Not out of range at the start, but the allowance runs past the end of 2200.
    lambda c: c.add(datetime(2200, 12, 31, 12, tzinfo=UTC), Duration.parse("1000h")),
], ids=["is_open", "next_open", "add", "add zero", "elapsed from", "elapsed to", "add datetime",
        "due after 2200"])
def test_instants_out_of_range_are_refused(call: Callable[[BusinessCalendar], object]) -> None:
    for clock in (example_calendar(), BusinessCalendar.always_open()):
        with pytest.raises(ValueError, match="2200"):
            call(clock)


def test_the_range_edges_are_exact() -> None:
    clock = example_calendar()
    first = datetime(1900, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp()
    assert not clock.is_open(first)  # a Monday, before opening
    assert clock.next_open(first) == first + 9 * HOUR
    with pytest.raises(ValueError):
        clock.is_open(first - 1)
    end = datetime(2201, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp()
    with pytest.raises(ValueError):
        clock.is_open(end)
    assert clock.elapsed(end - 86400 * 7, end) > 0


def test_a_calendar_that_is_never_open_again_says_so() -> None:
    model = Calendar.model_validate({"timezone": "UTC", "hours": {},
                                     "holidays": [{"date": "2199-06-01", "open": "09:00-10:00"}]})
    clock = BusinessCalendar.from_model(model, "UTC")
    june = datetime(2199, 5, 1, tzinfo=UTC).timestamp()
    assert clock.add_seconds(june, 1800) == june + 31 * 86400 + 9.5 * HOUR
    assert clock.add_business_days(june, 1) == june + 31 * 86400 + 10 * HOUR
    with pytest.raises(ValueError, match="not open long enough"):
        clock.next_open(june + 40 * 86400)
    with pytest.raises(ValueError, match="not open long enough"):
        clock.add_business_days(june, 2)


def test_bad_arguments_are_refused() -> None:
    clock = example_calendar()
    with pytest.raises(ValueError, match="negative"):
        clock.add_seconds(0, -1)
    with pytest.raises(ValueError, match="negative"):
        clock.add_business_days(0, -1)
    with pytest.raises(ValueError, match="unknown timezone `Mars/Olympus`"):
        BusinessCalendar.from_model(Calendar.model_validate({"hours": {}}), "Mars/Olympus")
    assert clock.add_seconds(12.5, 0) == 12.5
    assert clock.add_business_days(12.5, 0) == 12.5
