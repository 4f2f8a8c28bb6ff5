"""Hypothesis strategies for valid agreements, and ways to write the same agreement differently.

`agreements()` draws a whole agreement as plain data, exactly as the strict loader would hand
it over (dicts, lists, str, int, float, bool; dates and times stay strings). Every reference
resolves, definitions and scores refer to each other without cycles, bands are contiguous and
every operator fits its field, so the agreement validates without errors (warnings such as
"never approved" are expected: there are no reviews). Free text is often one of
`TRICKY_STRINGS` ("NO", "012345", "12:30", "2026-05-18", "1e5", unicode, `#`, `: `, ...).
The parts are reusable: `Env` + `condition`/`conditions`/`field_test` for condition trees,
`texts`, `numbers`, `date_texts`, `datetime_texts`, `durations` for values.

The other helpers take a `draw` function (from `@st.composite` or `st.data().draw`):
`shuffle_keys`, `respell` (equivalent spellings), `with_defaults`, `split_into_files`,
`render_yaml` and `agreement_files` write the same agreement otherwise; `mutate_meaning`
changes one value of it. `plain_yaml` and `write_files` put data on disk.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from hypothesis import strategies as st

Data = dict[str, Any]
T = TypeVar("T")


class Draw(Protocol):
    """`draw` of `@st.composite`, or `st.data().draw`."""

    def __call__(self, strategy: st.SearchStrategy[T], label: Any = None) -> T: ...


PathKey = tuple[str | int, ...]

# ---------------------------------------------------------------- text

# Values a YAML 1.1 loader would reinterpret, strings that need quoting for other reasons,
# and text that only looks like structure.
TRICKY_STRINGS: tuple[str, ...] = (
    "NO", "no", "No", "yes", "Yes", "on", "off", "y", "n", "Y", "true", "false", "True", "FALSE",
    "null", "Null", "~", "012345", "0o17", "0x1F", "0b101", "1_000", "12:30", "1:30:00",
    "2026-05-18", "2026-05-18T10:00:00Z", "2026-05-18 10:00", "1e5", "1.5e3", "1E5", ".5", "5.",
    "+1", "-0", "0.0", "1.0e+400", ".inf", "-.inf", ".nan", "NaN", "", " ", "  ", " leading",
    "trailing ", " both ", "a # not a comment", "#hash", "key: value", "a:b", "- dash", "-",
    "[x]", "{y: 1}", "'single'", '"double"', "&anchor", "*alias", "!tag", "!!str", "%directive",
    "@handle", "`tick`", "|", ">", "<<", "?", "? q", "---", "...", "\\", "back\\slash",
    "multi\nline", "trailing newline\n", "tab\there", "crlf\r\n", "Ünïcödé ✓", "日本語", "🚀 emoji",
    "\u00a0nbsp", "zero\u200bwidth", "\ufeffbom", "nel\x85", "ls\u2028ps\u2029", "bell\x07",
    "nul\x00", "é" * 120, "a " * 70,
)


@cache
def texts(min_size: int = 0, max_size: int = 24) -> st.SearchStrategy[str]:
    """Any text, often one of the tricky strings."""
    tricky = [s for s in TRICKY_STRINGS if len(s) >= min_size]
    return st.one_of(st.sampled_from(tricky), st.text(min_size=min_size, max_size=max_size))


def _words(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    return st.builds(str.__add__, st.sampled_from(first), st.text(rest, max_size=max_size))


_LOWER, _DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"
# Words YAML 1.1 reads as booleans or null, as ids and field names (i.e. as mapping keys).
YAML_WORDS: tuple[str, ...] = ("no", "yes", "on", "off", "y", "n", "true", "false", "null")

identifiers: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(YAML_WORDS), _words(_LOWER, _LOWER + _DIGITS + "_", 10))
field_names: st.SearchStrategy[str] = st.one_of(
    st.sampled_from((*YAML_WORDS, "NO", "Yes", "True", "NULL", "_", "_x1")),
    _words(_LOWER + _LOWER.upper() + "_", _LOWER + _LOWER.upper() + _DIGITS + "_", 12),
).filter(lambda name: name != "stage")  # `stage` is the default stage field: see `_fields`

TIMEZONES: tuple[str, ...] = (
    "Europe/Amsterdam", "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
    "Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu", "Etc/GMT+5",
)

# ---------------------------------------------------------------- numbers, dates, durations

small_ints = st.integers(-1000, 1000)
# Unbounded integers reach past 64 bits, which JSON encoders do not all accept.
integers: st.SearchStrategy[int] = st.one_of(small_ints, st.integers())
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
numbers: st.SearchStrategy[int | float] = st.one_of(
    small_ints, st.floats(-1000, 1000, allow_nan=False), integers, finite_floats)

date_texts: st.SearchStrategy[str] = st.dates(
    dt.date(1970, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat)
_OFFSETS = ("", "Z", "+00:00", "+01:00", "-05:30", "+13:45")


@cache
def datetime_texts(offset: str | None = None) -> st.SearchStrategy[str]:
    """ISO 8601 dates and times such as `2026-11-20T10:00:00+01:00` (`offset`: always that one)."""
    # avoids known issue: a space instead of `T` (`2026-11-20 10:00:00`, which parse_datetime
    # accepts) is rejected as a datetime literal by checks/operators.py `literal_fits`.
    return st.builds(
        lambda moment, spec, zone: moment.isoformat(timespec=spec) + zone,
        st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2099, 12, 31)),
        st.sampled_from(("seconds", "minutes", "microseconds")),
        st.sampled_from(_OFFSETS) if offset is None else st.just(offset))


@cache
def durations(units: tuple[str, ...] = ("s", "m", "h", "d", "w"),
              most: int = 10_000) -> st.SearchStrategy[str]:
    return st.builds(lambda n, u: f"{n}{u}", st.integers(1, most), st.sampled_from(units))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def interval_list(draw: Draw, max_size: int = 3) -> list[str]:
    """Non-overlapping opening hours `HH:MM-HH:MM` within one day (24:00 allowed as an end)."""
    count = draw(st.integers(1, max_size))
    points = sorted(draw(st.lists(st.integers(0, 24 * 60), min_size=2 * count,
                                  max_size=2 * count, unique=True)))
    intervals = [f"{_clock(points[i])}-{_clock(points[i + 1])}" for i in range(0, len(points), 2)]
    return draw(st.permutations(intervals))


def one_or_list(draw: Draw, items: list[str]) -> str | list[str]:
    """A single value may be written bare or as a one-element list; both mean the same."""
    return items[0] if len(items) == 1 and draw(st.booleans()) else items


def _some(draw: Draw, low: int, high: int) -> range:
    return range(draw(st.integers(low, high)))


def _flag(draw: Draw) -> bool:
    return draw(st.booleans())


# ---------------------------------------------------------------- conditions

FIELD_TYPES: tuple[str, ...] = (
    "string", "integer", "number", "boolean", "date", "datetime", "datetime", "list")
TIMESTAMP_TYPES = frozenset({"date", "datetime"})
NUMERIC_TYPES = frozenset({"integer", "number"})

OPERATORS: dict[str, tuple[str, ...]] = {
    "string": ("eq", "ne", "in", "not_in", "contains", "matches", "exists"),
    "integer": ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between", "exists"),
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between", "exists"),
    "boolean": ("eq", "ne", "exists"),
    "date": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "exists", "within", "older_than"),
    "datetime": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "exists", "within",
                 "older_than"),
    "list": ("contains", "exists"),
}
SCORE_OPERATORS: tuple[str, ...] = (
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between")
REGEXES: tuple[str, ...] = (r"\.edu$", r"^[A-Z]{2}$", r"(?i)gmail|outlook", r"^\d+$", "", ".*")
MAX_DEPTH = 3


@dataclass
class Env:
    """What a condition may refer to: declared fields, and earlier definitions and scores."""

    fields: dict[str, tuple[str, list[Any] | None]]  # name -> (type, enum)
    definitions: list[str] = field(default_factory=list)
    scores: list[str] = field(default_factory=list)

    def of_type(self, *types: str) -> list[str]:
        return sorted(name for name, (kind, _) in self.fields.items() if kind in types)


def _date_key(text: str) -> dt.datetime:
    if "T" in text:
        # What checks/operators.py compares: the wall-clock time, offset dropped.
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    return dt.datetime.fromisoformat(text)


def _scalars_for(draw: Draw, kind: str, enum: list[Any] | None,
                 op: str) -> tuple[st.SearchStrategy[Any], Callable[[Any], Any] | None]:
    """Values that fit a field of `kind`, and how `between` orders them."""
    if enum is not None:
        return st.sampled_from(enum), None
    if kind == "string":
        return texts(), None
    if kind in NUMERIC_TYPES:
        return numbers, None
    if kind == "boolean":
        return st.booleans(), None
    if kind == "date":
        return date_texts, _date_key
    if kind == "datetime":
        # One offset for both ends of `between`, so that their order is unambiguous.
        offset = draw(st.sampled_from(_OFFSETS)) if op == "between" else None
        return st.one_of(datetime_texts(offset), date_texts), _date_key
    return st.one_of(texts(), small_ints), None  # a list field `contains` an item


def field_test(draw: Draw, env: Env) -> Data:
    """`{field: F, OP: V}` with an operator and value that fit F's type (and enum)."""
    name = draw(st.sampled_from(sorted(env.fields)))
    kind, enum = env.fields[name]
    op = draw(st.sampled_from(OPERATORS[kind]))
    value: Any
    if op == "exists":
        value = draw(st.booleans())
    elif op in ("within", "older_than"):
        value = draw(durations())
    elif op == "matches":
        value = draw(st.one_of(st.sampled_from(REGEXES),
                               texts().map(lambda s: "^" + re.escape(s) + "$")))
    else:
        scalar, key = _scalars_for(draw, kind, enum, op)
        if op in ("in", "not_in"):
            value = draw(st.lists(scalar, min_size=1, max_size=4))
        elif op == "between":
            value = sorted([draw(scalar), draw(scalar)], key=key)
        else:
            value = draw(scalar)
    return {"field": name, op: value}


def score_test(draw: Draw, env: Env) -> Data:
    name = draw(st.sampled_from(env.scores))
    op = draw(st.sampled_from(SCORE_OPERATORS))
    value: Any
    if op in ("in", "not_in"):
        value = draw(st.lists(numbers, min_size=1, max_size=4))
    elif op == "between":
        value = sorted([draw(numbers), draw(numbers)])
    else:
        value = draw(numbers)
    return {"score": name, op: value}


def condition(draw: Draw, env: Env, depth: int = 0) -> Data:
    """A condition tree of field tests, score tests and definition references, nested
    in all/any/not up to `MAX_DEPTH` levels, that refers only to what `env` declares."""
    kinds = ["field"]
    if env.scores:
        kinds.append("score")
    if env.definitions:
        kinds.append("definition")
    if depth < MAX_DEPTH:
        kinds += ["all", "any", "not"]
    kind = draw(st.sampled_from(kinds))
    if kind == "field":
        return field_test(draw, env)
    if kind == "score":
        return score_test(draw, env)
    if kind == "definition":
        return {"definition": draw(st.sampled_from(env.definitions))}
    if kind == "not":
        return {"not": condition(draw, env, depth + 1)}
    children = [condition(draw, env, depth + 1) for _ in _some(draw, 1, 3)]
    if kind == "all":  # one test per field or score side by side: two might contradict
        children = _one_test_each(children)
    return {kind: children}


def _one_test_each(children: list[Data]) -> list[Data]:
    """`children` without a second direct test of a field or score already tested."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for child in children:
        subject = next(((k, child[k]) for k in ("field", "score") if k in child), None)
        if subject is not None:
            if subject in seen:
                continue
            seen.add(subject)
        kept.append(child)
    return kept


def conditions(env: Env) -> st.SearchStrategy[Data]:
    """`condition` as a strategy."""
    return st.composite(lambda draw: condition(draw, env))()


# ---------------------------------------------------------------- sections


def _maybe(draw: Draw, target: Data, key: str, make: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        target[key] = draw(make)


def _person(draw: Draw) -> Data:
    person: Data = {"name": draw(texts(min_size=1))}
    for key in ("title", "handle", "email"):
        _maybe(draw, person, key, texts())
    return person


def _parties(draw: Draw) -> Data:
    names = draw(st.one_of(st.just(["marketing", "sales"]),
                           st.lists(identifiers, min_size=1, max_size=3, unique=True)))
    result: Data = {}
    for name in names:
        party: Data = {"lead": _person(draw)}
        _maybe(draw, party, "title", texts())
        _maybe(draw, party, "description", texts())
        result[name] = party
    return result


# Two countries, one with a region: the clocks of both engines close the library's days.
PUBLIC_HOLIDAYS: list[Data] = [{"country": "NL"}, {"country": "DE", "subdivision": "BY"}]


def _calendars(draw: Draw) -> Data:
    result: Data = {}
    for name in draw(st.lists(identifiers, max_size=2, unique=True)):
        days = draw(st.lists(st.sampled_from(("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
                             min_size=1, max_size=7, unique=True))
        calendar: Data = {"hours": {day: one_or_list(draw, interval_list(draw)) for day in days}}
        _maybe(draw, calendar, "title", texts())
        _maybe(draw, calendar, "timezone", st.sampled_from(TIMEZONES))
        holidays: list[Any] = []
        for day in draw(st.lists(date_texts, max_size=4, unique=True)):
            if _flag(draw):
                holidays.append(day)
                continue
            holiday: Data = {"date": day}
            _maybe(draw, holiday, "name", texts())
            if _flag(draw):
                holiday["open"] = one_or_list(draw, interval_list(draw, max_size=2))
            holidays.append(holiday)
        if holidays or _flag(draw):
            calendar["holidays"] = holidays
        _maybe(draw, calendar, "public_holidays", st.sampled_from(PUBLIC_HOLIDAYS).map(dict))
        result[name] = calendar
    return result


def _fields(draw: Draw) -> Data:
    names = draw(st.lists(field_names, min_size=1, max_size=12, unique=True))
    result: Data = {}
    for name in names:
        spec: Data = {"type": draw(st.sampled_from(FIELD_TYPES))}
        if spec["type"] == "string" and _flag(draw):
            spec["enum"] = draw(st.lists(texts(), min_size=1, max_size=5))
        elif spec["type"] == "integer" and draw(st.integers(0, 3)) == 0:
            spec["enum"] = draw(st.lists(small_ints, min_size=1, max_size=5))
        for key in ("title", "description"):
            _maybe(draw, spec, key, texts())
        for key in ("required", "pii"):
            _maybe(draw, spec, key, st.booleans())
        result[name] = spec
    if _flag(draw):
        # The default stage field must be text when it is declared (checks/operators.py).
        result["stage"] = {"type": "string"}
    key_candidates = [n for n, s in result.items() if s["type"] in ("string", "integer")]
    if key_candidates and _flag(draw):
        result[draw(st.sampled_from(key_candidates))]["key"] = True
    # Every export column (`source`, or the field's own name) feeds exactly one field.
    columns = set(result)
    for spec in result.values():
        if draw(st.integers(0, 3)) == 0:
            source = draw(texts())
            if source and source not in columns:
                spec["source"] = source
                columns.add(source)
    return result


def _env_fields(fields: Data) -> dict[str, tuple[str, list[Any] | None]]:
    return {name: (spec["type"], spec.get("enum")) for name, spec in fields.items()}


def _score_rule(draw: Draw, env: Env) -> Data:
    numeric = env.of_type(*NUMERIC_TYPES)
    if numeric and _flag(draw):
        rule: Data = {"field": draw(st.sampled_from(numeric)), "points_each": draw(numbers)}
        low, high = sorted([draw(numbers), draw(numbers)])
        if _flag(draw):
            rule["min"] = low
        if _flag(draw):
            rule["max"] = high
    else:
        rule = {"when": condition(draw, env), "points": draw(numbers)}
    _maybe(draw, rule, "label", texts())
    return rule


def _bands(draw: Draw) -> list[Data]:
    """Contiguous bands from low to high: the first has no `from`, the last no `below`."""
    labels = draw(st.lists(identifiers, min_size=1, max_size=4, unique=True))
    edges = sorted(draw(st.lists(numbers, min_size=len(labels) - 1, max_size=len(labels) - 1,
                                 unique=True)))
    result = []
    for i, label in enumerate(labels):
        band: Data = {"label": label}
        if i > 0:
            band["from"] = edges[i - 1]
        if i < len(edges):
            band["below"] = edges[i]
        _maybe(draw, band, "expected_conversion",
               st.one_of(st.floats(0, 1), st.sampled_from([0, 1])))
        _maybe(draw, band, "description", texts())
        result.append(band)
    return result


def _scores_and_definitions(draw: Draw, fields: Data) -> tuple[Data, Data]:
    """Definitions and scores in a random dependency order: each refers only to earlier ones."""
    definition_names = draw(st.lists(identifiers, max_size=4, unique=True))
    score_names = draw(st.lists(identifiers, max_size=3, unique=True))
    order = draw(st.permutations([("definition", n) for n in definition_names]
                                 + [("score", n) for n in score_names]))
    env = Env(_env_fields(fields))
    definitions: Data = {}
    scores: Data = {}
    for kind, name in order:
        if kind == "definition":
            definition: Data = {"when": condition(draw, env)}
            _maybe(draw, definition, "title", texts())
            _maybe(draw, definition, "description", texts())
            definitions[name] = definition
            env.definitions.append(name)
        else:
            score: Data = {"rules": [_score_rule(draw, env) for _ in _some(draw, 1, 4)]}
            _maybe(draw, score, "title", texts())
            _maybe(draw, score, "description", texts())
            if _flag(draw):
                score["bands"] = _bands(draw)
            scores[name] = score
            env.scores.append(name)
    return dict(sorted(definitions.items())), dict(sorted(scores.items()))


@dataclass
class _Context:
    parties: list[str]
    calendars: list[str]
    env: Env  # every field, definition and score (nothing refers back to later sections)

    @property
    def timestamps(self) -> list[str]:
        return self.env.of_type(*TIMESTAMP_TYPES)


def _stages(draw: Draw, ctx: _Context) -> list[Data]:
    result = []
    for stage_id in draw(st.lists(identifiers, max_size=5, unique=True)):
        stage: Data = {"id": stage_id}
        _maybe(draw, stage, "title", texts())
        _maybe(draw, stage, "description", texts())
        _maybe(draw, stage, "owner", st.sampled_from(ctx.parties))
        if ctx.timestamps:
            _maybe(draw, stage, "entered_at", st.sampled_from(ctx.timestamps))
        if ctx.env.definitions:
            _maybe(draw, stage, "requires", st.sampled_from(ctx.env.definitions))
        _maybe(draw, stage, "terminal", st.booleans())
        _maybe(draw, stage, "requires_disposition", st.booleans())
        result.append(stage)
    return result


def _service_levels(draw: Draw, ctx: _Context) -> Data:
    if len(ctx.timestamps) < 2:
        return {}
    result: Data = {}
    for name in draw(st.lists(identifiers, max_size=3, unique=True)):
        start = draw(st.sampled_from(ctx.timestamps))
        stops = draw(st.lists(st.sampled_from([t for t in ctx.timestamps if t != start]),
                              min_size=1, max_size=3, unique=True))
        level: Data = {"title": draw(texts(min_size=1)), "owner": draw(st.sampled_from(ctx.parties)),
                       "start": start, "stop": one_or_list(draw, stops)}
        if ctx.calendars and _flag(draw):
            # On a business calendar `d` and `w` are ambiguous (an error): hours or business days.
            level["calendar"] = draw(st.sampled_from(ctx.calendars))
            level["within"] = draw(durations(("s", "m", "h", "bd")))
        else:  # 5,000 weeks at most: an allowance over a century is refused
            level["within"] = draw(durations(most=5_000))
        _maybe(draw, level, "description", texts())
        _maybe(draw, level, "warn_at", st.floats(0, 1, exclude_min=True, exclude_max=True))
        if _flag(draw):
            level["applies_when"] = condition(draw, ctx.env)
        if _flag(draw):
            escalation: Data = {"escalate_to": draw(texts(min_size=1))}
            _maybe(draw, escalation, "notify", st.lists(texts(min_size=1), max_size=3))
            level["on_breach"] = escalation
        result[name] = level
    return result


def _duration_measure(draw: Draw, ctx: _Context) -> Data:
    measure: Data = {"from": draw(st.sampled_from(ctx.timestamps)),
                     "to": draw(st.sampled_from(ctx.timestamps))}
    _maybe(draw, measure, "unit", st.sampled_from(("m", "h", "d", "w")))
    if ctx.calendars:
        _maybe(draw, measure, "calendar", st.sampled_from(ctx.calendars))
    return measure


def _kpi_measure(draw: Draw, ctx: _Context, levels: list[str]) -> Data:
    numeric = ctx.env.of_type(*NUMERIC_TYPES)
    measures = ["count", "ratio"]
    if numeric:
        measures += ["sum", "average", "median", "percentile"]
    if ctx.timestamps:
        measures += ["median_duration", "percentile"]
    if levels:
        measures.append("attainment")
    measure = draw(st.sampled_from(measures))
    if measure == "count":
        return {"count": True}
    if measure == "ratio":
        return {"ratio": {"numerator": condition(draw, ctx.env),
                          "denominator": condition(draw, ctx.env)}}
    if measure in ("sum", "average", "median"):
        return {measure: draw(st.sampled_from(numeric))}
    if measure == "percentile":
        percentile: Data = {"p": draw(st.one_of(
            st.integers(1, 99), st.floats(0, 100, exclude_min=True, exclude_max=True)))}
        if numeric and (not ctx.timestamps or _flag(draw)):
            percentile["field"] = draw(st.sampled_from(numeric))
        else:
            percentile["duration"] = _duration_measure(draw, ctx)
        return {"percentile": percentile}
    if measure == "median_duration":
        return {"median_duration": _duration_measure(draw, ctx)}
    return {"attainment": draw(st.sampled_from(levels))}


def _kpis(draw: Draw, ctx: _Context, levels: list[str]) -> Data:
    result: Data = {}
    for name in draw(st.lists(identifiers, max_size=4, unique=True)):
        kpi: Data = {"title": draw(texts(min_size=1)), **_kpi_measure(draw, ctx, levels)}
        _maybe(draw, kpi, "description", texts())
        _maybe(draw, kpi, "owners", st.lists(st.sampled_from(ctx.parties), unique=True))
        if _flag(draw):
            kpi["where"] = condition(draw, ctx.env)
        _maybe(draw, kpi, "group_by", st.sampled_from(sorted(ctx.env.fields)))
        if ctx.timestamps and _flag(draw):
            kpi["cohort"] = draw(st.sampled_from(ctx.timestamps))
            _maybe(draw, kpi, "period", st.sampled_from(("week", "month", "quarter")))
            _maybe(draw, kpi, "maturity", durations())
        if _flag(draw):
            share = "ratio" in kpi or "attainment" in kpi  # a target from 0 to 1
            values = st.floats(0, 1) if share else numbers
            low, high = sorted([draw(values), draw(values)])
            kpi["target"] = draw(st.sampled_from(
                ({"gte": low}, {"lte": high}, {"gte": low, "lte": high})))
        _maybe(draw, kpi, "unit", texts())
        result[name] = kpi
    return result


def _dispositions(draw: Draw, stage_ids: list[str], at_least_one: bool) -> Data:
    if not stage_ids:
        return {}
    result: Data = {}
    for name in draw(st.lists(identifiers, min_size=int(at_least_one), max_size=3, unique=True)):
        disposition: Data = {"title": draw(texts(min_size=1)),
                             "returns_to": draw(st.sampled_from(stage_ids))}
        _maybe(draw, disposition, "description", texts())
        _maybe(draw, disposition, "lead_guarantee", st.booleans())
        result[name] = disposition
    return result


def agreement(draw: Draw) -> Data:
    """A valid agreement as plain data: the five required sections, and any of the others."""
    data: Data = {"agreement": draw(texts(min_size=1)),
                  "version": ".".join(str(draw(st.integers(0, 30))) for _ in range(3))}
    _maybe(draw, data, "effective", date_texts)
    _maybe(draw, data, "description", texts())
    data["timezone"] = draw(st.sampled_from(TIMEZONES))
    data["parties"] = _parties(draw)
    if _flag(draw):
        data["review"] = {"every_months": draw(st.integers(1, 24))}
    calendar_data = _calendars(draw)
    if calendar_data:
        data["calendars"] = calendar_data
    fields = _fields(draw)
    data["fields"] = fields
    definitions, scores = _scores_and_definitions(draw, fields)
    if definitions:
        data["definitions"] = definitions
    if scores:
        data["scores"] = scores
    env = Env(_env_fields(fields), sorted(definitions), sorted(scores))
    ctx = _Context(sorted(data["parties"]), sorted(calendar_data), env)
    text_fields = sorted(n for n, s in fields.items() if s["type"] == "string")
    if text_fields and _flag(draw):
        data["stage_field"] = draw(st.sampled_from(text_fields))
    stage_list = _stages(draw, ctx)
    if stage_list:
        data["stages"] = stage_list
    levels = _service_levels(draw, ctx)
    if levels:
        data["service_levels"] = levels
    kpi_data = _kpis(draw, ctx, sorted(levels))
    if kpi_data:
        data["kpis"] = kpi_data
    needs_disposition = any(s.get("requires_disposition") for s in stage_list)
    disposition_data = _dispositions(draw, [s["id"] for s in stage_list], needs_disposition)
    if disposition_data:
        data["dispositions"] = disposition_data
    return data


def agreements() -> st.SearchStrategy[Data]:
    """Valid agreements as plain data (see `agreement`)."""
    return st.composite(agreement)()


# ---------------------------------------------------------------- the same meaning, written otherwise


def shuffle_keys(value: Any, draw: Draw) -> Any:
    """The same data with every mapping's keys in a random order (lists keep their order)."""
    if isinstance(value, dict):
        keys = draw(st.permutations(list(value)))
        return {k: shuffle_keys(value[k], draw) for k in keys}
    if isinstance(value, list):
        return [shuffle_keys(v, draw) for v in value]
    return value


_DURATION = re.compile(r"^([0-9]+)(s|m|h|d|w|bd)$")
_DURATION_KEYS = frozenset({"within", "older_than", "maturity"})


def _flip_one_or_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    return value


def respell(value: Any, draw: Draw, key: str | int | None = None,
            parent: str | int | None = None) -> Any:
    """Equivalent spellings the format allows: one value or a one-element list (hours, holiday
    hours, clock stops), a bare holiday date or `{date: ...}`, `0`/`1` or `0.0`/`1.0` as a rate,
    leading zeros in a duration's amount."""
    if isinstance(value, dict):
        if parent == "holidays" and set(value) == {"date"} and draw(st.booleans()):
            return value["date"]
        return {k: respell(v, draw, k, key) for k, v in value.items()}
    if isinstance(value, list):
        if key == "holidays":
            return [respell({"date": v} if isinstance(v, str) and draw(st.booleans()) else v,
                            draw, i, key) for i, v in enumerate(value)]
        if key == "stop" or parent == "hours" or key == "open":
            return _flip_one_or_list(value) if draw(st.booleans()) else value
        return [respell(v, draw, i, key) for i, v in enumerate(value)]
    if isinstance(value, str):
        if key == "stop" or parent == "hours" or key == "open":
            return _flip_one_or_list(value) if draw(st.booleans()) else value
        match = _DURATION.match(value)
        if key in _DURATION_KEYS and match and draw(st.booleans()):
            return "0" * draw(st.integers(1, 3)) + value
        return value
    if key == "expected_conversion" and value in (0, 1) and draw(st.booleans()):
        return float(value) if isinstance(value, int) else int(value)
    return value


def with_defaults(data: Data, draw: Draw) -> tuple[Data, list[str]]:
    """The same agreement with some defaults written out; also says which ones."""
    out: Data = dict(data)
    added: list[str] = []

    def add(target: Data, key: str, value: Any, where: str) -> None:
        if key not in target and draw(st.booleans()):
            target[key] = value
            added.append(f"{where}.{key}")

    add(out, "review", {"every_months": 6}, "")
    for section in ("calendars", "definitions", "scores", "stages", "service_levels", "kpis",
                    "dispositions"):
        add(out, section, [] if section == "stages" else {}, "")
    # An explicit `stage_field` must name a declared field (checks/operators.py); the default
    # is only written out when the agreement declares `stage`.
    if "stage" in out["fields"]:
        add(out, "stage_field", "stage", "")
    out["fields"] = {name: dict(spec) for name, spec in out["fields"].items()}
    for name, spec in out["fields"].items():
        for key in ("key", "required", "pii"):
            add(spec, key, False, f"fields.{name}")
    if isinstance(out.get("stages"), list):
        out["stages"] = [dict(s) for s in out["stages"]]
        for stage in out["stages"]:
            for key in ("terminal", "requires_disposition"):
                add(stage, key, False, f"stages.{stage['id']}")
    if isinstance(out.get("dispositions"), dict):
        out["dispositions"] = {n: dict(d) for n, d in out["dispositions"].items()}
        for name, disposition in out["dispositions"].items():
            add(disposition, "lead_guarantee", False, f"dispositions.{name}")
    if isinstance(out.get("scores"), dict):
        out["scores"] = {n: dict(s) for n, s in out["scores"].items()}
        for name, score in out["scores"].items():
            add(score, "bands", [], f"scores.{name}")
    if isinstance(out.get("calendars"), dict):
        out["calendars"] = {n: dict(c) for n, c in out["calendars"].items()}
        for name, calendar in out["calendars"].items():
            if "holidays" not in calendar:
                add(calendar, "holidays", [], f"calendars.{name}")
                continue
            calendar["holidays"] = [dict(h) if isinstance(h, dict) else h
                                    for h in calendar["holidays"]]
            for holiday in calendar["holidays"]:
                if isinstance(holiday, dict):
                    add(holiday, "open", [], f"calendars.{name}.holidays")
    if isinstance(out.get("service_levels"), dict):
        out["service_levels"] = {n: dict(s) for n, s in out["service_levels"].items()}
        for name, level in out["service_levels"].items():
            if "on_breach" in level:
                level["on_breach"] = dict(level["on_breach"])
                add(level["on_breach"], "notify", [], f"service_levels.{name}.on_breach")
    if isinstance(out.get("kpis"), dict):
        out["kpis"] = {n: dict(k) for n, k in out["kpis"].items()}
        for name, kpi in out["kpis"].items():
            add(kpi, "owners", [], f"kpis.{name}")
            if "median_duration" in kpi:
                kpi["median_duration"] = dict(kpi["median_duration"])
                add(kpi["median_duration"], "unit", "d", f"kpis.{name}.median_duration")
            if "duration" in kpi.get("percentile", {}):
                percentile = kpi["percentile"] = dict(kpi["percentile"])
                percentile["duration"] = dict(percentile["duration"])
                add(percentile["duration"], "unit", "d", f"kpis.{name}.percentile.duration")
    return out, added


def split_into_files(data: Data, draw: Draw) -> dict[str, Data]:
    """The top-level sections spread over 1..6 files (`<name>.yaml`), none of them empty."""
    sections = draw(st.permutations(list(data)))
    count = draw(st.integers(1, min(len(sections), 6)))
    names = draw(st.lists(_words(_LOWER + _DIGITS, _LOWER + _DIGITS + "_-", 12),
                          min_size=count, max_size=count, unique=True))
    files: list[Data] = [{} for _ in range(count)]
    for i, section in enumerate(sections):
        files[i if i < count else draw(st.integers(0, count - 1))][section] = data[section]
    return {f"{name}.yaml": content for name, content in zip(names, files, strict=True)}


SCHEMA_LINE = "# yaml-language-server: $schema=../schema/agreement.schema.json"
_STR_STYLES: tuple[str | None, ...] = (None, "'", '"', "|", ">")


def _styled_dumper(choose: Callable[[], str | None]) -> type[yaml.SafeDumper]:
    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        # PyYAML writes NEL (U+0085) raw outside double quotes, where it reads back as a line
        # break (folded into a space): a PyYAML emitter bug, not what this harness tests.
        style = '"' if "\x85" in value else choose()
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


def plain_yaml(data: Any) -> str:
    """The YAML a script would write: `yaml.safe_dump`, PyYAML quoting what it must (and, by
    default, escaping non-ASCII text in double quotes)."""
    text: str = yaml.safe_dump(data, sort_keys=False)
    return text


def render_yaml(data: Any, draw: Draw) -> str:
    """`data` as YAML in a random style: quoting (each string plain, single, double, literal or
    folded; or every scalar double-quoted with explicit tags), block or flow collections,
    indentation, line width, escapes, a document marker, and comments between the lines."""
    options: dict[str, Any] = {
        "sort_keys": False,
        "allow_unicode": draw(st.booleans()),
        "width": draw(st.integers(20, 200)),
        "indent": draw(st.integers(2, 6)),
        "explicit_start": draw(st.booleans()),
    }
    if draw(st.booleans()):
        text: str = yaml.safe_dump(data, default_style='"', **options)
    else:
        rng = draw(st.randoms(use_true_random=False))
        dumper = _styled_dumper(lambda: rng.choice(_STR_STYLES))
        text = yaml.dump(data, Dumper=dumper,
                         default_flow_style=draw(st.sampled_from((False, True, None))), **options)
    if yaml.safe_load(text) != data:
        # A PyYAML emitter bug, not what this harness tests: once the indentation passes the
        # line width, it folds some double-quoted lines into `\\` where it means `\` + line
        # break, and PyYAML itself reads something else back. Write those without folding.
        text = yaml.safe_dump(data, sort_keys=False, width=math.inf)
    return _with_comments(text, draw)


_COMMENT_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Zl", "Zp"))


def _comment(draw: Draw) -> str:
    return "# " + draw(st.one_of(st.sampled_from(TRICKY_STRINGS).filter(
        lambda s: not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]", s)),
        st.text(_COMMENT_CHARS, max_size=30)))


_KEY_LINE = re.compile(r"""^\s*(- )?[^\s#'"{}\[\],&*!|>%@`-][^#'"]*:$""")


def _with_comments(text: str, draw: Draw) -> str:
    """Comment lines and end-of-line comments; kept only where they leave the data as it was
    (checked with PyYAML's untyped BaseLoader, not with the loader under test)."""
    out = [SCHEMA_LINE, _comment(draw)] if draw(st.booleans()) else [SCHEMA_LINE]
    for line in text.splitlines():
        if line and not line[0].isspace() and draw(st.integers(0, 3)) == 0:
            out.append(_comment(draw))
        if _KEY_LINE.match(line) and draw(st.integers(0, 2)) == 0:
            out.append(f"{line}  {_comment(draw)}")
        else:
            out.append(line)
    if draw(st.booleans()):
        out.append(_comment(draw))
    commented = "\n".join(out) + "\n"
    if _untyped(commented) == _untyped(text):
        return commented
    return f"{SCHEMA_LINE}\n{text}"


def _untyped(text: str) -> Any:
    return yaml.load(text, Loader=yaml.BaseLoader)  # builds only str, list and dict


def agreement_files(data: Data, draw: Draw) -> dict[str, str]:
    """The agreement split over several files, each written in its own random style."""
    return {name: render_yaml(shuffle_keys(content, draw), draw)
            for name, content in split_into_files(data, draw).items()}


def write_files(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- changes of meaning

# Keys whose text names something declared elsewhere (or picks from a fixed set): changing it
# alone breaks a reference instead of changing the meaning.
_NAME_KEYS = frozenset({
    "field", "score", "definition", "owner", "owners", "start", "stop", "entered_at", "requires",
    "returns_to", "calendar", "cohort", "group_by", "sum", "average", "median", "attainment",
    "stage_field", "id", "timezone", "type", "period", "label", "from", "to", "unit", "open",
})


def leaves(value: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, Any]]:
    """Every scalar in the data, with its path."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))
    else:
        yield path, value


def _name_key(path: PathKey) -> bool:
    keys = [p for p in path if isinstance(p, str)]
    if not keys:
        return False
    last = keys[-1]
    if last in ("label", "unit") and "bands" not in path and "median_duration" not in path \
            and "duration" not in path:
        return False  # a rule's label and a KPI's unit are free text
    if last == "from" and "bands" in path:
        return False  # a band edge is a number
    if "hours" in path or last == "open":
        return True
    return last in _NAME_KEYS


def get_path(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def set_path(data: Any, path: PathKey, value: Any) -> Any:
    """A copy of `data` with the value at `path` replaced (the original is left alone)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        copy_dict = dict(data)
        copy_dict[head] = set_path(data[head], rest, value)
        return copy_dict
    assert isinstance(head, int)
    copy_list = list(data)
    copy_list[head] = set_path(data[head], rest, value)
    return copy_list


def _other_number(draw: Draw, old: int | float) -> int | float | None:
    if isinstance(old, int):
        return old + draw(st.sampled_from((1, -1, 7)))
    candidates = [old + 1, old - 1, old / 2, -old - 1, old * 2 + 1]
    new = draw(st.sampled_from(candidates))
    return new if math.isfinite(new) and new != old else None


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?$")


def _other_text(draw: Draw, path: PathKey, old: str) -> str:
    last = path[-1] if path else None
    if last == "version":
        major, minor, patch = old.split(".")
        return f"{major}.{minor}.{int(patch) + 1}"
    match = _DURATION.match(old)
    if match and last in _DURATION_KEYS:
        return f"{int(match.group(1)) + 1}{match.group(2)}"
    if _DATE.match(old):
        day = dt.date.fromisoformat(old)
        return (day + dt.timedelta(days=draw(st.sampled_from((1, -1))))).isoformat()
    if _DATETIME.match(old):
        moment = dt.datetime.fromisoformat(old.replace("Z", "+00:00"))
        return (moment + dt.timedelta(minutes=draw(st.sampled_from((1, -1))))).isoformat()
    suffix = draw(texts(min_size=1))
    return draw(st.sampled_from((old + suffix, suffix + old)))


def _band_edges(data: Data) -> list[tuple[str, int]]:
    return [(name, i) for name, score in data.get("scores", {}).items()
            for i in range(len(score.get("bands", [])) - 1)]


_CONDITION_OPERATORS = frozenset(OPERATORS["date"] + OPERATORS["string"] + OPERATORS["integer"])


def _kind_of_leaf(path: PathKey, value: Any) -> str:
    if any(isinstance(p, str) and p in _CONDITION_OPERATORS for p in path[-2:]):
        return "operator value"
    if isinstance(value, bool):
        return "flag"
    if isinstance(value, int | float):
        return "number"
    return "text"


def mutate_meaning(data: Data, draw: Draw) -> tuple[Data, str] | None:
    """A change of one value that changes what the agreement says: an operator's value, a
    number, a flag, a text (titles, dates, durations, versions), or the edge between two bands
    (moved in both). The kind of change is drawn first, so each is tried about as often. The
    result may be invalid (a value no longer in its field's enum, a rate above 1): validate it.
    None when the drawn change is no change (a float too large to move)."""
    by_kind: dict[str, list[tuple[PathKey, Any]]] = {}
    for path, value in leaves(data):
        if not (isinstance(value, str) and _name_key(path)):
            by_kind.setdefault(_kind_of_leaf(path, value), []).append((path, value))
    edges = _band_edges(data)
    kind = draw(st.sampled_from(sorted(by_kind) + (["band edge"] if edges else [])))
    if kind == "band edge":
        name, i = draw(st.sampled_from(edges))
        band_list = data["scores"][name]["bands"]
        old = band_list[i]["below"]
        edge = _edge_between(draw, band_list[i].get("from"), old, band_list[i + 1].get("below"))
        if edge is None:
            return None
        base: PathKey = ("scores", name, "bands")
        mutated = set_path(data, (*base, i, "below"), edge)
        mutated = set_path(mutated, (*base, i + 1, "from"), edge)
        return mutated, f"band edge {name}[{i}]: {old!r} -> {edge!r}"
    # Uniform over the leaves of that kind (sampled_from favours the first ones).
    path, value = draw(st.randoms(use_true_random=False)).choice(by_kind[kind])
    new: Any
    if isinstance(value, bool):
        new = not value
    elif isinstance(value, int | float):
        new = _other_number(draw, value)
        if new is None:
            return None
    else:
        new = _other_text(draw, path, value)
    return set_path(data, path, new), f"{'.'.join(map(str, path))}: {value!r} -> {new!r}"


def _edge_between(draw: Draw, low: float | None, old: float,
                  high: float | None) -> int | float | None:
    """Another edge strictly between the neighbouring edges, so the bands stay contiguous."""
    options: list[int | float] = []
    if isinstance(old, int):
        options += [old - 1, old + 1]
    try:
        options.append(old - 1 if low is None else (low + old) / 2)
        options.append(old + 1 if high is None else (old + high) / 2)
    except OverflowError:  # the mean of integers too large for a float
        pass
    new = draw(st.sampled_from(options))
    fits = (low is None or low < new) and (high is None or new < high)
    return new if fits and new != old and math.isfinite(new) else None
