"""Operators that fit the field they test: no `within` on a number, no `gt` on a boolean."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from .. import wording
from ..describe import with_article
from ..diagnostics import Diagnostic, did_you_mean, error, warning
from ..loader import PathKey
from ..models.common import parse_date, parse_datetime
from ..models.conditions import FieldCondition, ScoreCondition
from ..models.sections import FieldSpec
from ..regex import Unsupported, translate
from .base import CheckContext, condition_nodes

# Which operators make sense for each field type.
_ALLOWED: dict[str, frozenset[str]] = {
    "string": frozenset({"eq", "ne", "in", "not_in", "contains", "matches", "exists"}),
    "integer": frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between",
                          "exists"}),
    "boolean": frozenset({"eq", "ne", "exists"}),
    "date": frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "between", "exists", "within",
                       "older_than"}),
    "list": frozenset({"contains", "exists"}),
}
_ALLOWED["number"] = _ALLOWED["integer"]
_ALLOWED["datetime"] = _ALLOWED["date"]

_SUGGEST: dict[str, str] = {
    "string": "text is tested with eq, ne, in, not_in, contains or matches",
    "integer": "numbers are tested with eq, ne, gt, gte, lt, lte, in, not_in or between",
    "number": "numbers are tested with eq, ne, gt, gte, lt, lte, in, not_in or between",
    "boolean": "a true/false field is tested with `eq: true` or `eq: false`",
    "date": "dates are tested with gt, gte, lt, lte, between, within or older_than",
    "datetime": "dates are tested with gt, gte, lt, lte, between, within or older_than",
    "list": "a list is tested with contains",
}


def literal_fits(spec: FieldSpec, value: Any) -> Any:
    """The value as the field's type would hold it, or raise ValueError when it cannot."""
    kind = spec.type
    if kind in ("string", "list"):
        if isinstance(value, str) or (kind == "list" and isinstance(value, int | float)):
            return value
        raise ValueError("text")
    if kind in ("integer", "number"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise ValueError("a number")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError("true or false")
    if kind == "date":
        return parse_date(value)
    return parse_datetime(value) if isinstance(value, str) and "T" in value else (
        parse_date(value))


def comparable(value: Any) -> Any:
    """A literal as it can be ordered beside another: dates and datetimes as naive datetimes."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


def _field_operator(ctx: CheckContext, node: FieldCondition, path: PathKey,
                    spec: FieldSpec) -> Iterator[Diagnostic]:
    op, value = node.op, node.value
    at = ctx.at((*path, op))
    if op not in _ALLOWED[spec.type]:
        yield error("operator-type-mismatch",
                    f"`{op}` does not apply to `{node.field}`, {with_article(spec.type)} field",
                    ctx.at((*path, op), key=True),
                    _SUGGEST[spec.type])
        return
    if op == "matches":
        try:
            re.compile(value)
        except re.error as exc:
            yield error("invalid-regex", f"`{value}` is not a valid regular expression: {exc}",
                        at, "see Python's `re` syntax; anchor with ^ and $ to match whole values")
            return
        try:
            translate(value, "re2")
        except Unsupported as exc:
            construct = exc.construct.split(" in the pattern")[0].strip("`")
            why = f" ({exc.why})" if "repeats" in exc.why else ""
            yield error("regex-not-linear", f"`{value}` cannot run on RE2, the linear-time "
                        f"regex engine both engines use: it uses {construct}{why}", at,
                        "write it without back references (`\\1`), lookaround (`(?=`, `(?!`, "
                        "`(?<=`, `(?<!`) or atomic groups: test the value with a second "
                        "condition instead, e.g. `not: {field: ..., matches: ...}`")
        return
    if op in ("exists", "within", "older_than"):
        return
    values = list(value) if isinstance(value, list | tuple) else [value]
    converted = []
    for i, item in enumerate(values):
        item_at = ctx.at((*path, op, i)) if isinstance(value, list | tuple) else at
        try:
            converted.append(literal_fits(spec, item))
        except ValueError as exc:
            detail = str(exc) if "`" in str(exc) else f"expected {exc}"
            shown = f'"{item}"' if isinstance(item, str) else item
            kind = with_article(spec.type)
            yield error("value-type-mismatch",
                        f"`{shown}` does not fit `{node.field}`, {kind} field ({detail})", item_at,
                        _literal_hint(spec.type, op, item))
            return
    if spec.enum is not None and op in ("eq", "ne", "in", "not_in", "contains"):
        for i, item in enumerate(values):
            if item not in spec.enum:
                item_at = ctx.at((*path, op, i)) if isinstance(value, list) else at
                yield error("value-not-in-enum",
                            f"`{item}` is not an allowed value of `{node.field}`",
                            item_at, did_you_mean(str(item), [str(e) for e in spec.enum]))
    if op == "between":
        low, high = (comparable(v) for v in converted)
        if low > high:
            yield error("empty-range", f"`between: [{value[0]}, {value[1]}]` can never hold: "
                                       "the low end is above the high end", at,
                        f"write `between: [{value[1]}, {value[0]}]`")


def check_operators(ctx: CheckContext) -> Iterator[Diagnostic]:
    for node, path in condition_nodes(ctx.spec):
        if isinstance(node, FieldCondition):
            spec = ctx.spec.fields.get(node.field)
            if spec is not None:
                yield from _field_operator(ctx, node, path, spec)
        elif isinstance(node, ScoreCondition) and node.op == "between":
            low, high = node.value
            if low > high:
                yield error("empty-range", f"`between: [{low}, {high}]` can never hold: "
                                           "the low end is above the high end",
                            ctx.at((*path, "between")), f"write `between: [{high}, {low}]`")


def check_fields(ctx: CheckContext) -> Iterator[Diagnostic]:
    """The lead data contract itself: one key, distinct sources, enum values of the right type."""
    fields = ctx.spec.fields
    keys = [name for name, spec in fields.items() if spec.key]
    if len(keys) > 1:
        for name in keys[1:]:
            yield error("multiple-keys", f"`{name}` is a second key field (`{keys[0]}` is one)",
                        ctx.at(("fields", name, "key")), "a lead record has one identity field")
    elif not keys:
        yield warning("no-key-field", "no field is marked `key: true`", ctx.at(("fields",)),
                      "mark the lead id `key: true` so every output can be traced to its record")
    seen: dict[str, str] = {}
    for name, spec in fields.items():
        column = spec.source or name
        if column in seen:
            yield error("duplicate-source",
                        f"`{name}` and `{seen[column]}` are both read from column `{column}`",
                        ctx.at(("fields", name, "source") if spec.source else ("fields", name)),
                        "each export column maps to one field")
        seen.setdefault(column, name)
        for i, item in enumerate(spec.enum or []):
            try:
                literal_fits(spec, item)
            except ValueError as exc:
                kind = with_article(spec.type)
                yield error("value-type-mismatch",
                            f"allowed value `{item}` does not fit {kind} field `{name}` "
                            f"(expected {exc})", ctx.at(("fields", name, "enum", i)))
    stage_field = ctx.spec.stage_field
    declared = fields.get(stage_field)
    if declared is not None and declared.type != "string":
        yield error("value-type-mismatch", f"stage field `{stage_field}` must be a string field",
                    ctx.at(("fields", stage_field, "type")))
    elif declared is None and "stage_field" in ctx.spec.model_fields_set:
        yield from ctx.field_ref(stage_field, ("stage_field",))


def _literal_hint(kind: str, op: str, item: Any) -> str | None:
    """What to write instead of a value that does not fit the field's type."""
    if kind == "boolean":
        return wording.boolean_hint(op, item)
    if kind in ("integer", "number") and isinstance(item, str):
        return wording.number_hint(op, item).replace(f"`{op}: ", "`")
    if kind == "string" and not isinstance(item, str):
        return f'quote it: `"{item}"`'
    return None
