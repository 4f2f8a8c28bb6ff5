"""The KPI query's aggregates: one SELECT per KPI and per calibration, of one shape.

Each KPI reads its leads in scope (`KpiFacts`) and groups them by GROUPING SETS: (mature)
for the overall value, (period) for `by_period` (every lead of the period, mature or not)
and (group, mature) for `by_group`. Counts and conditional sums are FILTERs (sqlglot writes
them as IF inside the aggregate where a warehouse lacks FILTER). A calibration groups its
leads in scope by (band, mature). Every SELECT gives the columns of `COLUMNS`; the embedded
engine's also give `EXACT`, from which it works out sums exactly as Python's `fsum` does.

Percentiles interpolate linearly between closest ranks. DuckDB's QUANTILE_CONT computes
`lo + (hi - lo) * t` where Python (and numpy) compute `hi - (hi - lo) * (1 - t)` from
t = 0.5 on, which differs in the last bit: on DuckDB the two ranks are read from the sorted
list and interpolated as Python does. Elsewhere PERCENTILE_CONT (Spark's exact PERCENTILE)
may differ from Python in the last digit; BigQuery has it only as a window function and
is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import sqlglot.expressions as exp

from ..agreement.models.sections import Kpi
from .dialects import Dialect, anon, cast, lit
from .errors import Unsupported
from .numbers import double

Expr = exp.Expr
COLUMNS: Final = ("kind", "name", "grouping", "key", "mature", "leads", "measured",
                  "numerator", "invalid", "out_of_range", "value")
EXACT: Final = ("floats", "whole", "fraction", "unscaled")
SCALE: Final = 2.0**64  # a fraction times 2**64 is whole when it has no bits below 2**-64
SCALE_LIMIT: Final = 2.0**96  # whole parts below it sum in a HUGEINT, 2**31 of them at least


@dataclass
class KpiFacts:
    """One KPI's per-lead columns (expressions over the last per-lead step)."""

    name: str
    kpi: Kpi
    scope: list[Expr]
    mature: Expr
    period: Expr | None
    group: Expr | None
    den: Expr | None = None
    num: Expr | None = None
    value: Expr | None = None
    floaty: Expr | None = None  # the value was read as a fraction (embedded engine)
    invalid: Expr | None = None
    out_of_range: Expr = field(default_factory=exp.false)


@dataclass
class CalibrationFacts:
    name: str
    scope: list[Expr]
    mature: Expr
    band: Expr
    converted: Expr


def _count(where: Expr | None = None) -> Expr:
    count = exp.Count(this=exp.Star())
    return count if where is None else exp.Filter(this=count, expression=exp.Where(this=where))


def _when(condition: Expr, value: Expr, default: Expr | None = None) -> Expr:
    return exp.Case(ifs=[exp.If(this=condition, true=value)], default=default)


def _null(kind: str) -> Expr:
    return cast(exp.null(), kind)


def _grouping(column: Expr) -> Expr:
    return exp.EQ(this=exp.Grouping(expressions=[column]), expression=lit(0))


class Aggregates:
    """Builds the SELECTs over the relation `source` (the last per-lead step)."""

    def __init__(self, d: Dialect, source: str, embedded: bool):
        self.d, self.source, self.embedded = d, source, embedded

    def f(self, name: str) -> exp.Column:
        """A column of the leads in scope."""
        return self.d.column(name, "f")

    def g(self, name: str) -> exp.Column:
        """A column of the grouped rows."""
        return self.d.column(name, "g")

    def leads(self, columns: Sequence[tuple[str, Expr]], scope: list[Expr]) -> exp.Select:
        """The leads in scope with the named per-lead columns (`f`)."""
        select = exp.select(*(exp.alias_(e, self.d.ident(n)) for n, e in columns)).from_(
            exp.Table(this=self.d.ident(self.source), alias=exp.TableAlias(
                this=self.d.ident("p"))))
        return select.where(exp.and_(*scope)) if scope else select

    def outer(self, kind: str, name: str, inner: exp.Select, values: dict[str, Expr]
              ) -> exp.Select:
        cols = {"kind": exp.Literal.string(kind), "name": exp.Literal.string(name), **values}
        names = [*COLUMNS, *EXACT] if self.embedded else list(COLUMNS)
        return exp.select(*(exp.alias_(cols.get(n, _null("BIGINT")), self.d.ident(n))
                            for n in names)).from_(inner.subquery(self.d.ident("g")))

    # ---- a KPI

    def kpi(self, f: KpiFacts) -> exp.Select:
        per_lead: list[tuple[str, Expr]] = [("mature", f.mature)]
        for name in ("period", "group", "den", "num", "value", "floaty", "invalid"):
            value = getattr(f, name)
            if value is not None:
                per_lead.append((name, value))
        per_lead.append(("out_of_range", f.out_of_range))
        sets = [[self.f("mature")]]
        if f.period is not None:
            sets.append([self.f("period")])
        if f.group is not None:
            sets.append([self.f("group"), self.f("mature")])
        label: Expr = exp.Literal.string("all")
        key: Expr = _null("VARCHAR")
        for name in ("group", "period"):  # the period's test first
            if getattr(f, name) is not None:
                label = _when(_grouping(self.f(name)), exp.Literal.string(name), label)
                key = _when(_grouping(self.f(name)), self.f(name), key)
        grouped: list[tuple[str, Expr]] = [
            ("grouping", label), ("key", key), ("mature", self.f("mature")), ("leads", _count()),
            ("out_of_range", _count(self.f("out_of_range")))]
        measure = f.kpi.measure
        values: dict[str, Expr] = {n: self.g(n) for n in ("grouping", "key", "mature", "leads",
                                                      "out_of_range")}
        values["invalid"] = (self.g("invalid") if f.invalid is not None
                             else cast(lit(0), "BIGINT"))
        if f.invalid is not None:
            grouped.append(("invalid", _count(self.f("invalid"))))
        if measure == "count":
            values["measured"] = self.g("leads")
            values["value"] = cast(self.g("leads"), "DOUBLE")
        elif f.den is not None:
            grouped += [("den", _count(self.f("den"))), ("num", _count(self.f("num")))]
            values["measured"], values["numerator"] = self.g("den"), self.g("num")
            values["value"] = _when(exp.GT(this=self.g("den"), expression=lit(0)), exp.Div(
                this=cast(self.g("num"), "DOUBLE"), expression=self.g("den")))
        else:
            grouped.append(("n", exp.Count(this=self.f("value"))))
            values["measured"] = self.g("n")
            values["value"] = self.measure(f, grouped, values)
        inner = exp.select(*(exp.alias_(e, self.d.ident(n)) for n, e in grouped)).from_(
            self.leads(per_lead, f.scope).subquery(self.d.ident("f")))
        inner = inner.group_by(exp.GroupingSets(expressions=[
            exp.Tuple(expressions=s) for s in sets]))
        return self.outer("kpi", f.name, inner, values)

    def measure(self, f: KpiFacts, grouped: list[tuple[str, Expr]],
                values: dict[str, Expr]) -> Expr:
        """The value of a sum, average, median or percentile (and, embedded, `EXACT`)."""
        value = cast(self.f("value"), "DOUBLE")
        kpi = f.kpi
        if kpi.sum is not None or kpi.average is not None:
            total = anon("FSUM", value) if self.embedded else exp.Sum(this=value)
            grouped.append(("sum", total))
            if self.embedded:
                self.exact(f, grouped, values)
            if kpi.sum is not None:  # the sum of none is 0
                return exp.Coalesce(this=self.g("sum"), expressions=[double(0.0)])
            return _when(exp.GT(this=self.g("n"), expression=lit(0)),
                         exp.Div(this=self.g("sum"), expression=self.g("n")))
        p = kpi.percentile.p if kpi.percentile is not None else 50
        q = double(p / 100)
        if self.d.name == "duckdb":
            ordered = exp.ArrayAgg(this=exp.Order(this=value, expressions=[
                exp.Ordered(this=value.copy())]))
            grouped.append(("sorted", exp.Filter(this=ordered, expression=exp.Where(
                this=exp.Not(this=exp.Is(this=self.f("value"), expression=exp.null()))))))
            return interpolate(self.g("sorted"), self.g("n"), q)
        if self.d.name == "bigquery":
            raise Unsupported(f"`{kpi.measure}` of KPI `{f.name}`",
                              "BigQuery has PERCENTILE_CONT only as a window function, not as "
                              "an aggregate over grouping sets", self.d.name)
        if self.d.name == "spark":  # PERCENTILE: exact, interpolating linearly
            grouped.append(("pct", exp.Quantile(this=value, quantile=q)))
        else:
            grouped.append(("pct", exp.PercentileCont(this=value, expression=q)))
        return cast(self.g("pct"), "DOUBLE")

    def exact(self, f: KpiFacts, grouped: list[tuple[str, Expr]],
              values: dict[str, Expr]) -> None:
        """The embedded engine's exact sum: each value split into its whole part and its
        fraction times 2**64, both whole numbers summed exactly in HUGEINTs (when the value has
        no bits below 2**-64, else it counts as `unscaled`). Python's `fsum` is that sum
        correctly rounded, and its `sum` of ints (no value read as a fraction) the sum."""
        value = cast(self.f("value"), "DOUBLE")
        floaty = self.f("floaty") if f.floaty is not None else exp.false()
        whole = anon("TRUNC", value)  # `value - whole` is exact; with FLOOR it need not be
        fraction = exp.Mul(this=exp.Paren(this=exp.Sub(this=value.copy(), expression=whole)),
                           expression=double(SCALE))
        fits = exp.and_(exp.LT(this=anon("ABS", value.copy()), expression=double(SCALE_LIMIT)),
                        exp.EQ(this=fraction, expression=exp.Floor(this=fraction.copy())))
        grouped += [
            ("floats", exp.Filter(this=exp.Count(this=value.copy()),
                                  expression=exp.Where(this=floaty))),
            ("whole", exp.Sum(this=_when(fits, cast(whole.copy(), "HUGEINT")))),
            ("fraction", exp.Sum(this=_when(fits.copy(), cast(fraction.copy(), "HUGEINT")))),
            ("unscaled", exp.Filter(this=exp.Count(this=value.copy()), expression=exp.Where(
                this=exp.Not(this=exp.Paren(this=fits.copy())))))]
        values.update({n: self.g(n) for n in EXACT})

    # ---- a calibration

    def calibration(self, f: CalibrationFacts) -> exp.Select:
        per_lead = [("band", f.band), ("mature", f.mature), ("converted", f.converted)]
        grouped = [("band", self.f("band")), ("mature", self.f("mature")), ("leads", _count()),
                   ("converted", _count(self.f("converted")))]
        inner = exp.select(*(exp.alias_(e, self.d.ident(n)) for n, e in grouped)).from_(
            self.leads(per_lead, f.scope).subquery(self.d.ident("f"))).group_by(
            self.f("band"), self.f("mature"))
        return self.outer("calibration", f.name, inner, {
            "grouping": exp.Literal.string("band"), "key": self.g("band"),
            "mature": self.g("mature"), "leads": self.g("leads"), "measured": self.g("leads"),
            "numerator": self.g("converted"),
            "invalid": cast(lit(0), "BIGINT"), "out_of_range": cast(lit(0), "BIGINT"),
            "value": exp.Div(this=cast(self.g("converted"), "DOUBLE"), expression=self.g("leads"))})


def interpolate(ordered: Expr, n: Expr, q: Expr) -> Expr:
    """The q-quantile of a sorted list of n values, as `kpis.percentile` computes it:
    h = (n - 1) q, a and b the values at ranks floor(h) and floor(h) + 1, t = h - floor(h),
    `a + (b - a) t` below t = 0.5 and `b - (b - a)(1 - t)` from there."""
    h = exp.Paren(this=exp.Mul(this=cast(exp.Sub(this=n, expression=lit(1)), "DOUBLE"),
                               expression=q))
    low = cast(exp.Floor(this=h), "BIGINT")
    a = anon("LIST_EXTRACT", ordered, exp.Add(this=low, expression=lit(1)))
    b = anon("LIST_EXTRACT", ordered.copy(), exp.Least(
        this=exp.Add(this=low.copy(), expression=lit(2)), expressions=[n.copy()]))
    t = exp.Paren(this=exp.Sub(this=h.copy(), expression=low.copy()))
    d = exp.Paren(this=exp.Sub(this=b, expression=a))
    rising = exp.Add(this=a.copy(), expression=exp.Mul(this=d, expression=t))
    falling = exp.Sub(this=b.copy(), expression=exp.Mul(this=d.copy(), expression=exp.Paren(
        this=exp.Sub(this=double(1.0), expression=t.copy()))))
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=n.copy(), expression=lit(0)), true=exp.null()),
                         exp.If(this=exp.LT(this=t.copy(), expression=double(0.5)),
                                true=rising)], default=falling)


def union(selects: Sequence[exp.Select], ctes: Sequence[tuple[str, exp.Query]],
          d: Dialect) -> exp.Query:
    """The SELECTs as one query (UNION ALL) under the given CTEs."""
    query: exp.Query = selects[0]
    for select in selects[1:]:
        query = exp.Union(this=query, expression=select, distinct=False)
    query.set("with_", exp.With(expressions=[d.cte(n, q) for n, q in ctes]))
    return query
