"""Service levels and the calendars their clocks run on."""

from __future__ import annotations

import itertools
import zoneinfo
from collections.abc import Iterator
from functools import cache

from ..diagnostics import Diagnostic, error, warning
from ..loader import PathKey
from ..models.common import Interval
from ..public_holidays import problem
from .base import CheckContext


@cache
def timezone_exists(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _timezone(ctx: CheckContext, name: str, path: PathKey) -> Iterator[Diagnostic]:
    if not timezone_exists(name):
        yield error("unknown-timezone", f"unknown timezone `{name}`", ctx.at(path),
                    "use an IANA name such as `Europe/Amsterdam` or `America/New_York`")


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
                        within_at)
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
            hours = level.within.amount * (24 if level.within.unit == "d" else 168)
            yield error("ambiguous-business-days",
                        f"`within: {level.within}` on a business calendar is ambiguous: "
                        f"{hours} business hours, or {level.within.amount} business "
                        f"day{'s' if level.within.amount != 1 else ''}?", within_at,
                        f"write `{hours}h` for business hours, or `{level.within.amount}bd` to be "
                        "due at the close of that business day")
