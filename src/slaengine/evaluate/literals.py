"""Condition values turned, once, into what the evaluator compares against.

Both the generated fast path and the explainer use these, so a date written in
YAML, an `in` list or a regex means exactly the same thing on either path.
"""

from __future__ import annotations

import math
import re
import re._constants as _c  # type: ignore[import-not-found]
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from re import _parser
from typing import Any

import re2  # type: ignore[import-untyped]

from ..agreement.models.common import Duration, parse_date, parse_datetime
from ..agreement.models.conditions import FieldCondition, ScoreCondition
from ..agreement.regex import translate
from .calendars import FIRST_YEAR, LAST_YEAR


def as_instant(value: datetime, tz: tzinfo, *, now: bool = False) -> datetime:
    """An aware UTC datetime; a naive one is read in the agreement's timezone.

    TypeError for anything but a datetime. With `now` (the time a lead is evaluated at), a
    ValueError too when its year, as written, is outside the years the business calendars
    cover: far out, `now - 30d` and the like would not be a date any more.
    """
    if not isinstance(value, datetime):
        what = ("a date" if isinstance(value, date) else "None" if value is None
                else "text (datetime.fromisoformat reads it)" if isinstance(value, str)
                else "a number" if isinstance(value, int | float)
                else f"a {type(value).__name__}")
        raise TypeError(f"`now` must be a date and time (a datetime), not {what}; "
                        "e.g. datetime(2026, 11, 20, 10, 0, tzinfo=UTC)")
    if now and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"`now` must be a time in the years {FIRST_YEAR} to {LAST_YEAR} (the "
                         f"years the business calendars cover), not {value.isoformat()}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _field_literal(field_type: str, value: Any, tz: tzinfo) -> Any:
    if field_type == "datetime" and isinstance(value, str):
        if "T" in value.upper() or " " in value.strip():
            return as_instant(parse_datetime(value), tz)
        day = parse_date(value)
        return as_instant(datetime(day.year, day.month, day.day), tz)
    if field_type == "date" and isinstance(value, str):
        return parse_date(value)
    if field_type == "number" and isinstance(value, int) and not isinstance(value, bool):
        return value  # ints compare exactly with floats
    return value


@dataclass(frozen=True)
class Prepared:
    """A condition's operator with its value in comparable form."""

    op: str
    value: Any  # scalar, (low, high), frozenset, compiled regex, timedelta, or bool (exists)


def window(duration: Duration) -> timedelta:
    return timedelta(seconds=duration.seconds)


def prepare(node: FieldCondition | ScoreCondition, field_type: str, tz: tzinfo) -> Prepared:
    """The comparable value of a field or score test (validation has already vetted it)."""
    op, value = node.op, node.value
    if op in ("within", "older_than"):
        return Prepared(op, window(value))
    if op == "matches":
        return Prepared(op, compile_pattern(value))
    if op == "exists":
        return Prepared(op, bool(value))
    if op in ("in", "not_in"):
        return Prepared(op, frozenset(_field_literal(field_type, v, tz) for v in value))
    if op == "between":
        low, high = (_field_literal(field_type, v, tz) for v in value)
        return Prepared(op, (low, high))
    return Prepared(op, _field_literal(field_type, value, tz))


class Re2Pattern:
    """A `matches` pattern (Python `re`'s meaning) compiled for RE2, as DuckDB runs it: a
    search is linear in the value's length, so no pattern can hang an evaluation.

    `search` answers only whether the text matches (a truthy value or None), through the
    binding's own `Match`, which costs half of `re2`'s `search` wrapper per call."""

    __slots__ = ("_match", "_unanchored", "compiled", "pattern")

    def __init__(self, pattern: str):
        translated = translate(pattern, "re2")
        self.pattern = pattern
        self.compiled = re2.compile("" if translated.matches_everything
                                    else translated.pattern)
        self._match = getattr(getattr(self.compiled, "_regexp", None), "Match", None)
        self._unanchored = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)

    def search(self, text: str) -> bool | None:
        """True when the pattern occurs anywhere in `text`, else None."""
        if self._match is None or self._unanchored is None:  # another binding version
            return True if self.compiled.search(text) is not None else None
        data = text.encode("utf-8", "surrogatepass")
        return True if self._match(self._unanchored, data, 0, len(data))[0][0] >= 0 else None


def plain_text_test(pattern: str) -> tuple[str, tuple[str, ...]] | None:
    """A pattern that is plain text, perhaps anchored (`\\.edu$`, `^Head of`), as the string
    test with the same answer: ("equals", texts), ("startswith", ...), ("endswith", ...) or
    ("contains", (text,)). None for any other pattern, or one with case or line flags.

    A string method costs a fraction of a regex search. Python's `$` also matches before a
    final newline, so `x$` ends with `x` or `x\\n`."""
    try:
        parsed = _parser.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & (re.IGNORECASE | re.MULTILINE):
        return None
    items = list(parsed)
    start = bool(items) and items[0] in ((_c.AT, _c.AT_BEGINNING), (_c.AT, _c.AT_BEGINNING_STRING))
    items = items[1:] if start else items
    end = None
    if items and items[-1][0] is _c.AT and items[-1][1] in (_c.AT_END, _c.AT_END_STRING):
        end = items.pop()[1]
    if not all(op is _c.LITERAL for op, _ in items):
        return None
    text = "".join(chr(code) for _, code in items)
    endings = (text, text + "\n") if end is _c.AT_END else (text,)
    if start and end is not None:
        return "equals", endings
    if start:
        return "startswith", (text,)
    if end is not None:
        return "endswith", endings
    return "contains", (text,)


def compile_pattern(pattern: str) -> Re2Pattern:
    """A `matches` pattern compiled for RE2 (see `Re2Pattern`)."""
    return Re2Pattern(pattern)


INT64_MAX = 2**63 - 1


class ScoreNotANumber(ArithmeticError):
    """A score total that is NaN or infinite: the record gets an error, never `null`."""

    def __init__(self, score: str, total: float):
        super().__init__(score)
        self.score, self.total = score, total


def widen_score(total: float, score: str = "") -> float:
    """A score total beyond 64-bit integers as a float: JSON writers and warehouses hold no
    wider integers. Past the float range, or NaN (`inf - inf`), it is `ScoreNotANumber`."""
    if isinstance(total, int):
        total = float(total) if abs(total) < 2**1023 else math.copysign(math.inf, total)
    if not math.isfinite(total):
        raise ScoreNotANumber(score, total)
    return total


def local_today(now: datetime, tz: tzinfo) -> date:
    """The calendar date in the agreement's timezone, for windows on date fields."""
    return now.astimezone(tz).date()
