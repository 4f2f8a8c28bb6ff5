"""The calendar lookup tables: as SQL (CREATE TABLE and INSERT ... VALUES, per calendar),
loaded into DuckDB, and the years they must cover.

`slaengine sql --what calendar` prints them; the decisions query reads them by name
(`slaengine_calendar_<name>_days`, `_due`, `_bdays`, and `slaengine_midnights` when a clock
starts or stops at a `date` field). Both must be made for the same `--years`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlglot.expressions as exp

from ..agreement.models import AgreementSpec
from ..agreement.models.agreement import condition_roots
from ..agreement.models.conditions import FieldCondition, walk
from ..agreement.models.sections import PerValueRule
from .calendar import (
    BDAY_COLUMNS,
    MIDNIGHT_COLUMNS,
    CalendarTable,
    build,
    day_columns,
    due_columns,
    midnights,
)
from .dialects import Dialect, lit
from .errors import Unsupported

ROWS_PER_INSERT: Final = 500


def _create(d: Dialect, name: str, columns: Sequence[tuple[str, str]]) -> exp.Expr:
    """CREATE TABLE; its first column is the key the queries join on (`d.keys_lookup_tables`)."""
    key = [exp.ColumnConstraint(kind=exp.PrimaryKeyColumnConstraint())]
    schema = exp.Schema(this=exp.Table(this=d.ident(name)), expressions=[
        exp.ColumnDef(this=d.ident(c), kind=exp.DataType.build(t),
                      constraints=key if i == 0 and d.keys_lookup_tables else None)
        for i, (c, t) in enumerate(columns)])
    return exp.Create(this=schema, kind="TABLE")


def _value(d: Dialect, value: Any) -> exp.Expr:
    if isinstance(value, date):
        return d.date(value.isoformat())
    return lit(value)


def _inserts(d: Dialect, name: str, rows: Sequence[Sequence[Any]]) -> Iterator[exp.Expr]:
    table = exp.Table(this=d.ident(name))
    for i in range(0, len(rows), ROWS_PER_INSERT):
        values = exp.Values(expressions=[
            exp.Tuple(expressions=[_value(d, v) for v in row])
            for row in rows[i:i + ROWS_PER_INSERT]])
        yield exp.Insert(this=table, expression=values)


def table_rows(table: CalendarTable) -> dict[str, tuple[list[str], Sequence[Sequence[Any]]]]:
    """Each lookup table of a calendar: suffix -> (columns, rows)."""
    return {"days": (day_columns(table), table.days),
            "due": (due_columns(table), table.due),
            "bdays": (BDAY_COLUMNS, table.bdays())}


def calendar_tables(spec: AgreementSpec, years: tuple[int, int]) -> dict[str, CalendarTable]:
    return {name: build(name, cal, spec.timezone, *years) for name, cal in spec.calendars.items()}


def calendar_statements(spec: AgreementSpec, d: Dialect, years: tuple[int, int],
                        prefix: str, with_midnights: bool) -> Iterator[exp.Expr]:
    """CREATE TABLE and INSERT statements of every calendar's lookup tables."""
    if not spec.calendars and not with_midnights:
        raise Unsupported("`--what calendar`", "the agreement has no calendars", d.name)
    for table in calendar_tables(spec, years).values():
        for suffix, (columns, rows) in table_rows(table).items():
            name = f"{prefix}calendar_{table.name}_{suffix}"
            yield _create(d, name, [(c, "BIGINT") for c in columns])
            yield from _inserts(d, name, rows)
    if with_midnights:
        name = f"{prefix}midnights"
        yield _create(d, name, list(zip(MIDNIGHT_COLUMNS, ("DATE", "BIGINT"), strict=True)))
        yield from _inserts(d, name, midnights(spec.timezone, *years))


def load_calendar_tables(con: Any, compiled: Any, timezone: str) -> None:
    """Create the calendar lookup tables (and the midnights table) a `CompiledSql` joins,
    on a DuckDB connection, and the list variables it reads instead when its lookups are
    inline (`compiled.variables`)."""
    loaded: dict[str, tuple[list[str], Sequence[Sequence[Any]]]] = {}
    for table in compiled.tables.values():
        for suffix, (columns, rows) in table_rows(table).items():
            name = f"slaengine_calendar_{table.name}_{suffix}"
            load_table(con, name, columns, ["BIGINT"] * len(columns), rows)
            loaded[name] = (columns, rows)
    if compiled.needs_midnights:
        rows = midnights(timezone, *compiled.years)
        load_table(con, "slaengine_midnights", MIDNIGHT_COLUMNS, ["DATE", "BIGINT"], rows)
        loaded["slaengine_midnights"] = (MIDNIGHT_COLUMNS, rows)
    for variable, (name, column) in compiled.variables.items():
        columns, rows = loaded[name]
        # The list's i-th item is the row of key i - 1: keys count up from 0 (dates by day).
        assert all(row[0] == i for i, row in enumerate(rows)) or name.endswith("midnights")
        index = columns.index(column)
        con.execute(f"SET VARIABLE {variable} = ?::BIGINT[]", [[row[index] for row in rows]])


def load_table(con: Any, name: str, columns: list[str], types: list[str], rows: Any) -> None:
    """A temporary table of `rows` (tuples in `columns` order)."""
    spec = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types, strict=True))
    con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" ({spec})')
    # One statement: each column as a list parameter, unnested side by side.
    values = ", ".join(f"UNNEST(${i + 1})" for i in range(len(columns)))
    con.execute(f'INSERT INTO "{name}" SELECT {values}',
                [list(column) for column in zip(*rows, strict=True)] if rows
                else [[] for _ in columns])


def years_for(spec: Any, low: int, high: int) -> tuple[int, int]:
    """The local years calendar tables must cover for clock times in years `low..high`
    (and `now`): a year either side, and far enough after for the longest allowance."""
    return _years_for(spec, max(low - 1, 1900), min(high + 1, 2200))


def longest_allowances(spec: Any) -> dict[str, tuple[int, int]]:
    """Per calendar: the longest allowance of open time (seconds) and of business days."""
    longest: dict[str, tuple[int, int]] = {}
    for level in spec.service_levels.values():
        if level.calendar:
            seconds, days = longest.get(level.calendar, (0, 0))
            if level.within.is_business_days:
                days = max(days, level.within.amount)
            else:
                seconds = max(seconds, level.within.seconds)
            longest[level.calendar] = (seconds, days)
    return longest


def _years_for(spec: Any, first: int, last: int) -> tuple[int, int]:
    """`(first, last)` widened until, after local year `last`, every calendar still has
    the longest allowance of open time and business days to spare."""
    end = last
    for name, (seconds, days) in longest_allowances(spec).items():
        extra = _extra_years(spec, name, first, last, max(end - last, 1), seconds, days)
        end = max(end, last + extra)
    return first, min(max(end, last), 2200)


def _extra_years(spec: Any, name: str, first: int, last: int, least: int, seconds: int,
                 days: int) -> int:
    """The fewest years (at least `least`) after `last` that hold `seconds` of open time and
    more than `days` business days of calendar `name`; `2200 - last` when none before 2200
    do. Each table covers every year again, so the years built double until they hold the
    allowance, and the fewest are then read from that one table."""
    def enough(table: CalendarTable, extra: int) -> bool:
        boundary = _local_new_year(table.timezone_name, last + 1)
        stop = _local_new_year(table.timezone_name, last + extra + 1)
        open_after = table.before(stop) - table.before(boundary)
        days_after = bisect_left(table.day_opens, stop) - bisect_left(table.day_opens, boundary)
        return open_after >= seconds * 1_000_000 and days_after > days

    cap = 2200 - last  # the extras tried stay below it, as the calendars end at 2200
    failed, extra = least - 1, least
    while extra < cap:
        table = build(name, spec.calendars[name], spec.timezone, first, last + extra)
        if enough(table, extra):
            return next(e for e in range(failed + 1, extra + 1) if enough(table, e))
        failed, extra = extra, min(2 * extra, cap - 1) if extra < cap - 1 else cap
    return extra


def _local_new_year(timezone: str, year: int) -> int:
    moment = datetime(year, 1, 1, tzinfo=ZoneInfo(timezone))
    return (moment - EPOCH) // timedelta(microseconds=1)


def needed_fields(spec: Any) -> list[str]:
    """The fields whose values the decisions read (the others are only checked)."""
    found: set[str] = set()
    for root, _ in condition_roots(spec):
        found.update(n.field for n, _ in walk(root) if isinstance(n, FieldCondition))
    for score in spec.scores.values():
        found.update(r.field for r in score.rules if isinstance(r, PerValueRule))
    found.update(s.entered_at for s in spec.stages if s.entered_at)
    found.update(f for level in spec.service_levels.values() for f in (level.start, *level.stop))
    found.update((spec.stage_field, spec.disposition_field))
    if spec.lead_guarantee is not None:
        found.add(spec.lead_guarantee.handoff)
    found.update(n for n, f in spec.fields.items() if f.key)
    return [n for n in spec.fields if n in found]


EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
