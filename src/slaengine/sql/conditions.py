"""The condition tree as sqlglot boolean expressions that are never NULL.

The missing-value rule lives in `holds`: every field or score test is wrapped so that a
comparison on a missing (NULL) value is FALSE, never NULL. `all`, `any` and `not` then
combine two-valued booleans, exactly as the Python engine does, so `not` over a test on a
missing value is TRUE. Literals go through `compiler.literals.prepare`, shared with the
Python compiler: timestamps are UTC instants, `within`/`older_than` windows are worked out
from `now` at compile time, dates in the agreement's timezone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import sqlglot.expressions as exp

from ..agreement.models import AgreementSpec
from ..agreement.models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    ScoreCondition,
)
from ..evaluate.literals import local_today, prepare
from .dialects import Dialect, lit
from .errors import Unsupported
from .numbers import DOUBLE, INTEGER, Kind, among, between, compare

Expr = exp.Expr
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ORDER = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE, "eq": exp.EQ}


def holds(test: Expr) -> Expr:
    """The missing-value rule, in one place: a test on NULL is FALSE, not NULL."""
    if isinstance(test, exp.Boolean):
        return test
    return exp.Coalesce(this=test, expressions=[exp.false()])


def instant_text(moment: datetime) -> str:
    """`2026-11-20 09:00:00+00:00` (microseconds when there are any) of an aware datetime."""
    return moment.astimezone(UTC).isoformat(sep=" ")


def field_kind(field_type: str) -> Kind:
    return INTEGER if field_type == "integer" else DOUBLE


class ConditionCompiler:
    """Compiles condition trees against columns given by the caller."""

    def __init__(self, spec: AgreementSpec, tz: tzinfo, now: datetime, dialect: Dialect,
                 field: Callable[[str], Expr], definition: Callable[[str], Expr],
                 score: Callable[[str], Expr], score_kind: Callable[[str], Kind],
                 micros: bool = False):
        self.spec, self.tz, self.d = spec, tz, dialect
        self.micros = micros  # datetime fields hold epoch microseconds (embedded engine)
        self.now = now.astimezone(UTC)
        self.today = local_today(self.now, tz)
        self.field, self.definition, self.score, self.score_kind = (
            field, definition, score, score_kind)

    def compile(self, node: Condition) -> Expr:
        if isinstance(node, FieldCondition):
            return self.field_test(node)
        if isinstance(node, ScoreCondition):
            return holds(self.number_test(node.op, node.value, self.score(node.score),
                                          self.score_kind(node.score)))
        if isinstance(node, DefinitionCondition):
            return self.definition(node.definition)
        if isinstance(node, AllCondition):
            return exp.Paren(this=exp.and_(*(self.compile(c) for c in node.all)))
        if isinstance(node, AnyCondition):
            return exp.Paren(this=exp.or_(*(self.compile(c) for c in node.any)))
        if isinstance(node, NotCondition):
            return exp.Not(this=exp.Paren(this=self.compile(node.not_)))
        raise TypeError(f"unknown condition {node!r}")

    # ---- field tests

    def field_test(self, node: FieldCondition) -> Expr:
        field_type = self.spec.fields[node.field].type
        value = self.field(node.field)
        prepared = prepare(node, field_type, self.tz)
        op = prepared.op
        if op == "exists":
            test = exp.Is(this=value, expression=exp.null())
            return exp.Not(this=test) if prepared.value else test
        if op in ("within", "older_than"):
            return holds(self.window(op, value, field_type, prepared.value))
        if field_type in ("integer", "number"):
            return holds(self.number_test(op, node.value, value, field_kind(field_type)))
        if op == "matches":
            return holds(self.d.regex_search(value, node.value))
        if op == "contains":
            if field_type == "list":
                if not isinstance(node.value, str):
                    raise Unsupported(
                        f"`contains: {node.value}` on the list field `{node.field}`",
                        "lists reach SQL as arrays of text, so an item is compared as text; "
                        "write the item as text", self.d.name)
                return holds(self.d.list_contains(value, node.value))
            return holds(self.d.contains_text(value, node.value))
        return holds(self.plain_test(op, value, prepared.value, field_type))

    def literal(self, value: Any, field_type: str) -> Expr:
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        if isinstance(value, datetime):
            return self.instant(value)
        if isinstance(value, date):
            return self.d.date(value.isoformat())
        if isinstance(value, str):
            return exp.Literal.string(value)
        raise Unsupported(f"the value `{value!r}`", f"a {field_type} field cannot hold it",
                          self.d.name)

    def instant(self, moment: datetime) -> Expr:
        if self.micros:
            return lit((moment.astimezone(UTC) - EPOCH) // timedelta(microseconds=1))
        return self.d.timestamp(instant_text(moment))

    def plain_test(self, op: str, value: Expr, target: Any, field_type: str) -> Expr:
        """Tests on text, booleans, dates and timestamps (no numeric subtleties)."""
        if op in ("in", "not_in"):
            items = [self.literal(v, field_type) for v in sorted(target, key=repr)]
            found = exp.In(this=value, expressions=items)
            return exp.Not(this=found) if op == "not_in" else found
        if op == "between":
            low, high = target
            return exp.and_(exp.GTE(this=value, expression=self.literal(low, field_type)),
                            exp.LTE(this=value, expression=self.literal(high, field_type)))
        if op == "ne":
            return exp.NEQ(this=value, expression=self.literal(target, field_type))
        return _ORDER[op](this=value, expression=self.literal(target, field_type))

    def number_test(self, op: str, raw: Any, value: Expr, kind: Kind) -> Expr:
        """Numeric tests on the values as written in the agreement (exact, see `numbers`)."""
        if op in ("in", "not_in"):
            return among(value, kind, list(raw), op == "not_in")
        if op == "between":
            low, high = raw
            return between(value, kind, low, high)
        return compare(op, value, kind, raw)

    def window(self, op: str, value: Expr, field_type: str, delta: timedelta) -> Expr:
        """`within` (`now - delta <= value <= now`) and `older_than` (`value < now - delta`)."""
        if field_type == "date":
            low: Expr = self.d.date((self.today - delta).isoformat())
            high: Expr = self.d.date(self.today.isoformat())
        else:
            low = self.instant(self.now - delta)
            high = self.instant(self.now)
        if op == "older_than":
            return exp.LT(this=value, expression=low)
        return exp.and_(exp.GTE(this=value, expression=low),
                        exp.LTE(this=value, expression=high))
