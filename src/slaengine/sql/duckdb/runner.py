"""`evaluate --engine duckdb`: the agreement compiled to SQL and run by DuckDB on a lead file.

DuckDB reads the CSV, JSON Lines or Parquet file itself, coerces the values in SQL as the
Python coercer does (`compiler.sql.coercer`), evaluates the decisions query
(`compiler.sql.decisions`) against calendar tables built for the years the leads need,
and returns rows in file order. Each row becomes the same JSON record the Python engine
writes: error messages and violation texts are worded by the same Python code from the
values SQL found. Records DuckDB cannot read as the Python reader does (see
`compiler.sql.sources`) are read and evaluated by the Python engine, in place.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import orjson
import sqlglot.expressions as exp

from ...agreement.diagnostics import UsageError
from ...agreement.models.conditions import Condition
from ...evaluate.clocks import IDLE, Reading, reading_json, seconds_value
from ...evaluate.coerce import RecordError
from ...evaluate.evaluator import Engine
from ...evaluate.intake import check_file
from ...evaluate.leads import RawRecord, detect_format, read_leads
from ...evaluate.literals import INT64_MAX, ScoreNotANumber, widen_score
from ...evaluate.mapping import MappingFile
from ...evaluate.recycling import Credit, Recycle
from ...evaluate.violations import Violation
from .. import CompiledSql, compile_decisions
from ..coercer import Coerced, SqlCoercer
from ..coercion import FAST, strip
from ..dialects import DIALECTS, anon
from ..kpiplan import KpiPlan
from ..query import Query
from ..sources import Source, csv_source, jsonl_source, parquet_source
from ..tables import load_calendar_tables, needed_fields, years_for
from ..zones import ZONE_VARIABLE, set_zone

__all__ = ["DuckRun", "evaluate_file"]

D = DIALECTS["duckdb"]
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
BATCH: Final = 8192


def lit_text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def _duckdb() -> Any:
    try:
        return importlib.import_module("duckdb")
    except ImportError:
        raise UsageError("the duckdb engine needs DuckDB and sqlglot: "
                         "pip install 'slaengine[sql]'") from None


def iso_us(us: int) -> str:
    """`2026-11-20T09:00:00Z` of epoch microseconds."""
    return (EPOCH + timedelta(microseconds=us)).isoformat().replace("+00:00", "Z")


class DuckRun:
    """One lead file evaluated by DuckDB: set up, then iterate `records()`."""

    def __init__(self, engine: Engine, path: Path | str, now: datetime,
                 years: tuple[int, int] | None = None, threads: int | None = None, *,
                 extra_columns: Callable[[Mapping[str, Coerced]],
                                         Mapping[str, Condition | str]] | None = None):
        duckdb = _duckdb()
        self.path = Path(path)
        if str(path) == "-":
            raise UsageError("the duckdb engine reads files; give the lead file's path")
        if not self.path.is_file():
            raise UsageError(f"{self.path}: lead file not found")
        self.fmt = detect_format(self.path)
        if isinstance(engine.mapping, MappingFile) and engine.mapping.python_only:
            options = ", ".join(f"`{o}`" for o in engine.mapping.python_only)
            raise UsageError(f"the duckdb engine does not read the mapping's {options}; "
                             "use --engine python")
        # The columns are checked as the Python engine checks them, and read as spelled.
        self.engine, self.warnings = check_file(engine, self.path, self.fmt)
        engine = self.engine
        self.now = engine.instant(now)
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        # DuckDB keeps a query's rows in input order unless it joins (the decisions query,
        # with its lookups inline, does not), or an IN list becomes a join: keep it a test.
        self.con.execute("SET disabled_optimizers = 'in_clause'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.source = self.open_source()
        raw = D.render(self.source.select, pretty=False)
        self.con.execute(f"CREATE TEMP VIEW raw_leads AS {raw}")
        try:  # the first pass over the file: where DuckDB meets what its reader cannot take
            fast, found_years = self.survey(years is None)
        except self._errors() as exc:
            raise self.failed(exc) from None
        self.coerced = self.coerce(fast, kpis=extra_columns is not None)
        self.years = years or found_years
        floats = {n: c.floaty for n, c in self.coerced.items() if c.floaty}
        passthrough = [self.bad, *(x for c in self.coerced.values()
                                   for x in (c.error, c.raw, c.first, c.bad) if x)]
        disposition = engine.lifecycle.disposition_field
        self.compiled: CompiledSql = compile_decisions(
            engine.spec, self.now, version=engine.version, digest=engine.digest,
            years=self.years, relation="leads", float_values=floats, passthrough=passthrough,
            values=list(dict.fromkeys([*([disposition] if disposition else []),
                                       *engine.allowed.allowed])), datetime_micros=True,
            inline_lookups=True,
            extra_columns=extra_columns(self.coerced) if extra_columns else None)
        self.load_tables()
        self.names = [c.name for c in self.compiled.columns if c.kind != "sl_due_at"]

    # ---- the relation

    def open_source(self) -> Source:
        try:
            if self.fmt == "csv":
                return csv_source(self.path, self.engine.coerce.columns)
            if self.fmt == "jsonl":
                keys = list(dict.fromkeys(k for n in self.engine.spec.fields
                                          for k in (self.engine.coerce.columns[n], n)))
                return jsonl_source(self.path, keys)
            described = self.con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?)", [str(self.path)]).fetchall()
            return parquet_source(self.path, [(r[0], r[1]) for r in described])
        except self._errors() as exc:
            raise UsageError(f"{self.path}: cannot read the lead file: {exc}") from None

    def _errors(self) -> tuple[type[Exception], ...]:
        return (_duckdb().Error,)

    def coerce(self, fast: set[str], kpis: bool = False) -> dict[str, Coerced]:
        """The typed `leads` view over `raw_leads` (`fast`: the fields whose text all takes
        the fast path); with `kpis`, the values the KPIs read are coerced too (plain
        evaluation only checks those fields)."""
        q = Query(D)
        q.reserve([*self.source.columns, self.source.row, self.source.bad, "_row",
                   *self.engine.spec.fields])
        q.start("raw_leads", [self.source.row, self.source.bad, *self.source.columns])
        spec = self.engine.spec
        needed = needed_fields(spec)
        if kpis:  # the fields the KPIs place in time, group by or measure
            needed = [*needed, *KpiPlan(spec).fields]
        needed = [*needed, *self.engine.allowed.allowed]  # checked for values not allowed
        coercer = SqlCoercer(spec, q, self.source.columns, self.engine.coerce.columns,
                             needed, fast)
        coerced = coercer.build()
        self.bad = q.name("_bad")
        outputs: list[tuple[str, exp.Expr]] = [("_row", q.col(self.source.row)),
                                               (self.bad, q.col(self.source.bad))]
        for name, field in spec.fields.items():
            column = coerced[name].value if name in coerced else None
            kind = "integer" if field.type == "datetime" else field.type  # epoch µs
            outputs.append((name, q.col(column) if column else exp.Cast(
                this=exp.null(), to=D.type_of(kind))))
        outputs += [(x, q.col(x)) for c in coerced.values()
                    for x in (c.error, c.raw, c.first, c.floaty, c.bad) if x]
        select = q.finish(outputs, self.source.row)
        select.set("order", None)
        view = D.render(select, pretty=False)
        if ZONE_VARIABLE in view:  # wall times to read in the agreement's zone
            set_zone(self.con, spec.timezone)  # (a table of 600 years: a quarter second)
        self.con.execute(f"CREATE TEMP VIEW leads AS {view}")
        return coerced

    def survey(self, years: bool) -> tuple[set[str], tuple[int, int]]:
        """What the file holds, read in one pass before the query is built: the fields whose
        every text value takes the fast path (or is blank), so that coercing them skips the
        full grammar; and, with `years`, the local years the calendars must cover."""
        checks = self._fast_checks()
        lows, highs = self._year_bounds() if years else ([], [])
        row: tuple[Any, ...] = ()
        if checks or lows:
            query = exp.select(*(f for _, f in checks), *lows, *highs).from_(
                exp.Table(this=exp.to_identifier("raw_leads")))
            found = self.con.execute(D.render(query, pretty=False)).fetchone()
            row = tuple(found) if found else ()
        others = {name for (name, _), value in zip(checks, row[:len(checks)], strict=True)
                  if value}
        fast = {name for name, _ in checks} - others
        return fast, self._years([v for v in row[len(checks):] if v is not None])

    def _fast_checks(self) -> list[tuple[str, exp.Expr]]:
        """(field, whether any text value of one of its columns needs the full grammar)."""
        spec = self.engine.spec
        checks: list[tuple[str, exp.Expr]] = []
        for name, field in spec.fields.items():
            if field.type not in FAST:
                continue
            for column in dict.fromkeys((self.engine.coerce.columns[name], name)):
                kind = self.source.columns.get(column)
                if kind not in ("text", "json"):
                    continue
                value: exp.Expr = D.column(column)
                if kind == "json":
                    value = anon("JSON_EXTRACT_STRING", value, lit_text("$"))
                fast = anon("REGEXP_FULL_MATCH", value, lit_text(FAST[field.type]))
                other = exp.Case(ifs=[exp.If(this=exp.Not(this=fast), true=exp.NEQ(
                    this=strip(value), expression=lit_text("")))])
                checks.append((name, anon("BOOL_OR", other)))
        return checks

    def _year_bounds(self) -> tuple[list[exp.Expr], list[exp.Expr]]:
        """The least and greatest year of every clock time, read from the raw values, which
        is cheap: an ISO 8601 date or time starts with its year (the UTC offset may move it
        a year either way, which `years_for` allows for)."""
        spec = self.engine.spec
        fields = sorted({f for level in spec.service_levels.values()
                         for f in (level.start, *level.stop)})
        lows: list[exp.Expr] = []
        highs: list[exp.Expr] = []
        for name in fields:
            for column in dict.fromkeys((self.engine.coerce.columns[name], name)):
                kind = self.source.columns.get(column)
                value: exp.Expr = D.column(column)
                if kind in ("text", "json"):
                    text = anon("JSON_EXTRACT_STRING", value, lit_text("$")) \
                        if kind == "json" else value
                    head = anon("REGEXP_EXTRACT", text, lit_text("^\\s*([0-9]{4})-"),
                                exp.Literal.number(1))
                    year = exp.TryCast(this=head, to=exp.DataType.build("INTEGER"))
                    lows.append(exp.Min(this=year))
                    highs.append(exp.Max(this=year.copy()))
                elif kind in ("date", "timestamp", "timestamptz"):
                    # The year of the least and greatest value: DuckDB answers those from a
                    # Parquet file's statistics, without reading the column.
                    lows.append(anon("YEAR", exp.Min(this=value)))
                    highs.append(anon("YEAR", exp.Max(this=value.copy())))
        return lows, highs

    def _years(self, found: list[Any]) -> tuple[int, int]:
        """The years the calendars cover: every clock time of the leads and `now`, and far
        enough after the latest one for the longest allowance."""
        low = high = self.now.year
        if found:
            low, high = min(low, *map(int, found)), max(high, *map(int, found))
        return years_for(self.engine.spec, max(low, 1), high)

    def load_tables(self) -> None:
        load_calendar_tables(self.con, self.compiled, self.engine.spec.timezone)

    # ---- rows to records

    def rows(self) -> Iterator[dict[str, Any]]:
        sql = self.compiled.sql(pretty=False)
        keep = ", ".join(D.render(D.column(n), pretty=False) for n in self.names)
        names = self.names
        try:
            cursor = self.con.execute(f"SELECT {keep} FROM ({sql})")
            previous = 0
            while True:
                batch = cursor.fetchmany(BATCH)
                if not batch:
                    return
                for values in batch:
                    if values[0] <= previous:  # `_row` first: the order DuckDB promises
                        raise RuntimeError("DuckDB returned the leads out of input order")
                    previous = values[0]
                    yield dict(zip(names, values, strict=True))
        except self._errors() as exc:
            raise self.failed(exc) from None

    def failed(self, exc: Exception) -> UsageError:
        """What to say when DuckDB stops at what its reader cannot take: the Python engine
        reads such a file, reporting the records it cannot read."""
        problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
        return UsageError(f"{self.path}: DuckDB cannot read the lead file ({problem}); "
                          "--engine python reads it and reports the records it cannot read")

    def records(self) -> Iterator[dict[str, Any]]:
        builder = RecordBuilder(self)
        fallback = _PythonFallback(self.engine, self.path, self.fmt, self.now)
        bad = self.bad
        flags = [c.bad for c in self.coerced.values() if c.bad]
        for row in self.rows():
            if row[bad] or any(row[f] for f in flags):
                yield fallback.record(row["_row"])
                continue
            try:
                built = builder.record(row)
            except ScoreNotANumber:
                built = fallback.record(row["_row"])
            yield built


class RecordBuilder:
    """A result row as the `evaluate --format jsonl` record (see `decision.record`)."""

    def __init__(self, run: DuckRun):
        self.run, self.engine = run, run.engine
        spec = self.engine.spec
        self.definitions = list(spec.definitions)
        self.scores = list(spec.scores)
        self.float_cols = {k.split(":", 1)[1]: v for k, v in run.compiled.internal.items()
                           if k.startswith("float:")}
        self.clocks = list(spec.service_levels)
        self.messages: dict[tuple[str, str, Any], dict[str, Any]] = {}

    def score(self, row: Mapping[str, Any], name: str) -> int | float:
        value = row[f"score_{name}"]
        if isinstance(value, Decimal):
            whole = int(value)
            return widen_score(whole, name) if abs(whole) > INT64_MAX else whole
        if isinstance(value, float):
            if not math.isfinite(value):  # the Python engine words the record's error
                raise ScoreNotANumber(name, value)
            flag = self.float_cols.get(name)
            if flag is not None and not row[flag] and value.is_integer():
                return int(value)
        return value  # type: ignore[no-any-return]

    def warnings(self, row: Mapping[str, Any]) -> tuple[RecordError, ...]:
        """The record's `value-not-allowed` warnings, worded by the Python check."""
        allowed = self.engine.allowed
        values = {n: row[f"_value_{n}"] for n in allowed.allowed}
        found = allowed.check(values)
        return tuple(RecordError(w.code, w.message, w.field, self.column(
            w.field or "", bool(row[self.run.coerced[w.field or ""].first])), w.value)
            for w in found)

    def record(self, row: Mapping[str, Any]) -> dict[str, Any]:
        engine = self.engine
        stage = row["stage"]
        warnings = self.warnings(row) if engine.allowed else ()
        rec = {
            "id": row["id"],
            "version": engine.version,
            "digest": engine.digest,
            "definitions": {n: row[f"def_{n}"] for n in self.definitions},
            "scores": {n: self.score(row, n) for n in self.scores},
            "bands": {n: row[f"band_{n}"] for n in self.scores},
            "stage": stage,
            "owner": row["owner"],
            "violations": [v.to_json() for v in self.violations(row, stage)],
            "service_levels": {n: self.clock(row, i, n) for i, n in enumerate(self.clocks)},
            "recycle": self.recycle(row),
            "credit": self.credit(row),
            "errors": self.errors(row),
        }
        if warnings:
            rec["warnings"] = [w.to_json() for w in warnings]
        return rec

    def clock(self, row: Mapping[str, Any], i: int, name: str) -> dict[str, Any]:
        status = row[f"sl_{name}_status"]
        if status in IDLE:
            return reading_json(Reading(status))
        late = row[f"sl_{name}_late_s"]
        return {"status": status, "due_at": iso_us(row[f"_due_us_{i}"]),
                "elapsed_s": seconds_value(row[f"sl_{name}_elapsed_s"]),
                "remaining_s": seconds_value(row[f"sl_{name}_remaining_s"]),
                "late_s": None if late is None else seconds_value(late)}

    def violations(self, row: Mapping[str, Any], stage: str | None) -> list[Violation]:
        found: list[Violation] = []
        lifecycle = self.engine.lifecycle
        plans, named = lifecycle.plans, lifecycle.stage_names
        codes = list(row["violations"])
        for code in codes:
            if code == "unknown-stage":
                found.append(Violation(code, f"recorded stage `{stage}` is not a stage of the "
                                             "agreement", stage))
            elif code == "stage-requirement-unmet" and stage is not None:
                found.append(Violation(code, f"recorded as {named[stage]} but does not meet "
                                             "the definition of "
                                             f"{plans[stage].requires_label}", stage))
            elif code == "handoff-pending":
                found.append(Violation(code, "qualifies for "
                                             f"{named[row['handoff_to']]} but is "
                                             f"still recorded as {named[str(stage)]}",
                                       stage))
            elif code == "missing-disposition":
                found.append(Violation(code, f"{named[str(stage)]} needs a disposition code, but "
                                             "none is recorded", stage))
            elif code == "unknown-disposition":
                value = row[f"_value_{self.engine.lifecycle.disposition_field}"]
                found.append(Violation(code, f"disposition `{value}` is not one of the "
                                             "agreement's codes", stage))
        clocks = self.engine.clocks
        internal = self.run.compiled.internal
        for name in self.clocks:
            level = self.engine.spec.service_levels[name]
            out_of_range = bool(row[internal[f"oor:{name}"]])
            ignored = tuple(f for j, f in enumerate(level.stop)
                            if row[internal[f"ignored:{name}:{j}"]])
            if out_of_range or ignored:
                reading = Reading("not_started", ignored_stops=ignored,
                                  out_of_range=out_of_range)
                found.extend(clocks.stop_violations(name, reading, stage))
        return found

    def recycle(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        to = row["recycle_to"]
        if to is None:
            return None
        reason, source = row["recycle_reason"], row["recycle_source"]
        if reason == "disposition":
            title = self.engine.recycling.routes[source][1]
            message = (f"disposition `{source}` ({title}) returns the lead to "
                       f"{self.engine.recycling.stage_names[to]}")
        else:
            message = (f"{self.engine.spec.recycle[source].title}: return the lead to "
                       f"{self.engine.recycling.stage_names[to]}")
        return Recycle(to, reason, source, message).to_json()

    def credit(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        reason = row["credit_reason"]
        if reason is None:
            return None
        source = row["credit_source"]
        recycling = self.engine.recycling
        if reason == "disposition":
            message = (f"rejected as `{source}` ({recycling.routes[source][1]}), a disposition "
                       "the lead guarantee covers")
        else:
            message = f"handed to sales without meeting {recycling.requires_label}"
        return Credit(reason, source, message).to_json()

    def errors(self, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = []
        for name, c in self.run.coerced.items():
            if not row[c.error]:
                continue
            raw = row[c.raw]
            if self.run.source.format == "jsonl":
                raw = orjson.loads(raw)
            out.append(self.error(name, self.column(name, row[c.first]), raw))
        return out

    def column(self, name: str, first: bool) -> str:
        """The column a field's value was read from: its own (the mapping's, or the field's
        `source`) when the file has that column and its value was there, else the column
        named as the field, which the coercer falls back to (alone, it is `first` too)."""
        column = self.engine.coerce.columns[name]
        return column if first and column in self.run.source.columns else name

    def error(self, name: str, column: str, raw: Any) -> dict[str, Any]:
        key = (name, column, orjson.dumps(raw, default=str))
        if key not in self.messages:
            _, errors = self.engine.coerce({column: raw})
            mine = [e for e in errors if e.field == name]
            error = mine[0] if mine else RecordError(
                "invalid-value", f"`{raw}` cannot be read", name, column, raw)
            if len(self.messages) > 10_000:
                self.messages.clear()
            self.messages[key] = error.to_json()
        return dict(self.messages[key])


class _PythonFallback:
    """The Python reader's record for a row DuckDB could not read as Python does."""

    def __init__(self, engine: Engine, path: Path, fmt: str, now: datetime):
        self.engine, self.path, self.fmt, self.now = engine, path, fmt, now
        self.reader: Iterator[tuple[int, RawRecord]] | None = None
        self.position = 0

    def record(self, ordinal: int) -> dict[str, Any]:
        if self.reader is None or ordinal <= self.position:
            self.reader, self.position = self._records(), 0
        for position, raw in self.reader:
            self.position = position
            if position == ordinal:
                return next(self.engine.records(iter([raw]), self.now))
        raise UsageError(f"{self.path}: record {ordinal} is missing")  # pragma: no cover

    def _records(self) -> Iterator[tuple[int, RawRecord]]:
        return enumerate(read_leads(self.path, self.fmt), 1)


def evaluate_file(engine: Engine, path: Path | str, now: datetime,
                  years: tuple[int, int] | None = None) -> Iterator[dict[str, Any]]:
    """The `evaluate --format jsonl` records of a lead file, computed by DuckDB."""
    return DuckRun(engine, path, now, years).records()
