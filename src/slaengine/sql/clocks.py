"""Service-level clocks in SQL: status, due time and elapsed business time, as `clocks.py`.

A clock starts at `start`, stops at the earliest `stop` that is not before the start (stops
before it are flagged), and counts open time on its calendar (see `calendar.py` for the
lookup tables) or on the wall clock. All arithmetic is in whole microseconds, so due and
elapsed times match the Python calendar to the microsecond.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final

import sqlglot.expressions as exp

from ..agreement.models import AgreementSpec
from ..agreement.models.sections import ServiceLevel
from .calendar import DAY, SECOND, WALL_HI, WALL_LO, CalendarTable, midnight_range, midnights
from .dialects import Dialect, anon, cast, lit
from .numbers import double
from .query import Join, Query

Expr = exp.Expr
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
FAR: Final = 2**62  # beyond every instant: stands for "no stop" and for dates past the tables


def _case(*pairs: tuple[Expr, Expr], default: Expr | None = None) -> Expr:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in pairs], default=default)


def _null(value: Expr) -> Expr:
    return exp.Is(this=value, expression=exp.null())


def _present(value: Expr) -> Expr:
    return exp.Not(this=_null(value))


def _div_exact(value: Expr, by: int) -> Expr:
    """`value div by` for a non-negative whole number: exact in every dialect."""
    # sqlglot writes the tree as built, without adding parentheses: bracket the operand.
    value = exp.Paren(this=value)
    whole = exp.Sub(this=value, expression=exp.Mod(this=value.copy(), expression=lit(by)))
    return cast(exp.Div(this=exp.Paren(this=whole), expression=lit(by)), "BIGINT")


def seconds(value_us: Expr) -> Expr:
    """Microseconds as DOUBLE seconds (whole seconds exactly), parenthesised: sqlglot leaves
    `a * (b / c)` unbracketed, which SQL reads as `(a * b) / c`."""
    return exp.Paren(this=exp.Div(this=cast(value_us, "DOUBLE"),
                                  expression=double(float(SECOND))))


@dataclass
class Clock:
    """One service level's columns, filled in step by step."""

    name: str
    level: ServiceLevel
    table: CalendarTable | None
    applies: Expr
    allowance_us: int | None  # fixed allowance; None for business days
    business_days: int | None
    cols: dict[str, str] = field(default_factory=dict)


@dataclass
class ClockOutput:
    status: Expr
    due_us: Expr
    due_at: Expr
    elapsed_s: Expr
    remaining_s: Expr
    late_s: Expr
    violations: list[Expr]
    ignored: list[Expr]  # per stop field: was it before the start (and so ignored)
    out_of_range: Expr


class ClockCompiler:
    def __init__(self, spec: AgreementSpec, d: Dialect, q: Query, now: datetime,
                 tables: dict[str, CalendarTable], names: Callable[[str], str],
                 years: tuple[int, int], micros: bool = False):
        self.spec, self.d, self.q, self.tables = spec, d, q, tables
        self.now = (now - EPOCH) // timedelta(microseconds=1)
        self.table_name = names
        self.years = years
        self.micros = micros
        self.clocks: list[Clock] = []
        self.instant_cols: dict[str, str] = {}

    def plan(self, applies: dict[str, Expr]) -> None:
        for name, level in self.spec.service_levels.items():
            table = self.tables[level.calendar] if level.calendar else None
            bd = level.within.amount if level.within.is_business_days else None
            allowance = None if bd is not None else level.within.seconds * SECOND
            self.clocks.append(Clock(name, level, table, applies.get(name, exp.true()),
                                     allowance, bd))

    # ---- step 1: every clock field as epoch microseconds

    def instants(self) -> None:
        fields = sorted({f for c in self.clocks for f in (c.level.start, *c.level.stop)})
        columns, joins = [], []
        for name in fields:
            column = self.q.col(name)
            out = self.q.name(f"us__{name}")
            self.instant_cols[name] = out
            if self.spec.fields[name].type == "datetime":
                columns.append((out, column if self.micros else self.d.epoch_us(column)))
                continue
            first, last = midnight_range(*self.years)
            alias = self.q.name(f"m__{name}")
            joins.append(Join(self.table_name("midnights"), alias, exp.EQ(
                this=self.q.joined(alias, "day"), expression=column)))
            columns.append((out, _case(
                (exp.LT(this=column, expression=self.d.date(first.isoformat())), lit(-FAR)),
                (exp.GT(this=column, expression=self.d.date(last.isoformat())), lit(FAR)),
                default=self.q.joined(alias, "midnight_us"))))
        self.q.add(columns, joins)

    def needs_midnights(self) -> bool:
        return any(self.spec.fields[f].type == "date" for c in self.clocks
                   for f in (c.level.start, *c.level.stop))

    def midnight_rows(self) -> list[tuple[date, int]]:
        return midnights(self.spec.timezone, *self.years)

    # ---- step 2: start, earliest valid stop, ignored stops, day keys

    def bounds(self, clock: Clock) -> tuple[int, int]:
        return (clock.table.lo, clock.table.hi) if clock.table else (WALL_LO, WALL_HI)

    def started(self) -> None:
        """Whether each clock applies and has its start: most leads have no clock running,
        and every later step computes a clock's columns for the leads it started for alone
        (a CASE evaluates its branch only for the rows that take it)."""
        columns: list[tuple[str, Expr]] = []
        for i, clock in enumerate(self.clocks):
            start = self.q.col(self.instant_cols[clock.level.start])
            clock.cols["started"] = self.q.name(f"sl{i}__started")
            columns.append((clock.cols["started"], exp.and_(clock.applies, _present(start))))
        self.q.add(columns)

    def keys(self) -> None:
        columns: list[tuple[str, Expr]] = []
        for i, clock in enumerate(self.clocks):
            start = self.q.col(self.instant_cols[clock.level.start])
            started = self.q.col(clock.cols["started"])
            lo, hi = self.bounds(clock)
            valid = []
            for j, stop_field in enumerate(clock.level.stop):
                at = self.q.col(self.instant_cols[stop_field])
                ignored = exp.Coalesce(this=exp.LT(this=at, expression=start),
                                       expressions=[exp.false()])
                clock.cols[f"ign{j}"] = self.q.name(f"sl{i}__ignored{j}")
                columns.append((clock.cols[f"ign{j}"], _case((started.copy(), ignored),
                                                             default=exp.false())))
                valid.append(exp.Coalesce(this=_case((exp.GTE(this=at, expression=start), at)),
                                          expressions=[lit(FAR)]))
            # The stops are never NULL here (FAR stands for none): a plain LEAST, without
            # the NULL guard sqlglot wraps around its Least for DuckDB.
            earliest = valid[0] if len(valid) == 1 else anon("LEAST", *valid)
            stop = exp.Nullif(this=earliest, expression=lit(FAR))
            clock.cols["stop"] = self.q.name(f"sl{i}__stop")
            columns.append((clock.cols["stop"], _case((started.copy(), stop))))
            in_range = exp.and_(exp.GTE(this=start, expression=lit(lo)),
                                exp.LT(this=start, expression=lit(hi)))
            clock.cols["in_range"] = self.q.name(f"sl{i}__in_range")
            columns.append((clock.cols["in_range"], _case(
                (started.copy(), exp.Coalesce(this=in_range, expressions=[exp.false()])),
                default=exp.false())))
        self.q.add(columns)

    def days(self) -> None:
        """The calendar days of start and stop, for the clocks that started in range: only
        those read the calendar, so the lookups are computed for their leads alone."""
        columns: list[tuple[str, Expr]] = []
        for i, clock in enumerate(self.clocks):
            if clock.table is None:
                continue
            start = self.q.col(self.instant_cols[clock.level.start])
            stop = self.q.col(clock.cols["stop"])
            counted = self.q.col(clock.cols["in_range"])  # FALSE unless started
            base = clock.table.base
            clock.cols["start_day"] = self.q.name(f"sl{i}__start_day")
            columns.append((clock.cols["start_day"], _case(
                (counted, _div_exact(exp.Sub(this=start, expression=lit(base)), DAY)))))
            stop_in = exp.and_(counted.copy(), exp.LTE(this=stop, expression=lit(
                self.bounds(clock)[1])))
            clock.cols["stop_day"] = self.q.name(f"sl{i}__stop_day")
            columns.append((clock.cols["stop_day"], _case(
                (stop_in, _div_exact(exp.Sub(this=stop.copy(), expression=lit(base)), DAY)))))
        self.q.add(columns)

    # ---- step 3: open time before start and stop; the due time's key

    def before(self, t: Expr, alias: str, table: CalendarTable) -> Expr:
        total: Expr = self.q.joined(alias, "before_us")
        for k in range(1, table.pieces + 1):
            s, e = self.q.joined(alias, f"s{k}"), self.q.joined(alias, f"e{k}")
            total = exp.Add(this=total, expression=_case(
                (exp.LTE(this=t, expression=s), lit(0)),
                (exp.GTE(this=t, expression=e), exp.Sub(this=e, expression=s)),
                default=exp.Sub(this=t, expression=s)))
        return total

    def lookups(self) -> None:
        columns: list[tuple[str, Expr]] = []
        joins: list[Join] = []
        for i, clock in enumerate(self.clocks):
            table = clock.table
            if table is None:
                continue
            days = self.table_name(f"calendar_{table.name}_days")
            start_alias, stop_alias = self.q.name(f"j{i}s"), self.q.name(f"j{i}e")
            for alias, role in ((start_alias, "start_day"), (stop_alias, "stop_day")):
                joins.append(Join(days, alias, exp.EQ(this=self.q.joined(alias, "day"),
                                                      expression=self.q.col(clock.cols[role]))))
            start = self.q.col(self.instant_cols[clock.level.start])
            counted = _present(self.q.col(clock.cols["start_day"]))
            before_start = _case((counted, self.before(start, start_alias, table)))
            clock.cols["before_start"] = self.q.name(f"sl{i}__before_start")
            columns.append((clock.cols["before_start"], before_start))
            clock.cols["before_stop"] = self.q.name(f"sl{i}__before_stop")
            columns.append((clock.cols["before_stop"], _case(
                (_present(self.q.col(clock.cols["stop_day"])),
                 self.before(self.q.col(clock.cols["stop"]), stop_alias, table)))))
            if clock.allowance_us is not None:
                target: Expr = exp.Add(this=before_start, expression=lit(clock.allowance_us))
                clock.cols["target"] = self.q.name(f"sl{i}__target")
                columns.append((clock.cols["target"], target))
                key: Expr = _div_exact(exp.Sub(this=target, expression=lit(1)), table.width)
            else:
                assert clock.business_days is not None
                index: Expr = self.q.joined(start_alias, "bdays_before")
                for k in range(1, table.opens + 1):
                    after = exp.GT(this=start, expression=self.q.joined(start_alias, f"o{k}"))
                    index = exp.Add(this=index, expression=_case((after, lit(1)),
                                                                 default=lit(0)))
                key = exp.Add(this=index, expression=lit(clock.business_days - 1))
            clock.cols["due_key"] = self.q.name(f"sl{i}__due_key")
            columns.append((clock.cols["due_key"], _case((counted.copy(), key))))
        self.q.add(columns, joins)

    # ---- step 4: the due time

    def dues(self) -> None:
        columns: list[tuple[str, Expr]] = []
        joins: list[Join] = []
        for i, clock in enumerate(self.clocks):
            table = clock.table
            start = self.q.col(self.instant_cols[clock.level.start])
            clock.cols["due"] = self.q.name(f"sl{i}__due")
            if table is None:
                assert clock.allowance_us is not None
                columns.append((clock.cols["due"],
                                exp.Add(this=start, expression=lit(clock.allowance_us))))
                continue
            alias = self.q.name(f"j{i}d")
            key = self.q.col(clock.cols["due_key"])
            if clock.allowance_us is not None:
                joins.append(Join(self.table_name(f"calendar_{table.name}_due"), alias,
                                  exp.EQ(this=self.q.joined(alias, "bucket"), expression=key)))
                target = self.q.col(clock.cols["target"])
                pairs = []
                for k in range(1, table.candidates + 1):
                    c, s, length = (self.q.joined(alias, f"{p}{k}") for p in ("c", "s", "l"))
                    reached = exp.LTE(this=target, expression=exp.Add(this=c, expression=length))
                    pairs.append((reached, exp.Add(this=s, expression=exp.Paren(
                        this=exp.Sub(this=target, expression=c)))))
                columns.append((clock.cols["due"], _case((_present(key.copy()),
                                                          _case(*pairs)))))
            else:
                joins.append(Join(self.table_name(f"calendar_{table.name}_bdays"), alias,
                                  exp.EQ(this=self.q.joined(alias, "n"), expression=key)))
                counted = _present(key.copy())
                columns.append((clock.cols["due"], _case(
                    (counted, self.q.joined(alias, "close_us")))))
                clock.cols["due_before"] = self.q.name(f"sl{i}__due_before")
                columns.append((clock.cols["due_before"], _case(
                    (counted.copy(), self.q.joined(alias, "close_before_us")))))
        self.q.add(columns, joins)

    # ---- step 5: whether each clock runs, its elapsed time and allowance

    def readings(self) -> None:
        columns: list[tuple[str, Expr]] = []
        col = self.q.col
        now = lit(self.now)
        for i, clock in enumerate(self.clocks):
            start = col(self.instant_cols[clock.level.start])
            stop, due = col(clock.cols["stop"]), col(clock.cols["due"])
            lo, hi = self.bounds(clock)
            running_late = exp.and_(exp.GT(this=now, expression=start),
                                    exp.GT(this=now, expression=lit(hi)))
            out_of_range = exp.or_(
                exp.Not(this=col(clock.cols["in_range"])), _null(due),
                exp.GT(this=due, expression=lit(hi)) if clock.table is None else exp.false(),
                exp.and_(_present(stop), exp.GT(this=stop, expression=lit(hi))),
                exp.and_(_null(stop), running_late))
            started = col(clock.cols["started"])
            oor = _case((started, exp.Paren(this=out_of_range)), default=exp.false())
            runs = _case((started.copy(), exp.Not(this=exp.Paren(this=out_of_range.copy()))),
                         default=exp.false())
            if clock.table is None:
                elapsed: Expr = _case(
                    (_present(stop), exp.Sub(this=stop, expression=start)),
                    (exp.LTE(this=now, expression=start), lit(0)),
                    default=exp.Sub(this=now, expression=start))
            else:
                before_start = col(clock.cols["before_start"])
                before_now = clock.table.before(min(max(self.now, lo), hi))
                elapsed = _case(
                    (_present(stop), exp.Sub(this=col(clock.cols["before_stop"]),
                                             expression=before_start)),
                    (exp.LTE(this=now, expression=start), lit(0)),
                    default=exp.Sub(this=lit(before_now), expression=before_start))
            if clock.allowance_us is not None:
                allowance: Expr = lit(clock.allowance_us)
            else:
                allowance = exp.Sub(this=col(clock.cols["due_before"]),
                                    expression=col(clock.cols["before_start"]))
            elapsed = _case((started.copy(), elapsed))
            for key, value in (("runs", runs), ("out_of_range", oor), ("elapsed", elapsed),
                               ("allowance", allowance)):
                clock.cols[key] = self.q.name(f"sl{i}__{key}")
                columns.append((clock.cols[key], value))
        self.q.add(columns)

    # ---- the results

    def output(self, clock: Clock) -> ClockOutput:
        col = self.q.col
        due, runs = col(clock.cols["due"]), col(clock.cols["runs"])
        elapsed, allowance = col(clock.cols["elapsed"]), col(clock.cols["allowance"])
        warn = clock.level.warn_at
        at_risk = (exp.GTE(this=seconds(elapsed), expression=exp.Mul(
            this=double(warn), expression=seconds(allowance))) if warn is not None
            else exp.false())
        live = _case((_present(col(clock.cols["stop"])),
                      _case((exp.LTE(this=elapsed, expression=allowance),
                             exp.Literal.string("met")), default=exp.Literal.string("breached"))),
                     (exp.GT(this=elapsed, expression=allowance),
                      exp.Literal.string("breached")),
                     (at_risk, exp.Literal.string("at_risk")),
                     default=exp.Literal.string("running"))
        status = _case((exp.Not(this=clock.applies), exp.Literal.string("not_applicable")),
                       (exp.Not(this=runs), exp.Literal.string("not_started")),
                       default=live)
        left = exp.Paren(this=exp.Sub(this=allowance, expression=elapsed))
        violations = [_case((col(clock.cols["out_of_range"]),
                             exp.Literal.string("clock-out-of-range")))]
        ignored: list[Expr] = [exp.and_(runs, col(clock.cols[f"ign{j}"]))
                   for j in range(len(clock.level.stop))]
        violations += [_case((flag, exp.Literal.string("clock-stop-before-start")))
                       for flag in ignored]
        return ClockOutput(
            status, _case((runs, due)),
            _case((runs, self.d.from_epoch_us(due))),
            _case((runs, seconds(elapsed))),
            _case((runs, _case((exp.GTE(this=left, expression=lit(0)), seconds(left)),
                               default=double(0.0)))),
            _case((exp.and_(runs, exp.LT(this=left, expression=lit(0))),
                   seconds(exp.Sub(this=elapsed, expression=allowance)))),
            violations, ignored, col(clock.cols["out_of_range"]))
