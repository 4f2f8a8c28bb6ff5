"""Public holidays from the `holidays` library: the closed days of a country and region per year.

`names(country, subdivision, year)` is the one place the library is asked, so the Python clocks,
the SQL calendar tables and the site's calendar page close exactly the same days. `problem()`
words an unknown country or subdivision for the validator, with the closest codes as a hint.
"""

from __future__ import annotations

import difflib
from datetime import date
from functools import cache

import holidays

from .models.sections import Calendar, Holiday


@cache
def _supported() -> dict[str, tuple[str, ...]]:
    return {code: tuple(subs) for code, subs in holidays.list_supported_countries().items()}


@cache
def names(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    """Each public holiday of `year` with its (English) name; several on one day are joined."""
    found = holidays.country_holidays(country, subdiv=subdivision, years=year, language="en_US")
    return {day: found.get(day) or "" for day in sorted(found) if day.year == year}


def problem(country: str, subdivision: str | None) -> tuple[str, str, str] | None:
    """`(code, message, hint)` when the library does not know the country or subdivision."""
    supported = _supported()
    if country not in supported:
        if country.upper() in supported:
            return ("unknown-country", f"country codes are written in capitals, not "
                    f"`{country}`", f"write `{country.upper()}`")
        close = difflib.get_close_matches(country.upper(), list(supported), n=3, cutoff=0.5)
        hint = (f"did you mean {', '.join(f'`{c}`' for c in close)}?" if close else
                "use a two-letter ISO 3166 country code such as `NL`, `DE` or `US`")
        return ("unknown-country", f"the `holidays` library has no public holidays for "
                f"country `{country}`", hint)
    subs = supported[country]
    if subdivision is not None and subdivision not in subs:
        aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {})
        named = {str(k).casefold(): str(v) for k, v in aliases.items()}
        if subdivision.casefold() in named:
            code = named[subdivision.casefold()]
            return ("unknown-subdivision", f"write the subdivision's code, not its name "
                    f"`{subdivision}`", f"write `subdivision: {code}`")
        if not subs:
            return ("unknown-subdivision", f"country `{country}` has no subdivisions",
                    "remove `subdivision`")
        close = difflib.get_close_matches(subdivision.upper(), list(subs), n=3, cutoff=0.3)
        shown = ", ".join(f"`{s}`" for s in (close or subs[:8]))
        return ("unknown-subdivision", f"country `{country}` has no subdivision "
                f"`{subdivision}`", f"use one of {shown}")
    return None


def closed_days(calendar: Calendar, year: int) -> list[tuple[date, str, Holiday | None]]:
    """The days of `year` a calendar treats specially: `(date, name, hand-written entry)`,
    sorted. The hand-written entry (which may open a short day) wins over a public holiday,
    as in the clocks; its name falls back to the public holiday's."""
    public = calendar.public_holidays
    public_names = names(public.country, public.subdivision, year) if public else {}
    listed: dict[date, Holiday] = {h.date: h for h in calendar.holidays if h.date.year == year}
    out = []
    for day in sorted({*public_names, *listed}):
        entry = listed.get(day)
        name = (entry.name if entry is not None and entry.name else public_names.get(day, ""))
        out.append((day, name, entry))
    return out
