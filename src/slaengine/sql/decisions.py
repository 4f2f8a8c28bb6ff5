"""The whole decision of every lead as one SQL query over the relation `leads`.

Steps (CTEs): the lead's fields and row number; definitions and scores in dependency order;
bands, the recorded stage, and the conditions of service levels and recycle rules; then
the clocks (see `clocks.py`); the final SELECT names one column per result and orders by
the row number (a warehouse returns rows in any order otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

import sqlglot.expressions as exp

from ..agreement.models import AgreementSpec
from ..agreement.models.agreement import references
from ..agreement.models.conditions import Condition
from .calendar import CalendarTable, build, midnight_range
from .clocks import ClockCompiler, ClockOutput
from .conditions import ConditionCompiler
from .dialects import Dialect, anon, dialect
from .errors import Unsupported
from .lifecycle import LifecycleCompiler
from .query import Query
from .scores import ScoreCompiler

Expr = exp.Expr
ROW: Final = "_row"
TABLE_PREFIX: Final = "slaengine_"


@dataclass(frozen=True)
class Column:
    """One column of the result: its name and what it holds."""

    name: str
    kind: str  # row, id, version, digest, definition, score, band, stage, owner, handoff,
    #            violations, sl_status, sl_due_at, sl_elapsed_s, sl_remaining_s, sl_late_s,
    #            recycle_to, recycle_reason, recycle_source, credit_reason, credit_source,
    #            internal
    subject: str | None = None  # the definition, score or service level


@dataclass
class CompiledSql:
    """The decisions query, what its columns are, and the tables it reads."""

    tree: exp.Expr
    dialect: Dialect
    columns: list[Column]
    tables: dict[str, CalendarTable]
    years: tuple[int, int]
    needs_midnights: bool
    internal: dict[str, str] = field(default_factory=dict)
    # With inline lookups: variable name -> (lookup table, column) its list holds.
    variables: dict[str, tuple[str, str]] = field(default_factory=dict)

    def sql(self, pretty: bool = True) -> str:
        return self.dialect.render(self.tree, pretty)


def default_years(now: datetime) -> tuple[int, int]:
    return now.year - 5, now.year + 5


def _levels(spec: AgreementSpec) -> list[list[tuple[str, str]]]:
    """Definitions and scores grouped by dependency depth (validation rules out cycles)."""
    level: dict[tuple[str, str], int] = {}

    def visit(node: tuple[str, str]) -> int:
        if node not in level:
            level[node] = 0  # guards against a cycle validation would have refused
            level[node] = 1 + max((visit(d) for d in references(spec, node)), default=0)
        return level[node]

    for name in spec.scores:
        visit(("score", name))
    for name in spec.definitions:
        visit(("definition", name))
    grouped: dict[int, list[tuple[str, str]]] = {}
    for node, depth in level.items():
        grouped.setdefault(depth, []).append(node)
    return [grouped[k] for k in sorted(grouped)]


class DecisionCompiler:
    def __init__(self, spec: AgreementSpec, d: Dialect, now: datetime,
                 years: tuple[int, int], relation: str, prefix: str,
                 float_values: Mapping[str, str] | None, passthrough: Sequence[str],
                 version: str, digest: str, values: Sequence[str] = (),
                 micros: bool = False, inline_lookups: bool = False, *,
                 extra_columns: Mapping[str, Condition | str] | None = None):
        self.spec, self.d, self.years = spec, d, years
        self.extra_columns = dict(extra_columns or {})
        self.now = now.astimezone(UTC)
        self.tz = ZoneInfo(spec.timezone)
        self.relation, self.prefix = relation, prefix
        self.float_names = float_values
        self.passthrough = list(passthrough)
        self.values = [v for v in values if v in spec.fields]
        self.micros = micros
        self.version, self.digest = version, digest
        self.q = Query(d)
        self.variables: dict[str, tuple[str, str]] = {}
        if inline_lookups:
            if d.name != "duckdb":
                raise ValueError("inline lookups read DuckDB variables")
            self.q.inline = self.lookup
        self.q.reserve([*spec.fields, ROW, *self.passthrough, *(float_values or {}).values()])
        self.check_names()
        self.def_cols: dict[str, str] = {}
        self.score_cols: dict[str, str] = {}

    def check_names(self) -> None:
        seen: dict[str, str] = {}
        for name in [*self.spec.fields, ROW]:
            folded = self.d.key(name)
            if folded in seen:
                what = ("the row number column" if ROW in (name, seen[folded])
                        else f"field `{seen[folded]}`")
                raise Unsupported(f"field `{name}`", f"{self.d.name} takes it for the same "
                                  f"column as {what} (names differ only in case)", self.d.name)
            seen[folded] = name

    def table_name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def lookup(self, table: str, column: str, key: Expr) -> tuple[str, Expr]:
        """Where a lookup table's column is read with `inline_lookups`: the list variable
        and the key's 1-based index (every table's key counts up from 0, the midnights' dates
        from their first day)."""
        variable = f"{table}__{column}"
        self.variables[variable] = (table, column)
        if table == self.table_name("midnights"):
            first, _ = midnight_range(*self.years)
            key = exp.Sub(this=key, expression=self.d.date(first.isoformat()))
        return variable, exp.Add(this=exp.Paren(this=key), expression=exp.Literal.number(1))

    def conditions(self) -> ConditionCompiler:
        return ConditionCompiler(
            self.spec, self.tz, self.now, self.d, self.q.col,
            lambda n: self.q.col(self.def_cols[n]), lambda n: self.q.col(self.score_cols[n]),
            lambda n: self.scores.plans[n].kind, self.micros)

    def compile(self) -> CompiledSql:
        spec, q = self.spec, self.q
        q.start(self.relation, [*spec.fields, ROW, *self.passthrough,
                                *(self.float_names or {}).values()])
        floats = ({f: q.col(c) for f, c in self.float_names.items()}
                  if self.float_names is not None else None)
        self.scores = ScoreCompiler(spec, self.conditions(), q.col, floats)
        conditions = self.conditions()
        internal: dict[str, str] = {}
        for nodes in _levels(spec):
            columns = []
            for kind, name in nodes:
                if kind == "definition":
                    self.def_cols[name] = q.name(f"def__{name}")
                    columns.append((self.def_cols[name],
                                    conditions.compile(spec.definitions[name].when)))
                else:
                    self.score_cols[name] = q.name(f"score__{name}")
                    columns.append((self.score_cols[name], self.scores.total(name)))
            q.add(columns)
        lifecycle = LifecycleCompiler(spec, q.col, lambda n: q.col(self.def_cols[n]))
        facts: list[tuple[str, Expr]] = []
        band_cols, float_cols = {}, {}
        for name in spec.scores:
            band_cols[name] = q.name(f"band__{name}")
            facts.append((band_cols[name], self.scores.band(name, q.col(self.score_cols[name]))))
            is_float = self.scores.is_float(name)
            if is_float is not None:
                float_cols[name] = q.name(f"float__{name}")
                facts.append((float_cols[name], is_float))
        stage_col = q.name("stage__")
        facts.append((stage_col, lifecycle.recorded()))
        applies_cols: dict[str, str] = {}
        for name, level in spec.service_levels.items():
            if level.applies_when is not None:
                applies_cols[name] = q.name(f"applies__{name}")
                facts.append((applies_cols[name], conditions.compile(level.applies_when)))
        rule_cols = {name: q.name(f"recycle__{name}") for name in spec.recycle}
        facts += [(rule_cols[n], conditions.compile(r.when)) for n, r in spec.recycle.items()]
        q.add(facts)

        tables = {name: build(name, cal, spec.timezone, *self.years)
                  for name, cal in spec.calendars.items()
                  if any(level.calendar == name for level in spec.service_levels.values())}
        clocks = ClockCompiler(spec, self.d, q, self.now, tables, self.table_name, self.years,
                               self.micros)
        clocks.plan({n: q.col(c) for n, c in applies_cols.items()})
        outputs: list[ClockOutput] = []
        if clocks.clocks:
            clocks.instants()
            clocks.started()
            clocks.keys()
            clocks.days()
            clocks.lookups()
            clocks.dues()
            clocks.readings()
            outputs = [clocks.output(c) for c in clocks.clocks]

        stage = q.col(stage_col)
        placement = lifecycle.place(stage)
        codes = placement.violations() + [v for o in outputs for v in o.violations]
        recycle = lifecycle.recycle(stage, {n: q.col(c) for n, c in rule_cols.items()})
        credit = lifecycle.credit()
        key = next((n for n, f in spec.fields.items() if f.key), None)
        cols: list[tuple[Column, Expr]] = [
            (Column(ROW, "row"), q.col(ROW)),
            (Column("id", "id"), q.col(key) if key else exp.cast(exp.null(), "VARCHAR")),
            (Column("version", "version"), exp.Literal.string(self.version)),
            (Column("digest", "digest"), exp.Literal.string(self.digest)),
        ]
        cols += [(Column(f"def_{n}", "definition", n), q.col(self.def_cols[n]))
                 for n in spec.definitions]
        for n in spec.scores:
            cols.append((Column(f"score_{n}", "score", n), q.col(self.score_cols[n])))
            cols.append((Column(f"band_{n}", "band", n), q.col(band_cols[n])))
        cols += [(Column("stage", "stage"), stage),
                 (Column("owner", "owner"), lifecycle.owner(stage)),
                 (Column("handoff_to", "handoff"), placement.handoff_to),
                 (Column("violations", "violations"), self.d.compact(codes))]
        for clock, out in zip(clocks.clocks, outputs, strict=True):
            n = clock.name
            cols += [(Column(f"sl_{n}_status", "sl_status", n), out.status),
                     (Column(f"sl_{n}_due_at", "sl_due_at", n), out.due_at),
                     (Column(f"sl_{n}_elapsed_s", "sl_elapsed_s", n), out.elapsed_s),
                     (Column(f"sl_{n}_remaining_s", "sl_remaining_s", n), out.remaining_s),
                     (Column(f"sl_{n}_late_s", "sl_late_s", n), out.late_s)]
        for kind, value in zip(("recycle_to", "recycle_reason", "recycle_source"), recycle,
                               strict=True):
            cols.append((Column(kind, kind), value))
        for kind, value in zip(("credit_reason", "credit_source"), credit, strict=True):
            cols.append((Column(kind, kind), value))
        if self.float_names is not None:  # what the duckdb engine needs for the JSON record
            for n, c in float_cols.items():
                internal[f"float:{n}"] = f"_float_{n}"
                cols.append((Column(f"_float_{n}", "internal", n), q.col(c)))
            for i, (clock, out) in enumerate(zip(clocks.clocks, outputs, strict=True)):
                internal[f"due:{clock.name}"] = f"_due_us_{i}"
                cols.append((Column(f"_due_us_{i}", "internal", clock.name), out.due_us))
                internal[f"oor:{clock.name}"] = f"_oor_{i}"
                cols.append((Column(f"_oor_{i}", "internal", clock.name), out.out_of_range))
                for j, flag in enumerate(out.ignored):
                    name = f"_ignored_{i}_{j}"
                    internal[f"ignored:{clock.name}:{j}"] = name
                    cols.append((Column(name, "internal", clock.name), flag))
            # The codes as one text (the CSV cell), without building a list per row:
            # DuckDB's CONCAT_WS skips NULLs (sqlglot's ConcatWs would make them NULL).
            joined = anon("CONCAT_WS", exp.Literal.string(";"), *(c.copy() for c in codes))
            internal["violation_codes"] = "_violation_codes"
            cols.append((Column("_violation_codes", "internal"), exp.Nullif(
                this=joined, expression=exp.Literal.string(""))))
            cols += [(Column(p, "internal"), q.col(p)) for p in self.passthrough]
            cols += [(Column(f"_value_{v}", "internal", v), q.col(v)) for v in self.values]
        for name, what in self.extra_columns.items():  # what the KPI query reads (`kpis.py`)
            cols.append((Column(name, "extra"), q.col(what) if isinstance(what, str)
                         else conditions.compile(what)))
        self.check_output([c for c, _ in cols])
        # Without joins DuckDB keeps the rows in input order: no sort needed.
        tree = q.finish([(c.name, e) for c, e in cols], None if q.inline else ROW)
        return CompiledSql(tree, self.d, [c for c, _ in cols], tables, self.years,
                           clocks.needs_midnights(), internal, dict(self.variables))

    def check_output(self, columns: list[Column]) -> None:
        seen: set[str] = set()
        for column in columns:
            folded = self.d.key(column.name)
            if folded in seen:
                raise Unsupported(f"the result column `{column.name}`", "two results of the "
                                  "agreement would get the same column name", self.d.name)
            seen.add(folded)


def compile_decisions(spec: AgreementSpec, now: datetime, *, version: str, digest: str,
                      dialect_name: str = "duckdb", years: tuple[int, int] | None = None,
                      relation: str = "leads", prefix: str = TABLE_PREFIX,
                      float_values: Mapping[str, str] | None = None,
                      passthrough: Sequence[str] = (), values: Sequence[str] = (),
                      datetime_micros: bool = False,
                      inline_lookups: bool = False,
                      extra_columns: Mapping[str, Condition | str] | None = None) -> CompiledSql:
    """The decisions of every lead in `relation`, as of `now` (an aware datetime).

    `years` is the range of local years the calendar tables cover (see `calendar.py`);
    `float_values` maps `number` fields to boolean columns saying whether the value was
    read as a fraction (so a score's JSON type matches Python's), and `passthrough`
    columns are carried to the result unchanged, and `datetime_micros` says the relation holds
    datetime fields as epoch microseconds (BIGINT): all three are for the embedded engine.
    So is `inline_lookups`: calendar tables read as DuckDB list variables (see
    `load_calendar_tables`) instead of joined, and rows left in input order, unsorted.
    `extra_columns` adds result columns: name -> a condition (its verdict, never NULL) or a
    column of `relation` (carried as is); the KPI query reads them (`kpis.py`).
    """
    d = dialect(dialect_name)
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware datetime")
    try:
        compiler = DecisionCompiler(spec, d, now, years or default_years(now), relation,
                                    prefix, float_values, passthrough, version, digest,
                                    values, datetime_micros, inline_lookups,
                                    extra_columns=extra_columns)
        return compiler.compile()
    except Unsupported as exc:
        raise exc if exc.dialect else exc.in_dialect(d.name) from None
