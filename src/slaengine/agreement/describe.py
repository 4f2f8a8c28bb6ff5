"""Conditions, values and durations in plain language: the one place that words them.

`explain`, `diff` and the published site all call these, so a rule reads the same
everywhere: `Employee count is between 50 and 5,000`, `Last activity within the
last 30 days`, `Any of: ...`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from .models import AgreementSpec
from .models.common import Duration, Interval
from .models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    ScoreCondition,
    children,
)
from .models.sections import (
    Band,
    Disposition,
    Holiday,
    Person,
    PerValueRule,
    PointsRule,
    ServiceLevel,
    Stage,
    Target,
)
from .regex_words import pattern_text

_MAX_LISTED = 12


def humanize(identifier: str) -> str:
    """`employee_count` → `Employee count`."""
    text = identifier.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def field_label(spec: AgreementSpec, name: str) -> str:
    field = spec.fields.get(name)
    return field.title if field is not None and field.title else humanize(name)


def definition_label(spec: AgreementSpec, name: str) -> str:
    definition = spec.definitions.get(name)
    return definition.title if definition is not None and definition.title else humanize(name)


def score_label(spec: AgreementSpec, name: str) -> str:
    score = spec.scores.get(name)
    return score.title if score is not None and score.title else humanize(name)


def value_text(value: Any) -> str:
    """A value as a person reads it: `5,000`, `0.25`, `yes`, `2026-05-18`, `30 days`."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:g}"
    if isinstance(value, Duration):
        return value.words()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return list_text(value)
    return str(value)


def list_text(values: Iterable[Any], conjunction: str = "or") -> str:
    items = [value_text(v) for v in values]
    if len(items) > _MAX_LISTED:
        hidden = len(items) - _MAX_LISTED
        items = [*items[:_MAX_LISTED], f"{hidden} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


_PHRASES: dict[str, str] = {
    "eq": "{s} is {x}",
    "ne": "{s} is not {x}",
    "gt": "{s} is above {x}",
    "gte": "{s} is at least {x}",
    "lt": "{s} is below {x}",
    "lte": "{s} is at most {x}",
    "in": "{s} is {x}",
    "not_in": "{s} is not {x}",
    "between": "{s} is between {lo} and {hi}",
    "contains": "{s} contains {x}",
    "matches": "{s} matches the pattern {x}",
    "within": "{s} within the last {x}",
    "older_than": "{s} more than {x} ago",
}


def _phrase(subject: str, op: str, value: Any, field_type: str = "number") -> str:
    if op == "exists":
        return f"{subject} is {'recorded' if value else 'not recorded'}"
    if op == "eq" and field_type == "boolean" and isinstance(value, bool):
        return f"{subject}: {'yes' if value else 'no'}"
    if op == "between":
        low, high = value
        return _PHRASES[op].format(s=subject, lo=value_text(low), hi=value_text(high))
    if op in ("in", "not_in"):
        values = list(value)
        if len(values) == 1:
            return _PHRASES["eq" if op == "in" else "ne"].format(s=subject, x=value_text(values[0]))
        word = "one of" if op == "in" else "none of"
        return f"{subject} is {word} {list_text(values, 'and' if op == 'not_in' else 'or')}"
    if op == "matches":
        return f"{subject} {pattern_text(str(value))}"
    if op == "contains":
        return _PHRASES[op].format(s=subject, x=f"“{value_text(value)}”")
    return _PHRASES[op].format(s=subject, x=value_text(value))


def describe(node: Condition, spec: AgreementSpec) -> str:
    """One line for a condition; combinators name how their parts combine."""
    if isinstance(node, FieldCondition):
        field = spec.fields.get(node.field)
        field_type = field.type if field is not None else "string"
        value = node.value
        if node.field == spec.stage_field and node.op in ("eq", "ne", "in", "not_in"):
            # Stage ids read by their titles: `is one of Sales-accepted lead or ...`.
            value = ([_stage_title(spec, v) for v in value] if isinstance(value, list)
                     else _stage_title(spec, value))
        return _phrase(field_label(spec, node.field), node.op, value, field_type)
    if isinstance(node, ScoreCondition):
        return _phrase(score_label(spec, node.score), node.op, node.value)
    if isinstance(node, DefinitionCondition):
        return f"Is {with_article(definition_label(spec, node.definition))}"
    if isinstance(node, AllCondition):
        return "All of:"
    if isinstance(node, AnyCondition):
        return "Any of:"
    if isinstance(node, NotCondition):
        inner = node.not_
        if isinstance(inner, AnyCondition):
            return "None of:"
        if isinstance(inner, AllCondition):
            return "Not all of:"
        if isinstance(inner, NotCondition):
            return "Not:"
        if isinstance(inner, DefinitionCondition):
            return f"Is not {with_article(definition_label(spec, inner.definition))}"
        return "Not: " + _lower_first(describe(inner, spec))
    raise TypeError(f"unknown condition {node!r}")


def shown_children(node: Condition) -> list[Condition]:
    """The conditions listed under a node: `not` over all/any lists that group's members."""
    if isinstance(node, NotCondition) and isinstance(node.not_, AllCondition | AnyCondition):
        return children(node.not_)
    return children(node)


def describe_inline(node: Condition, spec: AgreementSpec) -> str:
    """The whole tree on one line, for diffs and tables."""
    if isinstance(node, AllCondition | AnyCondition):
        word = " and " if isinstance(node, AllCondition) else " or "
        parts = [describe_inline(c, spec) for c in (node.all if isinstance(node, AllCondition)
                                                     else node.any)]
        if len(parts) == 1:
            return parts[0]
        # One sentence: only its first word keeps a capital (`… and is an ICP fit`).
        return "(" + word.join([parts[0], *map(_lower_inner, parts[1:])]) + ")"
    if isinstance(node, NotCondition):
        return "not " + _lower_inner(describe_inline(node.not_, spec))
    return describe(node, spec)


def _lower_inner(text: str) -> str:
    """`_lower_first` past any opening parentheses: `(Industry is …` → `(industry is …`."""
    stripped = text.lstrip("(")
    return text[:len(text) - len(stripped)] + _lower_first(stripped)


def describe_tree(node: Condition, spec: AgreementSpec, depth: int = 0) -> list[tuple[int, str]]:
    """Every node as (depth, text), parents first, as the site and `explain` indent them."""
    lines = [(depth, describe(node, spec))]
    for child in shown_children(node):
        lines.extend(describe_tree(child, spec, depth + 1))
    return lines


def with_article(label: str) -> str:
    """`an integer`, `a date`, `an MQL`: the label with the article it is read with."""
    first = label[:1].lower()
    if label[:3].isupper() or label.split(" ", maxsplit=1)[0].isupper():
        # Acronyms read by their letters: "an MQL", "an SQL", "an ICP fit".
        return ("an " if first in "aefhilmnorsx" else "a ") + label
    return ("an " if first in "aeiou" else "a ") + label


def _lower_first(text: str) -> str:
    head = text.split(" ", 1)[0]
    if head.isupper() and len(head) > 1:
        return text
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------- parts of an agreement, for diffs

_MEASURE_WORDS = ("at least ", "at most ", "above ", "below ", "between ", "one of ", "none of ")


def short_label(identifier: str, title: str | None) -> str:
    """How a list of changes names a definition: `MQL` for `mql` titled "Marketing-qualified
    lead", `ICP fit` for `icp_fit` titled "Ideal customer profile fit"; otherwise its title."""
    if not title:
        return humanize(identifier)
    words = [w for w in re.split(r"[\s\-]+", title) if w]
    out: list[str] = []
    position, acronyms = 0, 0
    for part in identifier.split("_"):
        run = words[position:position + len(part)]
        if position < len(words) and words[position].lower() == part:
            out.append(words[position])
            position += 1
        elif len(run) == len(part) and "".join(w[0] for w in run).lower() == part:
            out.append(part.upper())
            position += len(part)
            acronyms += 1
        else:
            return title
    return " ".join(out) if acronyms and position == len(words) else title


def definition_short_label(spec: AgreementSpec, name: str) -> str:
    definition = spec.definitions.get(name)
    return short_label(name, definition.title if definition is not None else None)


def condition_parts(node: FieldCondition | ScoreCondition, spec: AgreementSpec) -> tuple[str, str]:
    """A field or score test as (subject, predicate): (`Engagement score`, `at least 40`).

    `describe` reads the two together ("Engagement score is at least 40"); a diff puts the
    predicates side by side after the subject: `engagement score at least 40 → at least 50`.
    """
    if isinstance(node, FieldCondition):
        field = spec.fields.get(node.field)
        subject, kind = field_label(spec, node.field), field.type if field else "string"
    else:
        subject, kind = score_label(spec, node.score), "number"
    predicate = _phrase("", node.op, node.value, kind).lstrip(" :")
    if predicate.startswith("is ") and predicate[3:].startswith(_MEASURE_WORDS):
        predicate = predicate[3:]
    return subject, predicate


def allowance_text(within: Duration, on_calendar: bool) -> str:
    """`within 24 business hours` on a business calendar, `within 24 hours` on the wall clock."""
    words = within.words()
    if on_calendar and not within.is_business_days:
        amount, unit = words.split(" ", 1)
        words = f"{amount} business {unit}"
    return f"within {words}"


def percent_text(rate: float) -> str:
    """`0.08` → `8%`, `0.025` → `2.5%`."""
    return f"{round(rate * 100, 4):g}%"


def party_label(spec: AgreementSpec, name: str) -> str:
    party = spec.parties.get(name)
    return party.title if party is not None and party.title else humanize(name)


def calendar_label(spec: AgreementSpec, name: str | None) -> str:
    if name is None:
        return "wall-clock time"
    calendar = spec.calendars.get(name)
    return calendar.title if calendar is not None and calendar.title else humanize(name)


def _stage_title(spec: AgreementSpec, value: Any) -> Any:
    """A recorded stage value by its stage's title; a value no stage has, as written."""
    stage = spec.stage(value) if isinstance(value, str) else None
    return stage.title if stage is not None and stage.title else value


def stage_label(spec: AgreementSpec, stage_id: str) -> str:
    stage = spec.stage(stage_id)
    return stage.title if stage is not None and stage.title else humanize(stage_id)


def stage_named(spec: AgreementSpec, stage_id: str) -> str:
    """A stage as a lead reads it beside the CRM value: ``Sales-accepted lead (`sal`)``."""
    stage = spec.stage(stage_id)
    return f"{stage.title} (`{stage_id}`)" if stage is not None and stage.title else f"`{stage_id}`"


def fields_text(spec: AgreementSpec, names: Iterable[str], conjunction: str = "or") -> str:
    return list_text([f"“{field_label(spec, n)}”" for n in names], conjunction)


def describe_person(person: Person) -> str:
    """`Dana Whitfield (VP Marketing, @dwhitfield)`."""
    extra = [p for p in (person.title, person.handle, person.email) if p]
    return person.name + (f" ({', '.join(extra)})" if extra else "")


def hours_text(intervals: list[Interval] | None) -> str:
    """`09:00-12:30 and 13:30-17:30`, or `closed`."""
    return list_text([str(i) for i in sorted(intervals)], "and") if intervals else "closed"


def describe_holiday(holiday: Holiday) -> str:
    """`2026-12-24 Christmas Eve, open 09:00-13:00`; `2026-12-25 Christmas Day, closed`."""
    name = f" {holiday.name}" if holiday.name else ""
    hours = f"open {hours_text(holiday.open)}" if holiday.open else "closed"
    return f"{holiday.date.isoformat()}{name}, {hours}"


def band_range_text(band: Band) -> str:
    """`40 to below 70`, `below 40`, `70 and above`, `any score`."""
    low, high = band.from_, band.below
    if low is not None and high is not None:
        return f"{value_text(low)} to below {value_text(high)}"
    if high is not None:
        return f"below {value_text(high)}"
    return f"{value_text(low)} and above" if low is not None else "any score"


def describe_band(band: Band) -> str:
    """`warm: 40 to below 70, expected to convert at 8%`."""
    text = f"{band.label}: {band_range_text(band)}"
    if band.expected_conversion is not None:
        text += f", expected to convert at {percent_text(band.expected_conversion)}"
    return text


def points_text(points: float) -> str:
    return f"{value_text(points)} point{'' if points in (1, -1) else 's'}"


def describe_rule(rule: PointsRule | PerValueRule, spec: AgreementSpec) -> str:
    """`30 points when demo requested: yes`; `5 points × pricing page visits, at most 15`."""
    if isinstance(rule, PointsRule):
        return f"{points_text(rule.points)} when {_lower_first(describe_inline(rule.when, spec))}"
    text = (f"{points_text(rule.points_each)} × "
            f"{_lower_first(field_label(spec, rule.field))}")
    if rule.min is not None:
        text += f", at least {value_text(rule.min)}"
    if rule.max is not None:
        text += f", at most {value_text(rule.max)}"
    return text


def describe_stage(stage: Stage, spec: AgreementSpec) -> str:
    """`owned by Marketing, entered at “Became an MQL”, requires an MQL`."""
    parts = [f"owned by {party_label(spec, stage.owner)}" if stage.owner else "no owner"]
    if stage.entered_at:
        parts.append(f"entered at “{field_label(spec, stage.entered_at)}”")
    if stage.requires:
        parts.append(f"requires {with_article(definition_short_label(spec, stage.requires))}")
    if stage.requires_disposition:
        parts.append("requires a disposition code")
    if stage.terminal:
        parts.append("terminal")
    return ", ".join(parts)


def describe_service_level(level: ServiceLevel, spec: AgreementSpec) -> str:
    """The commitment in one line: who, how fast, from when to when, on which calendar."""
    text = (f"{party_label(spec, level.owner)}, "
            f"{allowance_text(level.within, level.calendar is not None)} from "
            f"“{field_label(spec, level.start)}” to {fields_text(spec, level.stop)}")
    if level.calendar is not None:
        text += f" ({calendar_label(spec, level.calendar)})"
    applies = level.applies_when
    if isinstance(applies, DefinitionCondition):  # not `for leads where is an MQL`
        label = with_article(definition_label(spec, applies.definition))
        text += f", for every lead that is {label}"
    elif applies is not None:
        text += f", for leads where {_lower_first(describe_inline(applies, spec))}"
    if level.warn_at is not None:
        text += f", at risk from {percent_text(level.warn_at)} of the allowance"
    if level.on_breach is not None:
        text += f", escalates to {level.on_breach.escalate_to}"
    return text


def target_text(target: Target | None, unit: str | None = None) -> str:
    """`at least 25%` (a `%` KPI's value is a rate), `at most 60 days`, `none`."""
    if target is None:
        return "none"

    def amount(value: float) -> str:
        if unit == "%":
            return percent_text(value)
        return value_text(value) + (f" {unit}" if unit else "")

    parts = ([f"at least {amount(target.gte)}"] if target.gte is not None else []) + (
        [f"at most {amount(target.lte)}"] if target.lte is not None else [])
    return " and ".join(parts)


def describe_disposition(disposition: Disposition, spec: AgreementSpec) -> str:
    """`returns to Nurture`, `returns to Disqualified, covered by the lead guarantee`."""
    text = f"returns to {stage_label(spec, disposition.returns_to)}"
    return text + (", covered by the lead guarantee" if disposition.lead_guarantee else "")


# ---------------------------------------------------------------- KPIs

_DURATION_UNIT_WORDS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PERIOD_WORDS = {"week": "ISO week", "month": "month", "quarter": "quarter"}


def ordinal(number: float) -> str:
    """`1st`, `2nd`, `90th`, `99.5th`."""
    if not float(number).is_integer():
        return f"{number:g}th"
    whole = int(number)
    suffix = "th" if 10 <= whole % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(whole % 10, "th")
    return f"{whole}{suffix}"


def _duration_text(spec: AgreementSpec, measure: Any) -> str:
    unit = _DURATION_UNIT_WORDS[measure.unit]
    text = (f"the time from “{field_label(spec, measure.from_)}” to "
            f"“{field_label(spec, measure.to)}”")
    if measure.calendar is None:
        return f"{text}, in {unit} (wall-clock)"
    calendar = spec.calendars.get(measure.calendar)
    name = calendar.title if calendar is not None and calendar.title else measure.calendar
    business = "" if measure.unit in ("m", "h") else (
        f", a {unit[:-1]} being {'24' if measure.unit == 'd' else '168'} business hours")
    return f"{text}, in business {unit} on the {name} calendar{business}"


def kpi_formula(spec: AgreementSpec, kpi: Any) -> str:
    """A KPI's formula in plain words: what is counted, over which leads, dated and grouped how.

    `Leads where became an SQL is recorded, as a share of the leads where became an MQL is
    recorded; by month of “Became an MQL”; a lead counts once 90 days have passed since then`.
    """
    def inline(node: Condition) -> str:
        if isinstance(node, AllCondition | AnyCondition):  # the outer group needs no brackets
            word = " and " if isinstance(node, AllCondition) else " or "
            return word.join(inline(c) for c in children(node))
        return _lower_first(describe_inline(node, spec))

    measure = kpi.measure
    if measure == "count":
        text = "Number of leads" + (f" where {inline(kpi.where)}" if kpi.where is not None
                                    else "")
    elif measure == "ratio":
        text = (f"Leads where {inline(kpi.ratio.numerator)}, as a share of the leads where "
                f"{inline(kpi.ratio.denominator)}")
    elif measure in ("sum", "average", "median"):
        word = {"sum": "Sum", "average": "Average", "median": "Median"}[measure]
        text = f"{word} of {_lower_first(field_label(spec, getattr(kpi, measure)))}"
    elif measure == "percentile":
        p = kpi.percentile
        subject = (_lower_first(field_label(spec, p.field)) if p.field is not None
                   else _duration_text(spec, p.duration))
        text = f"{ordinal(p.p)} percentile of {subject}"
    elif measure == "median_duration":
        text = "Median of " + _duration_text(spec, kpi.median_duration)
    else:  # attainment
        level = spec.service_levels.get(kpi.attainment)
        title = level.title if level is not None else kpi.attainment
        text = f"Share of “{title}” clocks met, of those met or breached"
    parts = [text]
    if kpi.where is not None and measure != "count":
        parts[0] += f", over leads where {inline(kpi.where)}"
    if kpi.cohort is not None:
        cohort = f"“{field_label(spec, kpi.cohort)}”"
        parts.append(f"by {_PERIOD_WORDS[kpi.period]} of {cohort}" if kpi.period is not None
                     else f"leads with {cohort} recorded")
        if kpi.maturity is not None:
            verb = "has" if kpi.maturity.amount == 1 else "have"
            parts.append(f"a lead counts once {kpi.maturity.words()} {verb} passed since then")
    if kpi.group_by is not None:
        parts.append(f"per {_lower_first(field_label(spec, kpi.group_by))}")
    return "; ".join(parts)


def mid_sentence(text: str) -> str:
    """`describe` text placed after other words: `Is an MQL` → `is an MQL` (acronyms keep case)."""
    return _lower_first(text)
