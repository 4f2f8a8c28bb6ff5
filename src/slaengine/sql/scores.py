"""Scores (points, points per value with caps) and their bands as SQL expressions.

A score whose every contribution is a whole number is summed exactly: in BIGINT when no
total or product can pass 64 bits, else in DECIMAL(38, 0) (the Python engine's integer, which
it widens to a float past 64 bits, as `widen_score` says). A score with a fractional
contribution (fractional points, caps or points per value, or a `number` field) is summed as
DOUBLE in rule order, which is what Python does with floats; Python keeps whole-number parts
as exact integers until the first fraction is added, so the two agree whenever those stay
within ±2**53.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import sqlglot.expressions as exp

from ..agreement.models import AgreementSpec
from ..agreement.models.sections import Band, PerValueRule, PointsRule
from .conditions import ConditionCompiler
from .dialects import cast, lit
from .errors import Unsupported
from .numbers import DOUBLE, DOUBLE_MAX, MAX_SAFE, Kind, compare, double

Expr = exp.Expr
INT64_MAX: Final = 2**63 - 1
DECIMAL_MAX: Final = 10**38 - 1


@dataclass(frozen=True)
class ScorePlan:
    """How one score is computed in SQL."""

    kind: Kind
    sql_type: str  # BIGINT, DECIMAL(38, 0) or DOUBLE
    wide_products: bool = False  # multiply in DECIMAL: a product can pass 64 bits


def _whole(value: int | float | None) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def plan(spec: AgreementSpec, name: str) -> ScorePlan:
    score = spec.scores[name]
    exact = all(
        _whole(rule.points) if isinstance(rule, PointsRule) else
        (spec.fields[rule.field].type == "integer" and _whole(rule.points_each)
         and _whole(rule.max) and _whole(rule.min))
        for rule in score.rules)
    if not exact:
        for rule in score.rules:
            for value in _numbers_of(rule):
                if isinstance(value, int) and abs(value) > DOUBLE_MAX:
                    raise Unsupported(f"the points `{value}` of score `{name}`",
                                      "no double holds it, and this score is summed in "
                                      "doubles because it has fractional points")
        return ScorePlan(DOUBLE, "DOUBLE")
    bound, widest = 0, 0
    for rule in score.rules:
        if isinstance(rule, PointsRule):
            bound += abs(int(rule.points))
            continue
        each = abs(int(rule.points_each))
        product = each * MAX_SAFE
        widest = max(widest, product)
        low, high = -product, product
        if rule.max is not None:
            low, high = min(low, int(rule.max)), min(high, int(rule.max))
        if rule.min is not None:
            low, high = max(low, int(rule.min)), max(high, int(rule.min))
        bound += max(abs(low), abs(high))
    if max(bound, widest) > DECIMAL_MAX:
        raise Unsupported(f"score `{name}`", "its whole-number total can pass 38 digits, "
                          "more than any SQL integer or decimal type holds")
    if max(bound, widest) <= INT64_MAX:
        return ScorePlan(Kind(True, bound), "BIGINT")
    return ScorePlan(Kind(True, bound), "DECIMAL(38, 0)", wide_products=widest > INT64_MAX)


def _numbers_of(rule: PointsRule | PerValueRule) -> list[int | float]:
    if isinstance(rule, PointsRule):
        return [rule.points]
    return [v for v in (rule.points_each, rule.max, rule.min) if v is not None]


class ScoreCompiler:
    """Score totals, float-ness (for the JSON record) and bands."""

    def __init__(self, spec: AgreementSpec, conditions: ConditionCompiler,
                 field: Callable[[str], Expr],
                 float_values: Mapping[str, Expr] | None = None):
        self.spec, self.conditions, self.field = spec, conditions, field
        self.float_values = float_values  # number field -> whether Python holds a float
        self.plans = {name: plan(spec, name) for name in spec.scores}

    def number(self, value: int | float, score_plan: ScorePlan) -> Expr:
        if score_plan.kind.exact:
            return lit(int(value))
        return double(float(value))

    def total(self, name: str) -> Expr:
        score, score_plan = self.spec.scores[name], self.plans[name]
        zero: Expr = self.number(0, score_plan)
        total = zero
        for rule in score.rules:
            if isinstance(rule, PointsRule):
                part: Expr = exp.Case(ifs=[exp.If(this=self.conditions.compile(rule.when),
                                                  true=self.number(rule.points, score_plan))],
                                      default=zero)
            else:
                part = self.per_value(rule, score_plan, zero)
            total = exp.Add(this=total, expression=part)
        return cast(total, score_plan.sql_type)

    def per_value(self, rule: PerValueRule, score_plan: ScorePlan, zero: Expr) -> Expr:
        value = self.field(rule.field)
        if score_plan.wide_products:
            value = cast(value, "DECIMAL(38, 0)")
        elif not score_plan.kind.exact:
            value = cast(value, "DOUBLE")
        capped: Expr = exp.Mul(this=value, expression=self.number(rule.points_each, score_plan))
        if rule.max is not None:
            cap = self.number(rule.max, score_plan)
            capped = exp.Case(ifs=[exp.If(this=exp.GT(this=capped, expression=cap), true=cap)],
                              default=capped)
        if rule.min is not None:
            floor = self.number(rule.min, score_plan)
            capped = exp.Case(ifs=[exp.If(this=exp.LT(this=capped, expression=floor),
                                          true=floor)], default=capped)
        missing = exp.Is(this=self.field(rule.field), expression=exp.null())
        return exp.Case(ifs=[exp.If(this=missing, true=zero)], default=capped)

    def is_float(self, name: str) -> Expr | None:
        """Whether Python's total is a float (it is an int until a float is added), for a
        DOUBLE score; None when the score is always exact. Needs `float_values`."""
        score, score_plan = self.spec.scores[name], self.plans[name]
        if score_plan.kind.exact or self.float_values is None:
            return None
        parts: list[Expr] = []
        for rule in score.rules:
            if isinstance(rule, PointsRule):
                if isinstance(rule.points, float):
                    parts.append(self.conditions.compile(rule.when))
                continue
            parts.append(self.per_value_is_float(rule))
        return exp.Paren(this=exp.or_(*parts)) if parts else exp.false()

    def per_value_is_float(self, rule: PerValueRule) -> Expr:
        value = self.field(rule.field)
        present = exp.Not(this=exp.Is(this=value, expression=exp.null()))
        assert self.float_values is not None
        floaty: Expr = (exp.true() if isinstance(rule.points_each, float) else
                        self.float_values.get(rule.field, exp.false()))
        product: Expr = exp.Mul(this=cast(value, "DOUBLE"), expression=double(rule.points_each))
        # Python's min(x, max) returns max (with its type) only when max < x; likewise min.
        if rule.max is not None:
            taken: Expr = exp.LT(this=double(rule.max), expression=product)
            floaty = exp.Case(ifs=[exp.If(this=taken, true=_truth(rule.max))], default=floaty)
            product = exp.Case(ifs=[exp.If(this=taken, true=double(rule.max))], default=product)
        if rule.min is not None:
            taken = exp.GT(this=double(rule.min), expression=product)
            floaty = exp.Case(ifs=[exp.If(this=taken, true=_truth(rule.min))], default=floaty)
        return exp.and_(present, exp.Paren(this=floaty))

    def band(self, name: str, score_value: Expr) -> Expr:
        bands: list[Band] = self.spec.scores[name].bands
        if not bands:
            return exp.cast(exp.null(), "VARCHAR")
        kind = self.plans[name].kind
        ifs = []
        for band in bands:
            checks: list[Expr] = []
            if band.from_ is not None:
                checks.append(compare("gte", score_value, kind, band.from_))
            if band.below is not None:
                checks.append(compare("lt", score_value, kind, band.below))
            test = exp.and_(*checks) if checks else exp.true()
            ifs.append(exp.If(this=test, true=exp.Literal.string(band.label)))
        return exp.Case(ifs=ifs, default=exp.cast(exp.null(), "VARCHAR"))


def _truth(value: int | float) -> Expr:
    return exp.true() if isinstance(value, float) else exp.false()

