"""The sections of an agreement: parties, calendars, fields, definitions, scores, stages,
service levels, KPIs and dispositions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .common import (
    INTERVAL_PATTERN,
    DurationText,
    FieldName,
    FieldNames,
    Identifier,
    Intervals,
    IsoDate,
    StrictModel,
    Text,
)
from .conditions import Condition, Scalar
from .keys import PublicKeyText

# ---------------------------------------------------------------- parties


class Person(StrictModel):
    """Someone named in the agreement."""

    name: Text
    title: str | None = None
    handle: str | None = None
    email: str | None = None
    keys: list[PublicKeyText] = []  # OpenSSH public keys the lead signs approvals with


class Party(StrictModel):
    """A team that signs the agreement (marketing, sales, ...) and the lead who approves for it."""

    title: str | None = None
    description: str | None = None
    lead: Person


class ReviewPolicy(StrictModel):
    """How often both leads review the agreement."""

    every_months: Annotated[int, Field(ge=1, le=24)] = 6


# ---------------------------------------------------------------- calendars

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Holiday(StrictModel):
    """A closed day, or (with `open`) a short day with its own opening hours."""

    date: IsoDate
    name: str | None = None
    open: Intervals = []


_HOLIDAYS_SCHEMA: dict[str, Any] = {"type": "array", "items": {"anyOf": [
    {"type": "string", "format": "date"},
    {"type": "object", "additionalProperties": False, "required": ["date"],
     "description": "a closed day, or with `open` a short day with its own hours",
     "properties": {
         "date": {"type": "string", "format": "date"},
         "name": {"type": "string"},
         "open": {"anyOf": [{"type": "string", "pattern": INTERVAL_PATTERN},
                            {"type": "array", "items": {"type": "string",
                                                        "pattern": INTERVAL_PATTERN}}]}}},
]}}


def _holiday_entries(value: Any) -> Any:
    # A bare date and `{date: ...}` mean the same; keep one form so the digest agrees.
    if isinstance(value, list):
        return [{"date": v} if isinstance(v, str) else v for v in value]
    return value


class PublicHolidays(StrictModel):
    """A country's (and optionally a region's) public holidays, from the `holidays` library."""

    country: Text  # ISO 3166-1 alpha-2, e.g. `NL`
    subdivision: str | None = None  # ISO 3166-2 code as the library names it, e.g. `BY`


class Calendar(StrictModel):
    """Open hours per weekday (a missing weekday is closed) and holidays, in a timezone."""

    title: str | None = None
    timezone: str | None = None  # defaults to the agreement's timezone
    hours: dict[Weekday, Intervals]
    holidays: Annotated[list[Holiday], BeforeValidator(_holiday_entries),
                        WithJsonSchema(_HOLIDAYS_SCHEMA)] = []
    # Closed on each of these; a `holidays:` entry for the same date wins (a short day).
    public_holidays: PublicHolidays | None = None


# ---------------------------------------------------------------- fields

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "list"]


class FieldSpec(StrictModel):
    """One column of the lead data contract."""

    type: FieldType
    title: str | None = None
    description: str | None = None
    key: bool = False
    required: bool = False
    source: str | None = None  # the CRM export column this field is read from
    enum: Annotated[list[Scalar], Field(min_length=1)] | None = None
    pii: bool = False


# ---------------------------------------------------------------- definitions and scores


class Definition(StrictModel):
    """A named qualification (ICP fit, MQL, SQL, ...) and the condition that makes it hold."""

    title: str | None = None
    description: str | None = None
    when: Condition


class PointsRule(StrictModel):
    """`points` when the condition holds (may be negative)."""

    when: Condition
    points: int | float
    label: str | None = None


class PerValueRule(StrictModel):
    """`points_each` times a numeric field's value, capped at `max` (and floored at `min`)."""

    field: FieldName
    points_each: int | float
    max: int | float | None = None
    min: int | float | None = None
    label: str | None = None


def _rule_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "per_value" if "points_each" in value else "points"
    return "per_value" if isinstance(value, PerValueRule) else "points"


ScoreRule = Annotated[
    Annotated[PointsRule, Tag("points")] | Annotated[PerValueRule, Tag("per_value")],
    Discriminator(_rule_kind),
]


class Band(StrictModel):
    """A score range `[from, below)` with the conversion rate the agreement expects from it."""

    label: Identifier
    from_: int | float | None = Field(default=None, alias="from")
    below: int | float | None = None
    expected_conversion: Annotated[float, Field(ge=0, le=1)] | None = None
    description: str | None = None

    @field_validator("expected_conversion", mode="before")
    @classmethod
    def _int_rates(cls, value: Any) -> Any:
        # `0` and `1` are whole numbers in YAML; they are still valid rates.
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Calibration(StrictModel):
    """How to check that each band converts at its `expected_conversion`.

    A lead counts once its `cohort` timestamp is at least `maturity` old; a band is flagged
    when its actual rate of `converted` leads differs from the expected one by more than
    `tolerance` (absolute) and it holds at least `min_leads` leads.
    """

    converted: Condition
    cohort: FieldName | None = None
    maturity: DurationText | None = None
    tolerance: Annotated[float, Field(ge=0, le=1)] = 0.05
    min_leads: Annotated[int, Field(ge=1)] = 30

    @field_validator("tolerance", mode="before")
    @classmethod
    def _int_tolerance(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Score(StrictModel):
    """A points model whose total falls into one of its bands."""

    title: str | None = None
    description: str | None = None
    rules: Annotated[list[ScoreRule], Field(min_length=1)]
    bands: list[Band] = []
    calibration: Calibration | None = None


# ---------------------------------------------------------------- lifecycle


class Stage(StrictModel):
    """One lifecycle stage, in funnel order, with its owner and what a lead needs to be in it."""

    id: Identifier
    title: str | None = None
    description: str | None = None
    owner: Identifier | None = None
    entered_at: FieldName | None = None
    requires: Identifier | None = None
    terminal: bool = False
    requires_disposition: bool = False


# ---------------------------------------------------------------- service levels


class Escalation(StrictModel):
    """Who hears about a breach."""

    escalate_to: Text
    notify: list[Text] = []


class ServiceLevel(StrictModel):
    """A clock from `start` to the earliest `stop`, measured against `within`."""

    title: Text
    description: str | None = None
    owner: Identifier
    start: FieldName
    stop: FieldNames
    within: DurationText
    calendar: Identifier | None = None
    warn_at: Annotated[float, Field(gt=0, lt=1)] | None = None
    applies_when: Condition | None = None
    on_breach: Escalation | None = None


# ---------------------------------------------------------------- KPIs

Period = Literal["week", "month", "quarter"]
DurationUnit = Literal["m", "h", "d", "w"]


class Ratio(StrictModel):
    """Leads meeting `numerator` (and `denominator`) over leads meeting `denominator`."""

    numerator: Condition
    denominator: Condition


class DurationMeasure(StrictModel):
    """The time between two timestamps of a lead, in `unit`, wall-clock or on a calendar."""

    from_: FieldName = Field(alias="from")
    to: FieldName
    unit: DurationUnit = "d"
    calendar: Identifier | None = None


class Percentile(StrictModel):
    """The p-th percentile of a field, or of a duration."""

    # Each type carries the bounds: on the union they would become non-keywords `gt`/`lt`.
    p: Annotated[int, Field(gt=0, lt=100)] | Annotated[float, Field(gt=0, lt=100)]
    field: FieldName | None = None
    duration: DurationMeasure | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> Percentile:
        if (self.field is None) == (self.duration is None):
            raise ValueError("a percentile takes exactly one of `field` or `duration`")
        return self


class Target(StrictModel):
    """The value a KPI must reach: at least `gte`, at most `lte`."""

    gte: int | float | None = None
    lte: int | float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Target:
        if self.gte is None and self.lte is None:
            raise ValueError("a target needs `gte` or `lte`")
        return self


KPI_MEASURES: tuple[str, ...] = (
    "count", "ratio", "sum", "average", "median", "percentile", "median_duration", "attainment",
)


class Kpi(StrictModel):
    """A shared KPI: one measure, optional filters, grouping, cohort period and target."""

    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra={"oneOf": [
        {"required": [m]} for m in KPI_MEASURES]})

    title: Text
    description: str | None = None
    owners: list[Identifier] = []
    # `count: <condition>` is short for `count: true` with that condition under `where:`.
    count: Literal[True] | Condition | None = None
    ratio: Ratio | None = None
    sum: FieldName | None = None
    average: FieldName | None = None
    median: FieldName | None = None
    percentile: Percentile | None = None
    median_duration: DurationMeasure | None = None
    attainment: Identifier | None = None  # share of leads whose service-level clock was met
    where: Condition | None = None
    group_by: FieldName | None = None
    cohort: FieldName | None = None
    period: Period | None = None
    maturity: DurationText | None = None
    target: Target | None = None
    unit: str | None = None  # how the value reads: `%`, `days`, `EUR`

    @model_validator(mode="before")
    @classmethod
    def _count_short_form(cls, data: Any) -> Any:
        """`count: {field: mql_at, exists: true}` → `count: true` + `where:` (both if given)."""
        if isinstance(data, dict) and isinstance(data.get("count"), dict):
            condition, where = data["count"], data.get("where")
            data = {**data, "count": True,
                    "where": condition if where is None else {"all": [where, condition]}}
        return data

    @model_validator(mode="after")
    def _one_measure(self) -> Kpi:
        given = [m for m in KPI_MEASURES if getattr(self, m) is not None]
        if len(given) != 1:
            raise ValueError(
                "a KPI takes exactly one measure (" + ", ".join(KPI_MEASURES) + "); found "
                + (", ".join(given) or "none"))
        return self

    @property
    def measure(self) -> str:
        return next(m for m in KPI_MEASURES if getattr(self, m) is not None)


# ---------------------------------------------------------------- dispositions


class Disposition(StrictModel):
    """Why a lead left sales' hands, and where it goes."""

    title: Text
    description: str | None = None
    returns_to: Identifier
    lead_guarantee: bool = False


# ---------------------------------------------------------------- recycling and the lead guarantee


class RecycleRule(StrictModel):
    """When a lead must go back to marketing (e.g. accepted, then untouched for 30 days)."""

    title: Text
    description: str | None = None
    when: Condition
    returns_to: Identifier  # a stage, usually nurture


class LeadGuarantee(StrictModel):
    """Marketing's promise on what it hands to sales; a lead that breaks it is credited back.

    A lead handed to sales (its `handoff` timestamp is set) earns sales a credit when it does
    not meet the `requires` definition, or when sales rejected it with a disposition marked
    `lead_guarantee`.
    """

    title: Text = "Lead guarantee"
    description: str | None = None
    handoff: FieldName
    requires: Identifier | None = None

