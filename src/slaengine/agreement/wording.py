"""Hints for values written by hand: numbers in words, percentages, yes/no, dates, durations.

Each hint says what to write instead, and the value it suggests is itself valid, so applying
the hint literally fixes the mistake.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_SMALL = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}

# Keys that hold a fraction (0.75), which leads often write as a percentage (75%).
FRACTION_KEYS = frozenset({"warn_at", "expected_conversion", "tolerance", "gte", "lte"})
_BOOLEAN_WORDS = {"yes": "true", "y": "true", "on": "true", "no": "false", "n": "false",
                  "off": "false", "true": "true", "false": "false"}
_UNIT_WORDS = {"s": "s", "sec": "s", "second": "s", "m": "m", "min": "m", "minute": "m",
               "h": "h", "hr": "h", "hour": "h", "d": "d", "day": "d", "w": "w",
               "wk": "w", "week": "w", "bd": "bd", "business day": "bd",
               "working day": "bd", "workday": "bd"}
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%B %d, %Y", "%B %d %Y", "%d %B %Y",
                 "%b %d, %Y", "%b %d %Y", "%d %b %Y", "%Y/%m/%d")


def number_in_words(text: str) -> int | None:
    """`forty` → 40, `twenty-five` → 25, `one hundred` → 100; None when it is not one."""
    words = re.split(r"[\s-]+(?:and[\s-]+)?", text.strip().lower())
    if not words or words == [""]:
        return None
    total = current = 0
    for word in words:
        if word in _SMALL:
            current += _SMALL.index(word)
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES and current:
            current *= _SCALES[word]
            if _SCALES[word] >= 1000:
                total, current = total + current, 0
        else:
            return None
    return total + current


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _fmt(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def number_hint(name: str, text: str) -> str:
    """What to write when a number was expected and `text` came instead."""
    stripped = text.strip()
    if stripped.endswith("%") and (pct := _number(stripped[:-1].strip())) is not None:
        if name in FRACTION_KEYS:
            return f"write `{name}: {_fmt(pct / 100)}` for {_fmt(pct)}%, without the % sign"
        return f"write `{name}: {_fmt(pct)}`, without the % sign"
    if (words := number_in_words(stripped)) is not None:
        return f"write `{name}: {words}`, in digits rather than words"
    if (plain := _number(stripped)) is not None:
        return f"write `{name}: {_fmt(plain)}`, without quotes"
    return f"write a number in digits, e.g. `{name}: 40`"


def boolean_hint(name: str, value: Any) -> str:
    """What to write when `true` or `false` was expected."""
    word = _BOOLEAN_WORDS.get(str(value).strip().lower())
    if word:
        return f"write `{name}: {word}`: only `true` and `false` are read as yes or no"
    return f"write `{name}: true` or `{name}: false`"


def list_hint(name: str, value: Any) -> str:
    """What to write when a list was expected and one value (or comma text) came instead."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    else:
        items = [_plain_scalar(value)]
    return f"write the values in square brackets: `{name}: [{', '.join(items)}]`"


def _plain_scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fraction_hint(name: str, value: float) -> str | None:
    """`warn_at: 75` → `0.75`: a whole percentage where a fraction belongs."""
    if 1 < value <= 100:
        return f"write `{name}: {_fmt(value / 100)}` for {_fmt(value)}%"
    return None


def duration_hint(text: str, *, calendar: bool = False) -> str:
    """`8 hours` → `8h`; `1.5d` → `36h`; `24` → `24h`: a duration that is itself valid."""
    stripped = str(text).strip().lower()
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*([a-z ]*?)s?", stripped)
    if match:
        amount, unit_word = float(match.group(1)), match.group(2).strip()
        unit = _UNIT_WORDS.get(unit_word) if unit_word else None
        if unit_word == "":
            return f"add a unit: `{_fmt(amount)}h` for {_fmt(amount)} hours"
        if unit is not None and amount == int(amount):
            return f"write `{int(amount)}{unit}`: a whole number and a one-letter unit"
        if unit is not None and unit != "bd" and (unit != "d" or not calendar):
            hours = amount * _UNIT_SECONDS[unit] / 3600
            if hours == int(hours):
                return f"write `{int(hours)}h`: durations are whole numbers"
            minutes = amount * _UNIT_SECONDS[unit] / 60
            if minutes == int(minutes):
                return f"write `{int(minutes)}m`: durations are whole numbers"
    return ("write a whole number and a unit: `90m`, `24h`, `30d`, `2w`, "
            "or `2bd` for business days")


def date_hint(text: str) -> str:
    """`18-05-2026` → `2026-05-18`; `2026-12-32` → which month has how many days."""
    stripped = str(text).strip()
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(stripped, fmt).date()
        except ValueError:
            continue
        return f"write `{parsed.isoformat()}`: year, month, day"
    iso = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", stripped)
    if iso:
        year, month = int(iso.group(1)), int(iso.group(2))
        if 1 <= month <= 12:
            last = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
            name = date(year, month, 1).strftime("%B")
            return f"{name} {year} has {last} days; write the date as YYYY-MM-DD"
        return "there are 12 months; write the date as YYYY-MM-DD, year first"
    return "write the date as YYYY-MM-DD, e.g. `2026-05-18`"


def identifier_hint(text: str) -> str:
    """`ICP fit` → `icp_fit`."""
    fixed = re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")
    if fixed and fixed[0].isdigit():
        fixed = "n_" + fixed
    return f"write `{fixed or 'a_name'}`: ids are lower case, with `_` between words"


def interval_hint(text: str) -> str:
    """`9.00-17.30` or `9am-5:30pm` → `09:00-17:30`."""
    parts = re.split(r"\s*(?:-|–|to)\s*", str(text).strip().lower())
    clocks = [_clock(p) for p in parts]
    if len(clocks) == 2 and None not in clocks:
        start, end = clocks
        if start is not None and end is not None and start < end:
            return f'write `"{start}-{end}"`: 24-hour clock, opening then closing time'
        if start is not None and end is not None:
            return f'write `"{end}-{start}"`: the opening time comes first'
    return 'write opening hours as `"09:00-17:30"`: 24-hour clock, opening then closing time'


def _clock(text: str) -> str | None:
    match = re.fullmatch(r"([0-9]{1,2})(?:[:.h]([0-9]{2}))?\s*(am|pm)?", text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3) == "pm" and hour < 12:
        hour += 12
    if match.group(3) == "am" and hour == 12:
        hour = 0
    if hour > 24 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


DURATION_KEYS = frozenset({"within", "older_than", "maturity"})
# What leads write for an operator, and the operator they mean.
OPERATOR_WORDS = {
    ">=": "gte", "=>": "gte", ">": "gt", "<=": "lte", "=<": "lte", "<": "lt", "=": "eq",
    "==": "eq", "!=": "ne", "<>": "ne", "at_least": "gte", "min": "gte", "minimum": "gte",
    "at_most": "lte", "max": "lte", "maximum": "lte", "greater_than": "gt", "more_than": "gt",
    "less_than": "lt", "fewer_than": "lt", "equals": "eq", "is": "eq", "not": "ne",
    "one_of": "in", "not_one_of": "not_in", "includes": "contains", "regex": "matches",
    "older": "older_than", "in_last": "within", "range": "between",
}
# Values from other tools for the choices the agreement offers.
SYNONYMS = {
    "int": "integer", "float": "number", "decimal": "number", "numeric": "number",
    "str": "string", "text": "string", "bool": "boolean", "timestamp": "datetime",
    "datetime64": "datetime", "time": "datetime", "days": "d", "day": "d", "hours": "h",
    "hour": "h", "minutes": "m", "weeks": "w", "weekly": "week", "monthly": "month",
    "quarterly": "quarter",
}


def choice_hint(value: Any, options: list[str]) -> str | None:
    text = _plain_scalar(value)
    synonym = SYNONYMS.get(text.strip().lower())
    if synonym in options:
        return f"write `{synonym}`"
    lowered = text.strip().lower()
    if lowered in options:
        return f"write `{lowered}`, in lower case"
    prefixed = [o for o in options if lowered.startswith(o) or (len(lowered) > 2
                                                                and o.startswith(lowered))]
    if len(prefixed) == 1:
        return f"write `{prefixed[0]}`"
    return None


def type_hint(name: str, expected: Any, value: Any) -> str | None:
    kinds = set(expected) if isinstance(expected, list) else {str(expected)}
    if "array" in kinds:
        return list_hint(name, value)
    if kinds & {"number", "integer"} and isinstance(value, str):
        return number_hint(name, value)
    if "boolean" in kinds:
        return boolean_hint(name, value)
    if "string" in kinds and isinstance(value, list) and len(value) == 1:
        return f"write one value, without brackets: `{name}: {_plain_scalar(value[0])}`"
    if "string" in kinds and isinstance(value, list):
        return f"`{name}` takes one value, not a list"
    if "string" in kinds and isinstance(value, int | float) and not isinstance(value, bool):
        if name in DURATION_KEYS:
            return duration_hint(str(value))
        if name == "version":
            parts = ([*str(value).split("."), "0", "0"])[:3]
            return f"write all three parts: `version: {'.'.join(parts)}`"
        return f'quote it: `{name}: "{value}"`'
    if "object" in kinds and name == "target":
        number = value if isinstance(value, int | float) else re.sub(r"[^0-9.]", "", str(value))
        bound = "lte" if isinstance(value, str) and "<" in value else "gte"
        return (f"write `target: {{{bound}: {number or 0.25}}}`: `gte` for at least, "
                "`lte` for at most")
    return None


_MISSING_EXAMPLES = {
    "within": "within: 24h", "owner": "owner: sales", "start": "start: mql_at",
    "stop": "stop: first_touch_at", "title": "title: Sales contacts every MQL",
    "when": "when: {definition: icp_fit}", "escalate_to": "escalate_to: VP Sales",
    "returns_to": "returns_to: nurture", "name": "name: Dana Whitfield",
    "lead": "lead: {name: Dana Whitfield, title: VP Marketing}",
    "hours": 'hours: {mon: "09:00-17:30"}',
}


def missing_hint(key: str, schema: dict[str, Any]) -> str | None:
    prop = schema.get("properties", {}).get(key, {})
    if key == "label":
        return "name the band in lower case, e.g. `label: warm`"
    if key in _MISSING_EXAMPLES:
        return f"add it, e.g. `{_MISSING_EXAMPLES[key]}`"
    if isinstance(prop, dict) and isinstance(prop.get("enum"), list):
        return f"add `{key}:` with one of " + ", ".join(f"`{o}`" for o in prop["enum"])
    return f"add `{key}:`"
