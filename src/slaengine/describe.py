"""Conditions, values and durations in plain language: the one place that words them.

`explain`, `diff` and the published site all call these, so a rule reads the same
everywhere: `Employee count is between 50 and 5,000`, `Last activity within the
last 30 days`, `Any of: ...`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from .models import AgreementSpec
from .models.common import Duration
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
        return _PHRASES[op].format(s=subject, x=f"`{value}`")
    if op == "contains":
        return _PHRASES[op].format(s=subject, x=f"“{value_text(value)}”")
    return _PHRASES[op].format(s=subject, x=value_text(value))


def describe(node: Condition, spec: AgreementSpec) -> str:
    """One line for a condition; combinators name how their parts combine."""
    if isinstance(node, FieldCondition):
        field = spec.fields.get(node.field)
        field_type = field.type if field is not None else "string"
        return _phrase(field_label(spec, node.field), node.op, node.value, field_type)
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
        return "(" + word.join(parts) + ")" if len(parts) > 1 else parts[0]
    if isinstance(node, NotCondition):
        return "not " + _lower_first(describe_inline(node.not_, spec))
    return describe(node, spec)


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
