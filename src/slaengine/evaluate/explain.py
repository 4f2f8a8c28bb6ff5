"""Explanations: the condition tree interpreted on one lead, every node with its actual value.

This is deliberately a second implementation of the condition semantics, used only
when someone asks why; property tests hold it equal to the generated fast path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from ..agreement.describe import describe, shown_children, value_text
from ..agreement.diagnostics import Location
from ..agreement.loader import LoadedAgreement
from ..agreement.models import AgreementSpec
from ..agreement.models.agreement import condition_roots
from ..agreement.models.conditions import (
    AllCondition,
    AnyCondition,
    Condition,
    DefinitionCondition,
    FieldCondition,
    NotCondition,
    ScoreCondition,
    walk,
)
from ..agreement.models.sections import PerValueRule, PointsRule
from .coerce import jsonable
from .literals import INT64_MAX, Prepared, local_today, prepare, widen_score

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda v, x: v in x,
    "not_in": lambda v, x: v not in x,
    "between": lambda v, x: x[0] <= v <= x[1],
    "contains": lambda v, x: x in v,
    "matches": lambda v, x: x.search(v) is not None,
}


@dataclass(frozen=True)
class ConditionResult:
    """One node of an explanation: the rule in words, its verdict and the value it saw."""

    text: str
    matched: bool
    depth: int
    missing: bool = False          # a test on a field the lead does not have
    actual: Any = None
    actual_text: str | None = None
    location: Location | None = None
    children: tuple[ConditionResult, ...] = field(default=())

    @property
    def mark(self) -> str:
        return "?" if self.missing else ("✓" if self.matched else "✗")

    def line(self) -> str:
        detail = ""
        if self.missing:
            detail = " (no value)"
        elif self.actual_text is not None:
            detail = f" (was {self.actual_text})"
        return f"{'  ' * self.depth}{self.mark} {self.text}{detail}"

    def flatten(self) -> list[ConditionResult]:
        """This node and every node below it, parents first."""
        nodes = [self]
        for child in self.children:
            nodes.extend(child.flatten())
        return nodes

    def to_json(self) -> dict[str, Any]:
        return {
            "condition": self.text,
            "matched": self.matched,
            "missing": self.missing,
            "actual": jsonable(self.actual),
            "location": (f"{self.location.file}:{self.location.line}:{self.location.col}"
                         if self.location else None),
            "children": [c.to_json() for c in self.children],
        }


def _age(value: datetime | date, now: datetime, tz: tzinfo) -> str:
    then = value.astimezone(tz).date() if isinstance(value, datetime) else value
    days = (now.astimezone(tz).date() - then).days
    if days == 0:
        return "today"
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} ago"
    return f"in {-days} day{'s' if days != -1 else ''}"


class Interpreter:
    """Evaluates definitions and scores by walking the models, one lead at a time."""

    def __init__(self, spec: AgreementSpec, tz: tzinfo, loaded: LoadedAgreement | None = None):
        self.spec, self.tz = spec, tz
        self._prepared: dict[int, Prepared] = {}
        self._locations: dict[int, Location] = {}
        for root, path in condition_roots(spec):
            for node, rel in walk(root):
                if isinstance(node, FieldCondition):
                    kind = spec.fields[node.field].type
                    self._prepared[id(node)] = prepare(node, kind, tz)
                elif isinstance(node, ScoreCondition):
                    self._prepared[id(node)] = prepare(node, "number", tz)
                if loaded is not None:
                    where = loaded.locate(path + rel)
                    if where is not None:
                        self._locations[id(node)] = where

    # ---- plain verdicts

    def run(self, values: Mapping[str, Any], now: datetime) -> _Run:
        return _Run(self, values, now)


class _Run:
    """One lead's evaluation, memoising definitions and scores as they are needed."""

    def __init__(self, interpreter: Interpreter, values: Mapping[str, Any], now: datetime):
        self.i, self.values, self.now = interpreter, values, now
        self.today = local_today(now, interpreter.tz)
        self._definitions: dict[str, bool] = {}
        self._scores: dict[str, int | float] = {}

    def definition(self, name: str) -> bool:
        if name not in self._definitions:
            self._definitions[name] = self.holds(self.i.spec.definitions[name].when)
        return self._definitions[name]

    def score(self, name: str) -> int | float:
        if name not in self._scores:
            total: int | float = 0
            for rule in self.i.spec.scores[name].rules:
                if isinstance(rule, PointsRule):
                    if self.holds(rule.when):
                        total += rule.points
                elif isinstance(rule, PerValueRule):
                    value = self.values.get(rule.field)
                    if value is not None:
                        points: int | float = value * rule.points_each
                        if rule.max is not None:
                            points = min(points, rule.max)
                        if rule.min is not None:
                            points = max(points, rule.min)
                        total += points
            if not -INT64_MAX <= total <= INT64_MAX:
                total = widen_score(total)
            self._scores[name] = total
        return self._scores[name]

    def band(self, name: str) -> str | None:
        value = self.score(name)
        for band in self.i.spec.scores[name].bands:
            if (band.from_ is None or band.from_ <= value) and (
                    band.below is None or value < band.below):
                return band.label
        return None

    def leaf(self, node: FieldCondition | ScoreCondition) -> tuple[bool, bool, Any]:
        """(matched, missing, actual) of a field or score test."""
        prepared = self.i._prepared[id(node)]
        if isinstance(node, ScoreCondition):
            total = self.score(node.score)
            return _COMPARE[prepared.op](total, prepared.value), False, total
        actual: Any = self.values.get(node.field)
        if prepared.op == "exists":
            return (actual is not None) == prepared.value, False, actual
        if actual is None:
            return False, True, None
        if prepared.op in ("within", "older_than"):
            base: datetime | date = self.today if isinstance(actual, date) and not isinstance(
                actual, datetime) else self.now
            start = base - prepared.value
            if prepared.op == "within":
                return start <= actual <= base, False, actual
            return actual < start, False, actual
        return _COMPARE[prepared.op](actual, prepared.value), False, actual

    def holds(self, node: Condition) -> bool:
        if isinstance(node, FieldCondition | ScoreCondition):
            return self.leaf(node)[0]
        if isinstance(node, DefinitionCondition):
            return self.definition(node.definition)
        if isinstance(node, AllCondition):
            return all(self.holds(c) for c in node.all)
        if isinstance(node, AnyCondition):
            return any(self.holds(c) for c in node.any)
        if isinstance(node, NotCondition):
            return not self.holds(node.not_)
        raise TypeError(f"unknown condition {node!r}")

    # ---- explanations

    def explain(self, node: Condition, depth: int = 0) -> ConditionResult:
        spec = self.i.spec
        text = describe(node, spec)
        where = self.i._locations.get(id(node))
        if isinstance(node, FieldCondition | ScoreCondition):
            matched, missing, actual = self.leaf(node)
            shown = None
            if not missing and not (isinstance(node, FieldCondition) and node.op == "exists"
                                    and actual is None):
                shown = value_text(_local(actual, self.i.tz))
                if isinstance(actual, datetime | date) and node.op in ("within", "older_than"):
                    shown += ", " + _age(actual, self.now, self.i.tz)
            return ConditionResult(text, matched, depth, missing, actual, shown, where)
        children = tuple(self.explain(c, depth + 1) for c in shown_children(node))
        return ConditionResult(text, self.holds(node), depth, location=where, children=children)


def _local(value: Any, tz: tzinfo) -> Any:
    return value.astimezone(tz) if isinstance(value, datetime) else value
