"""Exact comparisons of SQL numbers with the agreement's literals, as Python compares them.

Python compares an int with a float exactly (`2**53 + 1 > 2.0**53` is true), while SQL
converts one side, and a literal may be beyond what the column's type holds. So a literal is
first rewritten into one the column's own type compares exactly: for whole-number values,
`> 2.5` is `> 2` and `>= 2.5` is `>= 3`; for doubles, an integer no double equals is replaced
by the doubles either side of it. The result may be NULL when the value is; the caller
applies the missing-value rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import sqlglot.expressions as exp

from .dialects import cast, lit

Expr = exp.Expr

MAX_SAFE: Final = 2**53 - 1
DOUBLE_MAX: Final = 1.7976931348623157e308


@dataclass(frozen=True)
class Kind:
    """How a numeric SQL value compares: `exact` whole numbers within ±`bound`, or doubles."""

    exact: bool
    bound: int = MAX_SAFE


INTEGER: Final = Kind(True)
DOUBLE: Final = Kind(False)


def double(value: float) -> Expr:
    """A DOUBLE literal that reads back as exactly `value` (finite)."""
    text = repr(float(value))
    number = exp.Literal.number(text.lstrip("-"))
    return cast(exp.Neg(this=number) if text.startswith("-") else number, "DOUBLE")


def _not_null(value: Expr) -> Expr:
    return exp.Not(this=exp.Is(this=value, expression=exp.null()))


def compare(op: str, value: Expr, kind: Kind, literal: int | float) -> Expr:
    """`value OP literal` for OP in eq, ne, gt, gte, lt, lte, with Python's exact meaning."""
    if op == "ne":
        return exp.and_(_not_null(value), exp.Not(this=exp.Paren(
            this=compare("eq", value, kind, literal))))
    if isinstance(literal, float) and math.isnan(literal):
        return exp.false()
    return _exact(op, value, kind, literal) if kind.exact else _double(op, value, literal)


def _exact(op: str, value: Expr, kind: Kind, literal: int | float) -> Expr:
    if isinstance(literal, float) and math.isinf(literal):
        below = (literal > 0) == (op in ("lt", "lte"))
        return _not_null(value) if below and op != "eq" else exp.false()
    if op == "eq":
        if isinstance(literal, float) and not literal.is_integer():
            return exp.false()
        target = int(literal)
        if abs(target) > kind.bound:
            return exp.false()
        return exp.EQ(this=value, expression=lit(target))
    rounded = math.floor(literal) if op in ("gt", "lte") else math.ceil(literal)
    # Clamped just beyond the values' range: every comparison with a value stays the same.
    rounded = max(-kind.bound - 1, min(kind.bound + 1, rounded))
    node = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[op]
    return node(this=value, expression=lit(rounded))


def _double(op: str, value: Expr, literal: int | float) -> Expr:
    node = {"eq": exp.EQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[op]
    if isinstance(literal, float):
        if math.isinf(literal):
            below = (literal > 0) == (op in ("lt", "lte"))
            return _not_null(value) if below and op != "eq" else exp.false()
        return node(this=value, expression=double(literal))
    if abs(literal) > DOUBLE_MAX:  # beyond every double (values are finite)
        below = (literal > 0) == (op in ("lt", "lte"))
        return _not_null(value) if below and op != "eq" else exp.false()
    nearest = float(literal)
    if nearest == literal:
        return node(this=value, expression=double(nearest))
    if op == "eq":
        return exp.false()
    lower, upper = ((math.nextafter(nearest, -math.inf), nearest) if nearest > literal
                    else (nearest, math.nextafter(nearest, math.inf)))
    if op in ("gt", "gte"):
        return exp.GTE(this=value, expression=double(upper))
    return exp.LTE(this=value, expression=double(lower))


def among(value: Expr, kind: Kind, literals: Sequence[int | float], negated: bool) -> Expr:
    """`value IN (...)` (or NOT IN) with the literals a value of this kind can equal."""
    kept: list[Expr] = []
    for literal in literals:
        if isinstance(literal, float) and (math.isnan(literal) or math.isinf(literal)):
            continue
        if kind.exact:
            if isinstance(literal, float) and not literal.is_integer():
                continue
            if abs(int(literal)) <= kind.bound:
                kept.append(lit(int(literal)))
        elif isinstance(literal, float):
            kept.append(double(literal))
        elif abs(literal) <= DOUBLE_MAX and float(literal) == literal:
            kept.append(double(float(literal)))
    if not kept:
        return _not_null(value) if negated else exp.false()
    found = exp.In(this=value, expressions=kept)
    return exp.Not(this=found) if negated else found


def between(value: Expr, kind: Kind, low: int | float, high: int | float) -> Expr:
    return exp.and_(compare("gte", value, kind, low), compare("lte", value, kind, high))
