"""Whole phrases for pages and diffs: who a rule applies to, and any setting in words.

`describe` words one condition; this module builds the phrases around it (`every
Marketing-qualified lead`, `leads where lead source is event`) and words structured values
(a calibration, an escalation, a target) so no diff, comment or page shows raw JSON.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from .describe import (
    definition_label,
    describe,
    describe_inline,
    field_label,
    humanize,
    mid_sentence,
    value_text,
    with_article,
)
from .models import AgreementSpec
from .models.common import Duration
from .models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    NotCondition,
    condition_kind,
)

_CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)
# How a setting's name reads before its value, where the name alone would not.
_KEY_WORDS = {"converted": "converted when", "cohort": "counted from", "maturity": "mature after",
              "min_leads": "with at least", "escalate_to": "escalate to", "notify": "notify",
              "gte": "at least", "lte": "at most", "when": "when", "returns_to": "returns to"}
_DURATION = re.compile(r"^[0-9]+(s|m|h|d|w|bd)$")


def _is_a(spec: AgreementSpec, name: str, negated: bool = False) -> str:
    label = definition_label(spec, name)
    if not negated and label.lower().endswith(("lead", "leads")):
        return f"every {label}"
    return f"every lead that is {'not ' if negated else ''}{with_article(label)}"


def _clause(node: Condition, spec: AgreementSpec) -> str:
    if isinstance(node, DefinitionCondition):
        return f"the lead is {with_article(definition_label(spec, node.definition))}"
    if isinstance(node, NotCondition) and isinstance(node.not_, DefinitionCondition):
        return f"the lead is not {with_article(definition_label(spec, node.not_.definition))}"
    if isinstance(node, AllCondition | AnyCondition):
        word = " and " if isinstance(node, AllCondition) else " or "
        parts = [_clause(c, spec) for c in (node.all if isinstance(node, AllCondition)
                                            else node.any)]
        return "(" + word.join(parts) + ")" if len(parts) > 1 else parts[0]
    if isinstance(node, NotCondition):
        return "not " + _clause(node.not_, spec)
    return mid_sentence(describe(node, spec))


def leads_where(node: Condition, spec: AgreementSpec) -> str:
    """Who a rule applies to: `every Marketing-qualified lead`, `leads where source is event`."""
    if isinstance(node, DefinitionCondition):
        return _is_a(spec, node.definition)
    if isinstance(node, NotCondition) and isinstance(node.not_, DefinitionCondition):
        return _is_a(spec, node.not_.definition, negated=True)
    clause = _clause(node, spec)
    if clause.startswith("(") and clause.endswith(")"):
        clause = clause[1:-1]
    return f"leads where {clause}"


def structured_text(value: Any, spec: AgreementSpec | None = None) -> str:
    """Any value of the agreement in words: conditions described, durations spelt out,
    fields by their labels, settings as `name value` pairs; never JSON."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if value is None:
        return "none"
    if isinstance(value, dict):
        if spec is not None and condition_kind(value) is not None:
            try:
                return describe_inline(_CONDITION.validate_python(value, strict=True), spec)
            except ValidationError:
                pass
        return "; ".join(f"{_KEY_WORDS.get(str(k), humanize(str(k)).lower())} {_item(v, spec)}"
                         for k, v in value.items())
    if isinstance(value, list):
        items = [structured_text(v, spec) for v in value]
        return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)
    return _item(value, spec)


def _item(value: Any, spec: AgreementSpec | None) -> str:
    if isinstance(value, str):
        if spec is not None and value in spec.fields:
            return f"“{field_label(spec, value)}”"
        if _DURATION.match(value):
            return Duration.parse(value).words()
        return value
    if isinstance(value, dict | list | BaseModel):
        text = structured_text(value, spec)
        return f"({text})" if isinstance(value, dict) and "; " in text else text
    return value_text(value)
