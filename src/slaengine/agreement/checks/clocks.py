"""Service levels and the calendars their clocks run on."""

from __future__ import annotations

import difflib
import itertools
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from functools import cache
from typing import Final

from ..diagnostics import Diagnostic, Location, error, warning
from ..loader import PathKey
from ..models.common import Duration, Interval
from ..models.sections import Calendar
from ..public_holidays import problem
from .base import CheckContext

# A service level's allowance is hours or days; past a century it is a slip of the keyboard
# (`99999999999999999999h`) and every clock would read as out of range.
_MAX_ALLOWANCE_S: Final = 100 * 366 * 86400
_MAX_BUSINESS_DAYS: Final = 100 * 366

# Names zoneinfo resolves that name no place's zone: `localtime` is whatever zone the machine
# running slaengine is set to (the same agreement would give different verdicts on different
# machines); `posixrules` and `Factory` are internals of the tz database.
NOT_ZONES: frozenset[str] = frozenset({"localtime", "posixrules", "Factory"})


@cache
def timezone_names() -> frozenset[str]:
    """The zones of the tz database (`Europe/Amsterdam`, `UTC`, `Etc/GMT+5`), as spelt there.

    Only these are accepted: zoneinfo also opens any file under its search path, so a name in
    another case (`europe/amsterdam`) would resolve on a case-insensitive filesystem only,
    and `localtime` to the machine's own zone.
    """
    return frozenset(zoneinfo.available_timezones()) - NOT_ZONES


@cache
def timezone_exists(name: str) -> bool:
    if name not in timezone_names():
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _timezone(ctx: CheckContext, name: str, path: PathKey) -> Iterator[Diagnostic]:
    if timezone_exists(name):
        return
    if name == "localtime":
        yield error("unknown-timezone", "`localtime` is not a timezone name: it means the zone "
                    "of whichever computer runs slaengine", ctx.at(path),
                    "name the zone, such as `Europe/Amsterdam`, so every computer reads times "
                    "the same way")
    elif name in NOT_ZONES:
        yield error("unknown-timezone", f"`{name}` is not a timezone name: it names no "
                    "place's zone", ctx.at(path),
                    "use a region/city name such as `Europe/Amsterdam` or `America/New_York`")
    else:
        yield error("unknown-timezone", f"unknown timezone `{name}`", ctx.at(path),
                    _timezone_hint(name))


def _timezone_hint(name: str) -> str:
    zones = sorted(timezone_names())
    wanted = name.strip().lower().replace(" ", "_")
    same = [z for z in zones if z.lower() == wanted]
    if same:
        return f"write `{same[0]}`: capitals matter in timezone names"
    city = [z for z in zones if z.lower().endswith("/" + wanted)]
    close = city or difflib.get_close_matches(name, zones, n=1, cutoff=0.8)
    if close:
        return f"write `{close[0]}`"
    return "use a region/city name such as `Europe/Amsterdam` or `America/New_York`"


def overlapping(intervals: list[Interval]) -> Iterator[tuple[Interval, Interval]]:
    """Each pair of neighbouring opening intervals of one day that overlap."""
    return ((a, b) for a, b in itertools.pairwise(sorted(intervals)) if b.start < a.end)


def check_calendars(ctx: CheckContext) -> Iterator[Diagnostic]:
    yield from _timezone(ctx, ctx.spec.timezone, ("timezone",))
    for name, calendar in ctx.spec.calendars.items():
        base = ("calendars", name)
        if calendar.timezone is not None:
            yield from _timezone(ctx, calendar.timezone, (*base, "timezone"))
        if not any(calendar.hours.values()):
            yield error("calendar-no-hours", f"calendar `{name}` is never open",
                        ctx.at((*base, "hours")),
                        'give at least one weekday opening hours, e.g. `mon: "09:00-17:00"`')
        for day, intervals in calendar.hours.items():
            for a, b in overlapping(intervals):
                yield error("overlapping-hours", f"opening hours `{a}` and `{b}` on {day} overlap",
                            ctx.at((*base, "hours", day)), "merge them into one interval")
        public = calendar.public_holidays
        if public is not None:
            found = problem(public.country, public.subdivision)
            if found is not None:
                code, message, hint = found
                key = "country" if code == "unknown-country" else "subdivision"
                yield error(code, message, ctx.at((*base, "public_holidays", key)), hint)
        seen: set[str] = set()
        for i, holiday in enumerate(calendar.holidays):
            text = holiday.date.isoformat()
            if text in seen:
                yield warning("duplicate-holiday", f"holiday {text} is listed twice",
                              ctx.at((*base, "holidays", i)))
            seen.add(text)
            for a, b in overlapping(holiday.open):
                yield error("overlapping-hours", f"opening hours `{a}` and `{b}` on {text} overlap",
                            ctx.at((*base, "holidays", i, "open")))


def check_service_levels(ctx: CheckContext) -> Iterator[Diagnostic]:
    spec = ctx.spec
    for name, level in spec.service_levels.items():
        base = ("service_levels", name)
        yield from ctx.party_ref(level.owner, (*base, "owner"))
        yield from ctx.timestamp_ref(level.start, (*base, "start"), "clock start")
        for i, stop in enumerate(level.stop):
            path = (*base, "stop", i) if len(level.stop) > 1 else (*base, "stop")
            yield from ctx.timestamp_ref(stop, path, "clock stop")
            if stop == level.start:
                yield error("clock-stops-at-start", f"`{stop}` both starts and stops the clock",
                            ctx.at(path), "the clock stops on the field that records the reply")
        within_at = ctx.at((*base, "within"))
        if level.within.amount == 0:
            yield error("empty-allowance", f"`within: {level.within}` allows no time at all",
                        within_at, "give the time the owner has to act, e.g. `24h` or `3bd`")
        elif (level.within.amount > _MAX_BUSINESS_DAYS if level.within.is_business_days
              else level.within.seconds > _MAX_ALLOWANCE_S):
            yield error("allowance-too-long",
                        f"`within: {level.within}` is more than a century: no clock could fall "
                        "due within the years the business calendars cover (1900 to 2200)",
                        within_at, "give the time the owner has to act, e.g. `24h` or `3bd`")
        if level.calendar is None:
            if level.within.is_business_days:
                yield error("business-days-without-calendar",
                            f"`within: {level.within}` counts business days but names no calendar",
                            within_at, "add `calendar: business`, or count wall-clock days (`2d`)")
            continue
        if level.calendar not in spec.calendars:
            yield ctx.unknown("calendar", level.calendar, list(spec.calendars),
                              (*base, "calendar"))
        if level.within.unit in ("d", "w"):
            yield _ambiguous_days(level.within, spec.calendars.get(level.calendar), within_at)


def _ambiguous_days(within: Duration, calendar: Calendar | None,
                    at: Location | None) -> Diagnostic:
    """`2d` on a business calendar: two business days, or 48 hours of business time?"""
    days = within.amount * (1 if within.unit == "d" else 5)
    lengths = Counter(sum(i.minutes for i in day) for day in (
        calendar.hours.values() if calendar else []) if day)
    # The most common day length; of equally common ones, the shortest.
    minutes = min(lengths, key=lambda m: (-lengths[m], m)) if lengths else 8 * 60
    total = days * minutes
    business = f"{total // 60}h" if total % 60 == 0 else f"{total}m"
    per_day = f"{minutes / 60:g}"
    wall = within.amount * (24 if within.unit == "d" else 168)
    return error("ambiguous-business-days",
                 f"`within: {within}` is ambiguous on a business calendar: {days} business "
                 f"day{'s' if days != 1 else ''}, or {wall} hours of business time?", at,
                 f"write `{days}bd` to be due at the close of the {_ordinal(days)} business day, "
                 f"or `{business}` for {days} business day{'s' if days != 1 else ''} of "
                 f"{per_day} hours")


def _ordinal(n: int) -> str:
    words = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth"]
    return words[n - 1] if 1 <= n <= len(words) else f"{n}th"
