"""The per-KPI accumulators: cells keyed by (period, group, mature), and what they add up to."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..agreement.describe import field_label, kpi_formula
from ..agreement.models.sections import Kpi, Target
from ..evaluate.calendars import BusinessCalendar
from ..evaluate.clocks import epoch_seconds
from .periods import PeriodRange, Periods
from .report import KpiResult, KpiValue, PeriodValue

if TYPE_CHECKING:
    from ..evaluate.evaluator import Engine

__all__ = ["MISSING_GROUP", "Plan", "group_text", "meets", "percentile"]

MISSING_GROUP = "(missing)"
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}

def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) of sorted values, interpolating linearly as numpy does."""
    n = len(ordered)
    if n == 0:
        return None
    h = (n - 1) * (p / 100)
    lo = math.floor(h)
    a, b = ordered[lo], ordered[min(lo + 1, n - 1)]
    t, d = h - lo, ordered[min(lo + 1, n - 1)] - ordered[lo]
    return float(a + d * t if t < 0.5 else b - d * (1 - t))


def meets(value: float | None, target: Target | None) -> bool | None:
    if value is None or target is None:
        return None
    return ((target.gte is None or value >= target.gte)
            and (target.lte is None or value <= target.lte))


def group_text(value: Any) -> str:
    """A group's key: the value as text; `true`/`false`; `(missing)` when there is none."""
    if value is None:
        return MISSING_GROUP
    if value.__class__ is str:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


class Cell:
    """The leads of one (period, group, mature) combination of a KPI."""

    __slots__ = ("den", "invalid", "leads", "num", "values")

    def __init__(self) -> None:
        self.leads = self.den = self.num = self.invalid = 0
        self.values: list[Any] = []


def merge(cells: Iterable[Cell]) -> Cell:
    total = Cell()
    for cell in cells:
        total.leads += cell.leads
        total.den += cell.den
        total.num += cell.num
        total.invalid += cell.invalid
        total.values.extend(cell.values)
    return total


# ---------------------------------------------------------------- one KPI


class Plan:
    """One KPI worked out against the compiled agreement, with its cells."""

    def __init__(self, name: str, kpi: Kpi, engine: Engine, extras: Mapping[tuple[str, str], int],
                 now: float, window: PeriodRange | None,
                 calendars: Mapping[str, BusinessCalendar]):
        self.name, self.kpi, self.tz = name, kpi, engine.tz
        self.formula = kpi_formula(engine.spec, kpi)
        self.group_label = field_label(engine.spec, kpi.group_by) if kpi.group_by else None
        self.where = extras.get(("kpi_where", name))
        self.num = extras.get(("kpi_numerator", name))
        self.den = extras.get(("kpi_denominator", name))
        self.cohort = kpi.cohort
        self.periods = Periods(kpi.period, engine.tz) if kpi.period and kpi.cohort else None
        self.maturity_s = kpi.maturity.seconds if kpi.maturity and kpi.cohort else None
        self.mature_before = now - self.maturity_s if self.maturity_s is not None else None
        self.slack = float(self.maturity_s or 0)  # how far past its end a period is read
        self.window = ((window.start.timestamp(), window.end.timestamp())
                       if window is not None and kpi.cohort else None)
        self.group = kpi.group_by
        self.field: str | None = None
        self.duration: tuple[str, str, float, Any] | None = None
        self.clock: int | None = None
        measure = kpi.measure
        self.kind = {"count": "count", "ratio": "ratio", "attainment": "ratio"}.get(measure,
                                                                                   "values")
        if measure in ("sum", "average", "median"):
            self.field = getattr(kpi, measure)
        duration = kpi.median_duration
        if kpi.percentile is not None:
            self.field, duration = kpi.percentile.field, kpi.percentile.duration
        if duration is not None:
            calendar = calendars[duration.calendar] if duration.calendar is not None else None
            self.duration = (duration.from_, duration.to, _UNIT_SECONDS[duration.unit], calendar)
        if kpi.attainment is not None:
            self.clock = engine.clocks.names.index(kpi.attainment)
        self.cells: dict[tuple[str | None, str | None, bool], Cell] = {}

    def instant(self, value: Any) -> float | None:
        return epoch_seconds(value, self.tz)

    def add(self, get: Any, extras: tuple[bool, ...], readings: Sequence[Any]) -> None:
        if self.where is not None and not extras[self.where]:
            return
        period: str | None = None
        mature = True
        if self.cohort is not None:
            raw = get(self.cohort)
            if raw is None:
                return
            epoch = raw.timestamp() if raw.__class__ is datetime else self.instant(raw)
            if epoch is None or (self.window is not None
                                 and not self.window[0] <= epoch < self.window[1]):
                return
            if self.periods is not None:
                period = self.periods.lead_key(epoch, self.slack)
                if period is None:  # at the ends of the calendar: no period holds it
                    return
            if self.mature_before is not None:
                mature = epoch <= self.mature_before
        key = (period, group_text(get(self.group)) if self.group is not None else None, mature)
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = Cell()
        cell.leads += 1
        kind = self.kind
        if kind == "ratio":
            if self.clock is not None:
                status = readings[self.clock].status
                if status == "met":
                    cell.den += 1
                    cell.num += 1
                elif status == "breached":
                    cell.den += 1
            elif extras[self.den]:  # type: ignore[index]
                cell.den += 1
                if extras[self.num]:  # type: ignore[index]
                    cell.num += 1
        elif kind == "values":
            if self.duration is None:
                value = get(self.field)
                if value is not None:
                    cell.values.append(value)
                return
            start_field, end_field, unit, calendar = self.duration
            start, end = self.instant(get(start_field)), self.instant(get(end_field))
            if start is None or end is None:
                return
            if end < start:
                cell.invalid += 1
                return
            if calendar is None:
                cell.values.append((end - start) / unit)
                return
            try:
                cell.values.append(calendar.elapsed(start, end) / unit)
            except ValueError:  # outside the years the calendar covers
                cell.invalid += 1

    def value(self, cell: Cell) -> tuple[int | float | None, int]:
        """(value, measured) of merged cells."""
        kpi, kind = self.kpi, self.kind
        if kind == "count":
            return cell.leads, cell.leads
        if kind == "ratio":
            return (cell.num / cell.den if cell.den else None), cell.den
        values = cell.values
        n = len(values)
        if kpi.sum is not None:
            exact = all(v.__class__ is int for v in values)
            return (sum(values) if exact else math.fsum(values)), n
        if kpi.average is not None:
            return (math.fsum(values) / n if n else None), n
        p = kpi.percentile.p if kpi.percentile is not None else 50
        return percentile(sorted(values), p), n

    def result(self, now: float, window: PeriodRange | None) -> KpiResult:
        kpi, cells = self.kpi, self.cells
        target = kpi.target

        def entry(selected: Iterable[Cell]) -> tuple[KpiValue, Cell]:
            merged = merge(selected)
            value, measured = self.value(merged)
            return KpiValue(value, meets(value, target), merged.leads, measured), merged

        counted = [c for (_, _, mature), c in cells.items() if mature]
        overall, merged = entry(counted)
        immature = sum(c.leads for (_, _, mature), c in cells.items() if not mature)
        by_period: dict[str, PeriodValue] = {}
        if self.periods is not None:
            for period in sorted({k[0] for k in cells if k[0] is not None}):
                got, _ = entry(c for k, c in cells.items() if k[0] == period)
                ripe = (self.maturity_s is None
                        or self.periods.end(period) + self.maturity_s <= now)
                by_period[period] = PeriodValue(got.value, got.met, got.leads, got.measured, ripe)
        by_group: dict[str, KpiValue] = {}
        if self.group is not None:
            groups = sorted({k[1] for k in cells if k[1] is not None},
                            key=lambda g: (g == MISSING_GROUP, g))
            for group in groups:
                selected = [c for k, c in cells.items() if k[1] == group and k[2]]
                if selected:
                    by_group[group] = entry(selected)[0]
        return KpiResult(self.name, kpi, self.formula, overall.value, overall.met, overall.leads,
                         overall.measured, immature, merged.invalid, by_period, by_group,
                         window is None or kpi.cohort is not None, self.group_label)

