"""`kpis --engine duckdb`: the KPI query (`compiler.sql.kpis`) run by DuckDB on a lead file.

`DuckRun` reads the file into typed leads and compiles the decisions query with the KPIs'
inputs added (`KpiPlan.extra_columns`). Then:

1. The inputs of every lead are computed once into a table (`kpi_leads`), with the row
   number, whether the row has errors, and whether DuckDB could not read it as the Python
   reader does (`run.bad`, the coerced fields' `bad` flags).
2. Those rows are read again by the Python reader and engine, and their inputs (values,
   verdicts, clock statuses, bands: what the Python KPIs read) written in their place, so the
   aggregates count every record as `compute_kpis` does; unreadable ones count as such.
3. The lookup tables are made for exactly the days, dates and years the leads hold.
4. The KPI query aggregates the table; its rows become the `KpiReport` the Python path
   builds (values worked out from exact sums where Python's are exact, see `kpiagg`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import duckdb
import sqlglot.expressions as exp

from ...agreement.describe import field_label, kpi_formula
from ...agreement.diagnostics import UsageError
from ...agreement.models import AgreementSpec
from ...agreement.models.sections import Kpi
from ...evaluate.calendars import FIRST_YEAR, LAST_YEAR
from ...evaluate.evaluator import Engine
from ...evaluate.leads import read_leads
from ...kpis import KpiReport, KpiResult, KpiValue, PeriodValue, ScoreCalibration, meets
from ...kpis.calibration import Calibration
from ...kpis.measures import MISSING_GROUP
from ...kpis.periods import PeriodRange, Periods
from ..calendar import CalendarTable, build, day_columns
from ..clocks import _div_exact
from ..coercer import Coerced
from ..dialects import DIALECTS, lit
from ..kpiplan import KpiPlan, Lookups
from ..kpis import compile_kpis
from ..kpitables import BASE, DAY, PeriodKeys, lookup_rows, micros
from ..tables import load_table
from .runner import DuckRun

__all__ = ["kpis_file"]

D = DIALECTS["duckdb"]
TABLE: Final = "kpi_leads"
ROW, BAD, ERRORS = "_row", "_kpi_bad", "_kpi_errors"
PREFIX: Final = "slaengine_kpi_"
Row = Mapping[str, Any]


def _table() -> exp.Table:
    return exp.Table(this=D.ident(TABLE))


def _any(columns: Sequence[str]) -> exp.Expr:
    flags = [exp.Coalesce(this=D.column(c), expressions=[exp.false()]) for c in columns]
    return exp.or_(*flags) if flags else exp.false()


class KpiRun:
    """One lead file's KPIs, computed by DuckDB."""

    def __init__(self, engine: Engine, path: Path | str, now: datetime,
                 window: PeriodRange | None = None):
        self.engine = engine.for_kpis()
        self.spec: AgreementSpec = self.engine.spec
        self.window = window
        self.plan = plan = KpiPlan(self.spec)
        self.run = DuckRun(self.engine, path, now,
                           extra_columns=lambda coerced: plan.extra_columns(self.floats(coerced)))
        self.engine = self.run.engine  # reading the file's columns as it spells them
        self.now = self.run.now
        self.inputs = plan.inputs(self.run.compiled)
        if not plan.empty:  # a refusal (Unsupported) before any work on the leads
            year = self.run.years[0]
            self.query(self.lookups(dict.fromkeys(plan.calendar_names(), (year, year))))
        self.records = self.with_errors = self.unreadable = 0

    def floats(self, coerced: Mapping[str, Coerced]) -> dict[str, str]:
        out = {}
        for name in self.plan.floats:
            column = coerced[name].floaty if name in coerced else None
            if column is None:
                raise UsageError(f"field `{name}`: DuckDB does not tell whether its values are "
                                 "fractions; use --engine python")
            out[name] = column
        return out

    def execute(self, statement: exp.Expr, parameters: Sequence[Any] = ()) -> Any:
        try:
            return self.run.con.execute(D.render(statement, pretty=False), list(parameters))
        except duckdb.Error as exc:
            # As `DuckRun.rows`: DuckDB stops at what its reader cannot take.
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            raise UsageError(f"{self.run.path}: DuckDB cannot read the lead file ({problem}); "
                             "--engine python reads it and reports the records it cannot "
                             "read") from None

    # ---- 1. and 2.: the table of inputs, every record in it

    def materialise(self) -> None:
        run = self.run
        bad = [run.bad, *(c.bad for c in run.coerced.values() if c.bad)]
        errors = [c.error for c in run.coerced.values()]
        select = exp.select(D.column(ROW), exp.alias_(_any(bad), D.ident(BAD)),
                            exp.alias_(_any(errors), D.ident(ERRORS)),
                            *(D.column(c) for c in self.inputs)).from_(
            exp.Subquery(this=run.compiled.tree, alias=exp.TableAlias(this=D.ident("d"))))
        self.execute(exp.Create(this=_table(), kind="TABLE", expression=select,
                                properties=exp.Properties(expressions=[
                                    exp.TemporaryProperty()])))
        counts = exp.select(
            exp.Count(this=exp.Star()),
            exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(
                this=exp.and_(D.column(ERRORS), exp.Not(this=D.column(BAD))))),
            exp.Filter(this=exp.ArrayAgg(this=D.column(ROW)),
                       expression=exp.Where(this=D.column(BAD)))).from_(_table())
        self.records, self.with_errors, rows = self.execute(counts).fetchone()
        if rows:
            self.execute(exp.Delete(this=_table(), where=exp.Where(this=D.column(BAD))))
            self.replace(sorted(rows))

    def replace(self, ordinals: Sequence[int]) -> None:
        """The Python engine's inputs of the rows DuckDB could not read as Python does."""
        engine, run = self.engine, self.run
        wanted = set(ordinals)
        bound = engine.compiled.bind(self.now)
        moment = self.now.timestamp()
        extras = {path: i for i, path in enumerate(engine.compiled.extra_paths)}
        kinds = self.kinds()
        rows = []
        for position, record in enumerate(read_leads(run.path, run.fmt), 1):
            if position not in wanted:
                continue
            wanted.discard(position)
            if record.data is None:
                self.unreadable += 1
                self.with_errors += 1
            else:
                values, errors = engine.coerce(record.data)
                self.with_errors += bool(errors)
                _, _, bands, flags = bound(values)
                readings = engine.clocks.read(values, flags, moment)
                rows.append([position, False, bool(errors),
                             *(self.python_input(kinds[c], values, flags, extras, readings,
                                                 bands) for c in self.inputs)])
            if not wanted:
                break
        if wanted:
            raise UsageError(f"{run.path}: records {sorted(wanted)[:5]} are missing")
        if rows:
            columns = [ROW, BAD, ERRORS, *self.inputs]
            insert = exp.Insert(this=exp.Schema(this=_table(), expressions=[
                D.ident(c) for c in columns]), expression=exp.Values(expressions=[
                    exp.Tuple(expressions=[exp.Placeholder() for _ in columns])]))
            self.run.con.executemany(D.render(insert, pretty=False), rows)

    def kinds(self) -> dict[str, tuple[str, Any]]:
        """What each input column holds: (condition|field|fraction|status|band, subject)."""
        plan = self.plan
        out: dict[str, tuple[str, Any]] = {c: ("condition", k)
                                           for k, c in plan.conditions.items()}
        out.update({c: ("field", f) for f, c in plan.fields.items()})
        out.update({c: ("fraction", f) for f, c in plan.float_cols.items()})
        for column in self.run.compiled.columns:
            if column.kind == "sl_status":
                out[column.name] = ("status", self.engine.clocks.names.index(
                    str(column.subject)))
            elif column.kind == "band":
                out[column.name] = ("band", column.subject)
        return out

    def python_input(self, kind: tuple[str, Any], values: Mapping[str, Any],
                     flags: Sequence[bool], extras: Mapping[tuple[str, str], int],
                     readings: Sequence[Any], bands: Mapping[str, str | None]) -> Any:
        what, subject = kind
        if what == "condition":
            return flags[extras[subject]]
        if what == "status":
            return readings[subject].status
        if what == "band":
            return bands.get(subject)
        value = values.get(subject)
        if what == "fraction":
            return isinstance(value, float)
        return micros(value) if isinstance(value, datetime) else value

    # ---- 3.: lookup tables for the leads' days, dates and years

    def column_values(self, columns: Iterable[str],
                      key: Callable[[exp.Expr], exp.Expr] = lambda value: value) -> list[Any]:
        """The distinct keys of the values of some input columns."""
        found: set[Any] = set()
        for column in columns:
            value = D.column(column)
            query = exp.select(exp.ArrayAgg(this=exp.Distinct(expressions=[key(value)]))).from_(
                _table()).where(exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())))
            found.update(self.execute(query).fetchone()[0] or [])
        return sorted(found)

    def lookups(self, years: Mapping[str, tuple[int, int]]) -> Lookups:
        tables: dict[str, tuple[str, CalendarTable]] = {}
        for name, span in years.items():
            tables[name] = (f"{PREFIX}calendar_{name}_days", build(
                name, self.spec.calendars[name], self.spec.timezone, *span))
        return Lookups.named("slaengine_", tables)

    def load_lookups(self) -> Lookups:
        plan, fields = self.plan, self.plan.fields
        keys = PeriodKeys(plan.period_kinds(), ZoneInfo(self.spec.timezone))
        days = self.column_values([fields[f] for f in plan.instant_cohorts()], lambda us: (
            _div_exact(exp.Sub(this=us, expression=lit(BASE)), DAY)))
        dates = self.column_values([fields[f] for f in plan.date_fields()])
        lookups = self.lookups(self.calendar_years())
        for name, (columns, rows) in lookup_rows(keys, days, dates).items():
            load_table(self.run.con, f"slaengine_{name}", [c for c, _ in columns],
                  [t for _, t in columns], rows)
        for table_name, table in lookups.calendars.values():
            names = day_columns(table)
            load_table(self.run.con, table_name, names, ["BIGINT"] * len(names), table.days)
        return lookups

    def calendar_years(self) -> dict[str, tuple[int, int]]:
        """Per calendar of a duration, the local years its durations' ends fall in."""
        out: dict[str, tuple[int, int]] = {}
        for duration in self.plan.calendar_durations():
            name = str(duration.calendar)
            zone = ZoneInfo(self.spec.calendars[name].timezone or self.spec.timezone)
            years = [self.now.astimezone(zone).year, *out.get(name, ())]
            for field in (duration.from_, duration.to):
                for value in self.extremes(self.plan.fields[field]):
                    if isinstance(value, date):  # a date counts from its local midnight
                        year = value.year
                    else:  # epoch microseconds
                        utc = datetime.fromtimestamp(value / 10**6, UTC)
                        year = (utc.astimezone(zone).year if FIRST_YEAR <= utc.year <= LAST_YEAR
                                else utc.year)
                    years.append(min(max(year, FIRST_YEAR), LAST_YEAR))
            out[name] = (max(min(years) - 1, FIRST_YEAR), min(max(years) + 1, LAST_YEAR))
        return out

    def extremes(self, column: str) -> list[int | date]:
        value = D.column(column)
        row = self.execute(exp.select(exp.Min(this=value), exp.Max(this=value.copy())).from_(
            _table())).fetchone()
        return [v for v in row if v is not None]

    # ---- 4.: the query and the report

    def query(self, lookups: Lookups) -> exp.Query:
        return compile_kpis(self.plan, self.run.compiled, self.now, lookups,
                            window=self.window, relation=TABLE, micros=True, embedded=True)

    def report(self) -> KpiReport:
        self.materialise()
        spec, engine = self.spec, self.engine
        rows: dict[tuple[str, str], list[Row]] = {}
        if not self.plan.empty:
            cursor = self.execute(self.query(self.load_lookups()))
            names = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                if row["out_of_range"]:
                    raise RuntimeError("the KPI lookup tables miss some of the leads' times")
                rows.setdefault((row["kind"], row["name"]), []).append(row)
        moment = self.now.timestamp()
        kpis = {name: self.kpi(name, kpi, rows.get(("kpi", name), []), moment)
                for name, kpi in spec.kpis.items()}
        calibrations = {name: self.calibration(name, rows.get(("calibration", name), []))
                        for name, score in spec.scores.items() if score.calibration}
        return KpiReport(spec.agreement, spec.version, engine.digest, spec.timezone, self.now,
                         self.window, self.records, self.with_errors, self.unreadable, kpis,
                         calibrations)

    def kpi(self, name: str, kpi: Kpi, rows: Sequence[Row], moment: float) -> KpiResult:
        target = kpi.target

        def entry(row: Row | None) -> KpiValue:
            value, leads, measured = _value(kpi, row)
            return KpiValue(value, meets(value, target), leads, measured)

        overall = next((r for r in rows if r["grouping"] == "all" and r["mature"]), None)
        immature = sum(r["leads"] for r in rows if r["grouping"] == "all" and not r["mature"])
        by_period: dict[str, PeriodValue] = {}
        if kpi.period is not None and kpi.cohort is not None:
            periods = Periods(kpi.period, ZoneInfo(self.spec.timezone))
            maturity = kpi.maturity.seconds if kpi.maturity else None
            for row in sorted((r for r in rows if r["grouping"] == "period"),
                              key=lambda r: r["key"]):
                got = entry(row)
                ripe = maturity is None or periods.end(row["key"]) + maturity <= moment
                by_period[row["key"]] = PeriodValue(got.value, got.met, got.leads,
                                                    got.measured, ripe)
        groups = sorted((r for r in rows if r["grouping"] == "group" and r["mature"]),
                        key=lambda r: (r["key"] == MISSING_GROUP, r["key"]))
        top = entry(overall)
        return KpiResult(
            name, kpi, kpi_formula(self.spec, kpi), top.value, top.met, top.leads,
            top.measured, immature, overall["invalid"] if overall else 0, by_period,
            {r["key"]: entry(r) for r in groups},
            self.window is None or kpi.cohort is not None,
            field_label(self.spec, kpi.group_by) if kpi.group_by else None)

    def calibration(self, name: str, rows: Sequence[Row]) -> ScoreCalibration:
        extras = {path: i for i, path in enumerate(self.engine.compiled.extra_paths)}
        check = Calibration(name, self.engine, extras, self.now.timestamp(), self.window)
        for row in rows:
            if not row["mature"]:
                check.immature += row["leads"]
            elif row["key"] is None:
                check.without_band += row["leads"]
            else:
                check.counts[row["key"]] = [row["leads"], row["numerator"]]
        return check.result()


def _value(kpi: Kpi, row: Row | None) -> tuple[int | float | None, int, int]:
    """(value, leads, measured) of one result row, as `Plan.value` works it out."""
    measure = kpi.measure
    if row is None:  # no lead in scope
        return (0 if measure in ("count", "sum") else None), 0, 0
    leads, measured = row["leads"], row["measured"]
    if measure == "count":
        return leads, leads, leads
    if measure in ("ratio", "attainment"):
        return (row["numerator"] / measured if measured else None), leads, measured
    if measure not in ("sum", "average") or row["unscaled"]:
        # Percentiles are exact in SQL. A sum with a value beyond the exact sum's reach
        # (`kpiagg.Aggregates.exact`) is DuckDB's compensated FSUM: it may differ from `fsum`
        # in the last bit.
        return row["value"], leads, measured
    exact = (row["whole"] or 0) * 2**64 + (row["fraction"] or 0)
    if not row["floats"]:  # whole numbers only: Python sums them as ints (fsum: as floats)
        total = exact // 2**64
        if measure == "average":
            return (float(total) / measured if measured else None), leads, measured
        return total, leads, measured
    correctly_rounded = exact / 2**64  # what `fsum` gives
    return (correctly_rounded if measure == "sum" else correctly_rounded / measured), leads, \
        measured


def kpis_file(engine: Engine, path: Path | str, now: datetime,
              period: PeriodRange | None = None) -> KpiReport:
    """The `kpis` report of a lead file, computed by DuckDB (the same as `compute_kpis`)."""
    return KpiRun(engine, path, now, period).report()
