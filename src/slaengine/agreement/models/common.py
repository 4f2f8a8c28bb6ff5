"""Value types shared by every section: durations, dates, clock intervals, identifiers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)


class StrictModel(BaseModel):
    """Every agreement model: strict types, unknown keys rejected, immutable once loaded."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        serialize_by_alias=True,
        validate_by_alias=True,
        validate_by_name=True,
    )


IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]*$"
FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

# Ids of definitions, scores, stages, service levels, KPIs, dispositions, parties, calendars:
# lower snake case, so they read well in YAML, URLs and SQL column names alike.
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
# Lead fields become SQL columns, so they are restricted to what every warehouse accepts unquoted.
FieldName = Annotated[str, StringConstraints(pattern=FIELD_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1)]


# ---------------------------------------------------------------- durations

DURATION_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
BUSINESS_DAY_UNIT = "bd"
_DURATION = re.compile(r"^([0-9]+)(s|m|h|d|w|bd)$")
DURATION_PATTERN = _DURATION.pattern
_UNIT_WORDS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week",
               "bd": "business day"}


@dataclass(frozen=True)
class Duration:
    """An allowance or look-back such as `90m`, `24h`, `30d`, `2w`, or `2bd` (business days)."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text.strip())
        if not match:
            raise ValueError(
                f"`{text}` is not a duration; write a whole number and a unit, "
                "e.g. `90m`, `24h`, `30d`, `2w` or `2bd` (business days)")
        return cls(int(match.group(1)), match.group(2))

    @property
    def is_business_days(self) -> bool:
        return self.unit == BUSINESS_DAY_UNIT

    @property
    def seconds(self) -> int:
        """Length in seconds; business days have no fixed length and raise."""
        if self.is_business_days:
            raise ValueError("a business-day duration has no fixed length in seconds")
        return self.amount * DURATION_UNITS[self.unit]

    def words(self) -> str:
        """`24 hours`, `1 day`, `2 business days`."""
        unit = _UNIT_WORDS[self.unit]
        return f"{self.amount:,} {unit}{'' if self.amount == 1 else 's'}"

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


_T = TypeVar("_T")


def _from_text(kind: type[_T], parse: Callable[[str], _T], what: str) -> Callable[[Any], _T]:
    """A validator for a value written as text (`24h`, `09:00-17:30`) or given as the object."""

    def validate(value: Any) -> _T:
        if isinstance(value, kind):
            return value
        if not isinstance(value, str):
            raise ValueError(f"{what}, got {value!r}")
        return parse(value)

    return validate


DurationText = Annotated[
    Duration,
    PlainValidator(_from_text(Duration, Duration.parse,
                              "a duration must be text such as `24h`")),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN,
                    "description": "a whole number and a unit: s, m, h, d, w, or bd "
                                   "(business days), e.g. `24h`"}),
]


# ---------------------------------------------------------------- dates and times

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"expected a date written as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"`{value}` is not a valid calendar date") from None


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or ("T" not in value.upper() and " " not in value):
        raise ValueError(
            f"expected a date and time such as 2026-11-20T10:00:00+01:00, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"`{value}` is not a valid ISO 8601 date and time") from None


IsoDate = Annotated[
    date,
    PlainValidator(parse_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]
IsoDateTime = Annotated[
    datetime,
    PlainValidator(parse_datetime),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


# ---------------------------------------------------------------- clock intervals

_INTERVAL = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
INTERVAL_PATTERN = _INTERVAL.pattern


@dataclass(frozen=True, order=True)
class Interval:
    """Opening hours within one day, in minutes from midnight: `09:00-12:30`."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = _INTERVAL.match(text.replace(" ", ""))
        if not match:
            raise ValueError(
                f"`{text}` is not an interval; write it as HH:MM-HH:MM, e.g. 09:00-17:30")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start > 24 * 60 or end > 24 * 60:
            raise ValueError(f"`{text}`: the latest time of day is 24:00")
        if end <= start:
            hint = (f"\nhint: write `\"{_clock(end)}-{_clock(start)}\"`: the opening time "
                    "comes first") if end < start else ""
            raise ValueError(f"`{text}`: the interval must end after it starts{hint}")
        return cls(start, end)

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


IntervalText = Annotated[
    Interval,
    PlainValidator(_from_text(Interval, Interval.parse,
                              "an interval must be text such as `09:00-17:30`")),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": INTERVAL_PATTERN,
                    "description": "opening hours as HH:MM-HH:MM"}),
]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _one_or_many(item_schema: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema({"anyOf": [item_schema, {"type": "array", "items": item_schema,
                                                   "minItems": 1}]})


# Written as one value or a list of them; always a list once loaded, so the digest agrees.
FieldNames = Annotated[
    list[FieldName], BeforeValidator(_as_list),
    _one_or_many({"type": "string", "pattern": FIELD_PATTERN}),
]
Intervals = Annotated[
    list[IntervalText], BeforeValidator(_as_list),
    _one_or_many({"type": "string", "pattern": INTERVAL_PATTERN}),
]
