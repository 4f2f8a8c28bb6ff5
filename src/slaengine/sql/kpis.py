"""The KPIs and score calibrations as one SQL aggregate query over the decisions query.

It reproduces `slaengine.kpis` (see its docstring for the semantics) in three parts:

1. *Inputs* (`kpiplan.py`): the conditions and fields the query reads, added to the
   decisions result by `compile_decisions(extra_columns=...)`.
2. *Per lead* (`KpiCompiler.steps`): time fields as epoch microseconds, their period keys
   (`kpitables.py`), business durations from the calendar tables the clocks use (the open
   time before an instant, `ClockCompiler.before`); then each KPI's scope, period, group
   key as text, maturity and measured value (`KpiFacts`), and each calibration's.
3. *Aggregates* (`kpiagg.py`): GROUPING SETS per KPI and calibration, in one UNION ALL.

Time comparisons are in whole microseconds against limits worked out so that they decide
exactly as Python's float comparisons of epoch seconds do (`kpitables.first_us`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

import sqlglot.expressions as exp

from ..agreement.models.sections import DurationMeasure, Kpi
from ..evaluate.calendars import FIRST_YEAR, LAST_YEAR
from ..kpis.measures import _UNIT_SECONDS as UNIT_SECONDS
from ..kpis.measures import MISSING_GROUP
from ..kpis.periods import PeriodRange
from .calendar import build
from .clocks import ClockCompiler, _div_exact, seconds
from .decisions import CompiledSql
from .dialects import Dialect, cast, lit
from .errors import Unsupported
from .kpiagg import Aggregates, CalibrationFacts, KpiFacts, union
from .kpiplan import KpiPlan, Lookups, duration_of, value_field
from .kpitables import (
    BASE,
    DAY,
    PeriodKeys,
    first_date,
    first_us,
    last_date,
    last_us,
)
from .kpitables import lookup_statements as table_statements
from .numbers import double
from .query import Join, Query

Expr = exp.Expr
SOURCE: Final = "slaengine_decisions"


def _null(value: Expr) -> Expr:
    return exp.Is(this=value, expression=exp.null())


def _present(value: Expr) -> Expr:
    return exp.Not(this=_null(value))


def _text(value: str) -> Expr:
    return exp.Literal.string(value)


class KpiCompiler:
    """The per-lead steps and each KPI's and calibration's facts, over the decisions result."""

    def __init__(self, plan: KpiPlan, compiled: CompiledSql, now: datetime,
                 window: PeriodRange | None, lookups: Lookups, *, micros: bool,
                 embedded: bool):
        self.plan, self.spec, self.compiled = plan, plan.spec, compiled
        self.d = compiled.dialect
        self.tz = ZoneInfo(self.spec.timezone)
        self.now, self.moment = now, now.timestamp()
        self.window = window
        self.lookups, self.micros, self.embedded = lookups, micros, embedded
        self.q = _Steps(self.d)
        self.us: dict[str, str] = {}  # time field -> its epoch microseconds column
        self.periods: dict[tuple[str, str], str] = {}  # (field, kind) -> key column
        self.business: dict[tuple[str, str, str], str] = {}  # (from, to, calendar) -> µs

    def compile(self, source: str, inputs: Sequence[str]) -> tuple[list[exp.Select],
                                                                   list[tuple[str, exp.Query]]]:
        """The aggregate SELECTs and the per-lead steps (CTEs) they read."""
        self.steps(source, inputs)
        aggregates = Aggregates(self.d, self.q.current, self.embedded)
        selects = [aggregates.kpi(self.facts(n, k)) for n, k in self.spec.kpis.items()]
        selects += [aggregates.calibration(self.calibration(n))
                    for n, s in self.spec.scores.items() if s.calibration is not None]
        return selects, list(self.q.steps)

    # ---- per lead

    def steps(self, source: str, inputs: Sequence[str]) -> None:
        q, plan = self.q, self.plan
        q.reserve(inputs)
        q.start(source, inputs)
        kinds = sorted(plan.period_kinds())
        columns: list[tuple[str, Expr]] = []
        joins: list[Join] = []
        for name in plan.times:
            value = q.col(plan.fields[name])
            self.us[name] = q.name(f"us__{name}")
            if self.spec.fields[name].type == "datetime":
                columns.append((self.us[name], value if self.micros else self.d.epoch_us(value)))
                continue
            alias = q.name(f"jd__{name}")
            joins.append(Join(self.lookups.dates, alias,
                              exp.EQ(this=q.joined(alias, "day"), expression=value)))
            columns.append((self.us[name], q.joined(alias, "midnight_us")))
            for kind in kinds:
                self.periods[(name, kind)] = q.name(f"period__{name}__{kind}")
                columns.append((self.periods[(name, kind)], q.joined(alias, kind)))
        q.add(columns, joins)
        columns, joins = [], []
        for name in plan.instant_cohorts():
            us = q.col(self.us[name])
            alias = q.name(f"ji__{name}")
            joins.append(Join(self.lookups.instants, alias, exp.EQ(
                this=q.joined(alias, "day"),
                expression=_div_exact(exp.Sub(this=us, expression=lit(BASE)), DAY))))
            for kind in kinds:
                self.periods[(name, kind)] = q.name(f"period__{name}__{kind}")
                columns.append((self.periods[(name, kind)], exp.Case(ifs=[exp.If(
                    this=exp.GTE(this=us.copy(), expression=q.joined(alias, f"{kind}_change")),
                    true=q.joined(alias, f"{kind}_after"))],
                    default=q.joined(alias, f"{kind}_before"))))
        for duration in plan.calendar_durations():
            key = (duration.from_, duration.to, str(duration.calendar))
            if key not in self.business:
                self.business[key] = q.name("business__us")
                columns.append((self.business[key], self.open_time(key, joins)))
        q.add(columns, joins)

    def open_time(self, key: tuple[str, str, str], joins: list[Join]) -> Expr:
        """Open microseconds of a calendar from one time field to another: the open time
        before each, as the clocks read it from the calendar's `_days` table."""
        q = self.q
        table_name, table = self.lookups.calendars[key[2]]
        # The clocks' own reading of a `_days` row (`before`): built for that method alone.
        clock = ClockCompiler(self.spec, self.d, q, self.now, {}, str,
                              (table.first_year, table.last_year), self.micros)
        ends = []
        for end in key[:2]:
            us = q.col(self.us[end])
            alias = q.name(f"jc__{end}")
            inside = exp.and_(exp.GTE(this=us, expression=lit(table.lo)),
                              exp.LTE(this=us.copy(), expression=lit(table.hi)))
            day = exp.Case(ifs=[exp.If(this=inside, true=_div_exact(
                exp.Sub(this=us.copy(), expression=lit(table.base)), DAY))])
            joins.append(Join(table_name, alias,
                              exp.EQ(this=q.joined(alias, "day"), expression=day)))
            ends.append(exp.Paren(this=clock.before(us.copy(), alias, table)))
        return exp.Sub(this=ends[1], expression=ends[0])

    # ---- facts

    def time_test(self, field: str, op: str, limit: float) -> Expr:
        """`epoch seconds of field OP limit` for OP in gte, lt, lte, decided as Python does."""
        if self.spec.fields[field].type == "date":
            raw = self.q.col(self.plan.fields[field])
            edge = last_date(limit, self.tz) if op == "lte" else first_date(limit, self.tz)
            if edge is None:  # no date qualifies (gte, lte) or every date does (lt)
                return exp.true() if op == "lt" else exp.false()
            test = {"gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[op]
            return test(this=raw, expression=self.d.date(edge.isoformat()))
        us = self.q.col(self.us[field])
        if op == "lte":
            return exp.LTE(this=us, expression=lit(last_us(limit)))
        test = exp.GTE if op == "gte" else exp.LT
        return test(this=us, expression=lit(first_us(limit)))

    def scope(self, where: str | None, cohort: str | None) -> list[Expr]:
        """A KPI's `where` (or a score's nothing), the cohort recorded and in the window."""
        parts: list[Expr] = [self.q.col(where)] if where else []
        if cohort is not None:
            parts.append(_present(self.q.col(self.plan.fields[cohort])))
            if self.window is not None:
                parts += [self.time_test(cohort, "gte", self.window.start.timestamp()),
                          self.time_test(cohort, "lt", self.window.end.timestamp())]
        return parts

    def mature(self, cohort: str | None, maturity: int | None) -> Expr:
        if cohort is None or maturity is None:
            return exp.true()
        return self.time_test(cohort, "lte", self.moment - maturity)

    def group_key(self, name: str, field: str) -> Expr:
        """`group_text` of the field's value, in SQL."""
        kind = self.spec.fields[field].type
        value = self.q.col(self.plan.fields[field])
        if kind == "string":
            text: Expr = value
        elif kind == "boolean":
            text = exp.Case(ifs=[exp.If(this=value, true=_text("true")),
                                 exp.If(this=exp.Not(this=value.copy()), true=_text("false"))])
        elif kind == "integer":
            text = cast(value, "VARCHAR")
        elif kind == "date":
            text = exp.TimeToStr(this=value, format=_text("%Y-%m-%d"))
        elif kind == "number" and self.embedded and self.d.name == "duckdb":
            # DuckDB writes a DOUBLE as Python's repr does; a whole number read without a
            # fraction (`1200`, not `1200.0`) is an int in Python.
            text = exp.Case(ifs=[exp.If(this=self.q.col(self.plan.float_cols[field]),
                                        true=cast(value, "VARCHAR"))],
                            default=cast(cast(value.copy(), "BIGINT"), "VARCHAR"))
        else:
            why = ("a number's key is its text as read (`1200` or `1200.0`), which a DOUBLE "
                   "column does not keep" if kind == "number" else
                   f"a {kind} field's key is Python's text of the value, which SQL does not "
                   "write the same way")
            raise Unsupported(f"`group_by: {field}` of KPI `{name}`",
                              f"{why}; group by a string, boolean, integer or date field",
                              self.d.name)
        return exp.Coalesce(this=text, expressions=[_text(MISSING_GROUP)])

    def facts(self, name: str, kpi: Kpi) -> KpiFacts:
        col, plan = self.q.col, self.plan
        cohort = kpi.cohort
        period = (col(self.periods[(cohort, kpi.period)])
                  if kpi.period is not None and cohort is not None else None)
        facts = KpiFacts(
            name, kpi, self.scope(plan.conditions.get(("kpi_where", name)), cohort),
            self.mature(cohort, kpi.maturity.seconds if kpi.maturity else None),
            period, self.group_key(name, kpi.group_by) if kpi.group_by else None)
        missed: list[Expr] = []
        if period is not None and cohort is not None:  # outside the printed query's tables
            missed.append(exp.and_(_present(col(plan.fields[cohort])), _null(period.copy())))
        if kpi.ratio is not None:
            den = col(plan.conditions[("kpi_denominator", name)])
            facts.den = den
            facts.num = exp.and_(den.copy(), col(plan.conditions[("kpi_numerator", name)]))
        elif kpi.attainment is not None:
            status = col(next(c.name for c in self.compiled.columns
                              if c.kind == "sl_status" and c.subject == kpi.attainment))
            facts.den = exp.In(this=status, expressions=[_text("met"), _text("breached")])
            facts.num = exp.EQ(this=status.copy(), expression=_text("met"))
        field = value_field(kpi)
        if field is not None:
            facts.value = col(plan.fields[field])
            if self.embedded and field in plan.float_cols:
                facts.floaty = col(plan.float_cols[field])
        duration = duration_of(kpi)
        if duration is not None:
            missed.append(self.duration(facts, duration))
        facts.out_of_range = exp.or_(*missed) if missed else exp.false()
        return facts

    def duration(self, facts: KpiFacts, duration: DurationMeasure) -> Expr:
        """Sets the facts' value and invalid flag; returns when the lookups fell short."""
        col, plan = self.q.col, self.plan
        raw = [col(plan.fields[f]) for f in (duration.from_, duration.to)]
        start, end = (col(self.us[f]) for f in (duration.from_, duration.to))
        recorded = exp.and_(*(_present(r) for r in raw))
        have = exp.and_(recorded, _present(start), _present(end))
        missed = exp.and_(recorded.copy(), exp.Not(this=exp.Paren(this=exp.and_(
            _present(start.copy()), _present(end.copy())))))
        # Python compares and subtracts epoch seconds as floats: so does the SQL.
        s, e = seconds(start.copy()), seconds(end.copy())
        negative = exp.LT(this=e, expression=s)
        unit = double(float(UNIT_SECONDS[duration.unit]))
        if duration.calendar is None:
            facts.value = exp.Case(ifs=[exp.If(
                this=exp.and_(have, exp.Not(this=negative)),
                true=exp.Div(this=exp.Paren(this=exp.Sub(this=e.copy(), expression=s.copy())),
                             expression=unit))])
            facts.invalid = exp.and_(have.copy(), negative.copy())
            return missed
        _, table = self.lookups.calendars[duration.calendar]
        low, high = _calendar_range(table.timezone_name)
        in_range = exp.and_(exp.GTE(this=start.copy(), expression=lit(first_us(low))),
                            exp.LT(this=start.copy(), expression=lit(first_us(high))),
                            exp.LTE(this=end.copy(), expression=lit(last_us(high))))
        business = col(self.business[(duration.from_, duration.to, duration.calendar)])
        counted = exp.and_(have, exp.Not(this=negative), in_range)
        facts.value = exp.Case(ifs=[exp.If(this=counted, true=exp.Div(
            this=seconds(business), expression=unit))])
        # Python's calendars cover 1900-2200; an end outside is invalid there, as here.
        facts.invalid = exp.and_(have.copy(), exp.Paren(this=exp.or_(
            negative.copy(), exp.Not(this=exp.Paren(this=in_range.copy())))))
        return exp.or_(missed, exp.and_(counted.copy(), _null(business.copy())))

    def calibration(self, name: str) -> CalibrationFacts:
        calibration = self.spec.scores[name].calibration
        assert calibration is not None
        cohort = calibration.cohort
        band = next(c.name for c in self.compiled.columns
                    if c.kind == "band" and c.subject == name)
        return CalibrationFacts(
            name, self.scope(None, cohort),
            self.mature(cohort, calibration.maturity.seconds if calibration.maturity else None),
            self.q.col(band), self.q.col(self.plan.conditions[("calibration", name)]))


def printed_lookups(plan: KpiPlan, years: tuple[int, int], prefix: str) -> Lookups:
    """The tables the printed query reads: as `--what calendar` makes them for `years`."""
    spec = plan.spec
    return Lookups.named(prefix, {
        name: (f"{prefix}calendar_{name}_days",
               build(name, spec.calendars[name], spec.timezone, *years))
        for name in plan.calendar_names()})


def lookup_statements(plan: KpiPlan, d: Dialect, years: tuple[int, int],
                      prefix: str) -> list[exp.Expr]:
    """CREATE TABLE and INSERT statements of the period and date tables, when needed."""
    if not plan.needs_lookups():
        return []
    keys = PeriodKeys(plan.period_kinds(), ZoneInfo(plan.spec.timezone))
    return list(table_statements(d, prefix, keys, years))


def compile_kpis(plan: KpiPlan, compiled: CompiledSql, now: datetime, lookups: Lookups, *,
                 window: PeriodRange | None = None, relation: str | None = None,
                 micros: bool = False, embedded: bool = False) -> exp.Query:
    """The KPI query: one row per KPI or calibration and grouping (see `kpiagg.COLUMNS`).

    It reads `relation` (a table of the decisions result's `plan.inputs` columns) or, when
    None, the decisions query itself, whose steps it then includes. `embedded` (DuckDB,
    with the float columns of `plan.extra_columns`) adds the columns `kpiagg.EXACT`.
    """
    if plan.empty:
        raise Unsupported("the KPIs", "the agreement has no KPIs and no calibrations",
                          compiled.dialect.name)
    d = compiled.dialect
    compiler = KpiCompiler(plan, compiled, now, window, lookups, micros=micros,
                           embedded=embedded)
    ctes: list[tuple[str, exp.Query]] = []
    if relation is None:
        decisions = compiled.tree.copy()
        with_ = decisions.args.get("with_")
        steps = list(with_.expressions) if with_ is not None else []
        decisions.set("with_", None)
        decisions.set("order", None)
        ctes = [(step.alias, step.this) for step in steps] + [(SOURCE, decisions)]
    try:
        selects, kpi_steps = compiler.compile(relation or SOURCE, plan.inputs(compiled))
    except Unsupported as exc:
        raise exc if exc.dialect else exc.in_dialect(d.name) from None
    return union(selects, ctes + kpi_steps, d)


def _calendar_range(timezone: str) -> tuple[float, float]:
    """Local midnight of 1 January FIRST_YEAR and of the year after LAST_YEAR: the instants
    Python's calendars cover (`BusinessCalendar._check`)."""
    zone = ZoneInfo(timezone)
    return (datetime.combine(date(FIRST_YEAR, 1, 1), time(0), zone).timestamp(),
            datetime.combine(date(LAST_YEAR + 1, 1, 1), time(0), zone).timestamp())


class _Steps(Query):
    """The per-lead steps, named apart from the decisions query's own."""

    def step_name(self) -> str:
        return f"kpi_step_{len(self.steps) + 1}"
