"""The shared KPIs and the calibration of the scoring model, computed in one pass over leads.

`compute_kpis(engine, leads, now, period=None)` (or `agreement.kpis(leads, now=...)`) reads
each lead once, evaluates it with an engine built for KPIs (`Engine.for_kpis()`: every `where`,
ratio and calibration condition is compiled into the agreement's generated function) and adds
it to small per-KPI cells keyed by (period, group, mature); values, periods and groups are
worked out from those cells at the end. Pure: no I/O, `now` is explicit.

Semantics (the RevOps reading of `kpis.yaml`):

* **Scope.** A lead is in scope of a KPI when its `where` holds (every lead when there is
  none) and, when the KPI has a `cohort`, that timestamp is recorded. A record that cannot be
  read at all is never in scope (`KpiReport.unreadable` counts them); a record with some bad
  values is evaluated with those values missing, as everywhere in slaengine.
* **Measures.** `count`: leads in scope. `ratio`: of the leads in scope, the denominator
  counts those meeting `denominator`, the numerator those also meeting `numerator`; no value
  (None, never an error) when the denominator is 0. `sum`, `average`, `median`: of a numeric
  field over the leads in scope where it is recorded (the sum of none is 0; the average and
  median of none have no value). `percentile`: the p-th percentile with linear interpolation
  between closest ranks (numpy's and pandas' default), of a field or of a duration.
  `median_duration`: `to - from` of the leads with both timestamps; a negative duration is bad
  data, left out and counted as `invalid`. Durations are wall-clock seconds divided by the unit
  (m = 60 s, h = 3,600 s, d = 86,400 s, w = 7 d), or on a `calendar` its business seconds
  divided the same way: on a calendar `d` means 24 business hours, not a business day.
  `attainment`: met / (met + breached) of the service level's clock among the leads in scope;
  no value when none was met or breached.
* **Periods.** The cohort timestamp in the agreement's timezone gives `2026-10` (month),
  `2026-Q4` (quarter) or `2026-W43` (ISO week of the ISO year). A date field counts from its
  local midnight.
* **Maturity.** A lead is mature when its cohort timestamp is at least `maturity` before
  `now`. With a maturity, `value`, `met` and `by_group` use mature leads only (`immature`
  counts the ones left out); `by_period` lists every period with the value of all its leads
  and `mature` true only when the period's end plus the maturity has passed: a recent cohort
  is marked as still converting, not reported as low.
* **Targets.** `met` is value >= `gte` and/or value <= `lte`; None without a target or a value.
  The same for each period and each group.
* **Groups.** `by_group` is keyed by the field's value as text (`true`/`false` for booleans),
  `(missing)` for leads without one; a group with no lead in scope does not appear, and a group
  whose denominator is 0 has no value.
* **`period=`** (`--period 2026-10`, `2026-Q4` or `2026-W43`): only leads whose cohort falls in
  that period count, whatever the KPI's own period; a quarterly KPI then shows those leads under
  their quarter. A KPI without a cohort cannot be restricted: it is reported over all leads
  (`KpiResult.period_applied` is False) and the renderers say so.
* **Calibration** (`scores.<name>.calibration`): for each band, the mature leads in the band
  (scope: cohort recorded, at least `maturity` old, within `period=` when given), how many are
  `converted`, the actual rate, the band's `expected_conversion` and the difference; a band is
  flagged when |actual - expected| > `tolerance` and it holds at least `min_leads` leads, and
  marked "too few leads" below that. The band is the lead's band as evaluated at `now`, on the
  record as it is now (a score that decays with inactivity reads lower than at handoff time).

`KpiReport.to_json()` is the `kpis --format json` document: `{kpi_id: {"title", "unit",
"value", "target": {"gte"?, "lte"?} | null, "met", "leads", "measured", "immature", "invalid",
"by_period": {period: {"value", "met", "leads", "measured", "mature"}}, "by_group": {group:
{"value", "met", "leads", "measured"}}}}`, KPI ids as the only top-level keys. `leads` counts the
leads in scope behind the value (mature ones when the KPI has a maturity); `measured` those the
value is taken over (the denominator of a ratio, met + breached of an attainment, the leads
with a value for a sum, average, median, percentile or duration; `leads` for a count).
With `calibration=True` it is `{"kpis": {...}, "calibration": {score: {...}}}` instead.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any

from .calendars import BusinessCalendar
from .describe import describe_inline, field_label, kpi_formula
from .leads import RawRecord
from .models.common import Duration
from .models.sections import Band, Kpi, Target

if TYPE_CHECKING:
    from .evaluator import Engine

__all__ = ["BandCalibration", "KpiReport", "KpiResult", "KpiValue", "PeriodRange",
           "ScoreCalibration", "compute_kpis", "parse_period", "percentile"]

MISSING_GROUP = "(missing)"
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_PERIOD_TEXT = {
    "month": re.compile(r"(\d{4})-(0[1-9]|1[0-2])"),
    "quarter": re.compile(r"(\d{4})-Q([1-4])"),
    "week": re.compile(r"(\d{4})-W(\d{2})"),
}


# ---------------------------------------------------------------- periods


def _period_start(kind: str, year: int, number: int, tz: tzinfo) -> float:
    """Epoch of the first instant of month, quarter or ISO week `number` of `year`."""
    if kind == "week":
        day = date.fromisocalendar(year, number, 1)
    else:
        day = date(year, number if kind == "month" else 3 * number - 2, 1)
    return datetime.combine(day, time(0), tz).timestamp()


def _periods_of_year(kind: str, year: int) -> range:
    if kind == "month":
        return range(1, 13)
    if kind == "quarter":
        return range(1, 5)
    return range(1, date(year, 12, 28).isocalendar()[1] + 1)  # 28 Dec is in the last week


def _key(kind: str, year: int, number: int) -> str:
    return {"month": f"{year:04d}-{number:02d}", "quarter": f"{year:04d}-Q{number}",
            "week": f"{year:04d}-W{number:02d}"}[kind]


@dataclass(frozen=True)
class PeriodRange:
    """One month, quarter or ISO week in the agreement's timezone: `[start, end)`."""

    kind: str
    key: str
    start: datetime
    end: datetime


def parse_period(text: str, tz: tzinfo) -> PeriodRange:
    """`2026-10`, `2026-Q4` or `2026-W43` as a range in `tz`; ValueError for anything else."""
    for kind, pattern in _PERIOD_TEXT.items():
        found = pattern.fullmatch(text.strip())
        if found is None:
            continue
        year, number = int(found.group(1)), int(found.group(2))
        if kind == "week" and not 1 <= number <= len(_periods_of_year(kind, year)):
            raise ValueError(f"{year} has no ISO week {number}")
        start = _period_start(kind, year, number, tz)
        last = len(_periods_of_year(kind, year))
        end = (_period_start(kind, year + 1, 1, tz) if number == last
               else _period_start(kind, year, number + 1, tz))
        return PeriodRange(kind, _key(kind, year, number), datetime.fromtimestamp(start, UTC),
                           datetime.fromtimestamp(end, UTC))
    raise ValueError(f"`{text}` is not a period; write a month `2026-10`, a quarter "
                     "`2026-Q4` or an ISO week `2026-W43`")


def _local(epoch: float, tz: tzinfo) -> datetime:
    """Local time of an epoch; at the ends of the datetime range, UTC or the range's end."""
    try:
        return datetime.fromtimestamp(epoch, tz)
    except (OverflowError, ValueError, OSError):
        try:
            return datetime.fromtimestamp(epoch, UTC)
        except (OverflowError, ValueError, OSError):
            return datetime.min if epoch < 0 else datetime.max


class _Periods:
    """The period key of an epoch by binary search over period starts, built a few years at a
    time as timestamps need them (a timezone conversion per lead would cost far more)."""

    def __init__(self, kind: str, tz: tzinfo):
        self.kind, self.tz = kind, tz
        self.years = (0, -1)
        self.starts: list[float] = []
        self.keys: list[str] = []
        self.ends: dict[str, float] = {}

    def key(self, epoch: float) -> str:
        starts = self.starts
        if not starts or not starts[0] <= epoch < starts[-1]:
            self._cover(epoch)
            starts = self.starts
            if not starts or not starts[0] <= epoch < starts[-1]:
                local = _local(epoch, self.tz)
                if self.kind == "week":
                    return _key("week", *local.isocalendar()[:2])
                return _key(self.kind, local.year, local.month if self.kind == "month"
                            else (local.month + 2) // 3)
        return self.keys[bisect_right(starts, epoch) - 1]

    def end(self, key: str) -> float:
        if key not in self.ends:
            try:
                self.ends[key] = parse_period(key, self.tz).end.timestamp()
            except (ValueError, OverflowError):  # the year 9999 has no end here
                self.ends[key] = math.inf
        return self.ends[key]

    def _cover(self, epoch: float) -> None:
        year = _local(epoch, UTC).year
        if not 1900 <= year <= 2200:  # bad data far out: worked out directly, not tabled
            return
        first, last = self.years
        first, last = (year - 2, year + 2) if first > last else (min(first, year - 2),
                                                                 max(last, year + 2))
        starts, keys = [], []
        for y in range(first, last + 1):
            for n in _periods_of_year(self.kind, y):
                starts.append(_period_start(self.kind, y, n, self.tz))
                keys.append(_key(self.kind, y, n))
        starts.append(_period_start(self.kind, last + 1, 1, self.tz))
        self.starts, self.keys, self.years = starts, keys, (first, last)
        self.ends = {k: starts[i + 1] for i, k in enumerate(keys)}


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class KpiValue:
    """A KPI's value over some leads, and whether it meets the target."""

    value: int | float | None
    met: bool | None
    leads: int
    measured: int

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "met": self.met, "leads": self.leads,
                "measured": self.measured}


@dataclass(frozen=True)
class PeriodValue(KpiValue):
    """One period's value; `mature` once the period's end plus the maturity has passed."""

    mature: bool = True

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "mature": self.mature}


@dataclass(frozen=True)
class KpiResult:
    """One KPI over the leads: overall, per period (oldest first) and per group."""

    id: str
    kpi: Kpi
    formula: str
    value: int | float | None
    met: bool | None
    leads: int
    measured: int
    immature: int  # leads in scope left out of `value` because they are not mature yet
    invalid: int   # leads in scope with a negative (or uncountable) duration
    by_period: dict[str, PeriodValue]
    by_group: dict[str, KpiValue]
    period_applied: bool = True  # False: `period=` was given but the KPI has no cohort
    group_label: str | None = None  # the `group_by` field's title

    @property
    def title(self) -> str:
        return self.kpi.title

    @property
    def unit(self) -> str | None:
        return self.kpi.unit

    @property
    def target(self) -> Target | None:
        return self.kpi.target

    def to_json(self) -> dict[str, Any]:
        target = self.kpi.target
        return {"title": self.title, "unit": self.unit, "value": self.value,
                "target": target.model_dump(exclude_none=True) if target else None,
                "met": self.met, "leads": self.leads, "measured": self.measured,
                "immature": self.immature, "invalid": self.invalid,
                "by_period": {k: v.to_json() for k, v in self.by_period.items()},
                "by_group": {k: v.to_json() for k, v in self.by_group.items()}}


@dataclass(frozen=True)
class BandCalibration:
    """How one band converted against what the agreement expects of it."""

    label: str
    leads: int
    converted: int
    actual: float | None
    expected: float | None
    difference: float | None
    flagged: bool
    too_few: bool

    def to_json(self) -> dict[str, Any]:
        return {"leads": self.leads, "converted": self.converted, "actual": self.actual,
                "expected": self.expected, "difference": self.difference,
                "flagged": self.flagged, "too_few_leads": self.too_few}


@dataclass(frozen=True)
class ScoreCalibration:
    """The bands of one score against their expected conversion."""

    score: str
    title: str
    converted: str  # the condition in words
    tolerance: float
    min_leads: int
    maturity: Duration | None
    leads: int      # mature leads in scope with a band
    immature: int
    without_band: int
    bands: dict[str, BandCalibration]
    period_applied: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "converted": self.converted, "tolerance": self.tolerance,
                "min_leads": self.min_leads,
                "maturity": str(self.maturity) if self.maturity else None,
                "leads": self.leads, "immature": self.immature,
                "without_band": self.without_band,
                "bands": {k: b.to_json() for k, b in self.bands.items()}}


@dataclass(frozen=True)
class KpiReport:
    """Every KPI of the agreement and every score's calibration, as of `now`."""

    agreement: str
    version: str
    digest: str
    timezone: str
    now: datetime
    period: PeriodRange | None
    records: int      # records read, readable or not
    with_errors: int  # records with an error (bad values or unreadable)
    unreadable: int
    kpis: dict[str, KpiResult]
    calibrations: dict[str, ScoreCalibration]

    def to_json(self, calibration: bool = False) -> dict[str, Any]:
        """`kpis --format json`: KPI ids at the top; with `calibration`, both sections."""
        kpis = {name: result.to_json() for name, result in self.kpis.items()}
        if not calibration:
            return kpis
        return {"kpis": kpis,
                "calibration": {n: c.to_json() for n, c in self.calibrations.items()}}


# ---------------------------------------------------------------- arithmetic


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


class _Cell:
    """The leads of one (period, group, mature) combination of a KPI."""

    __slots__ = ("den", "invalid", "leads", "num", "values")

    def __init__(self) -> None:
        self.leads = self.den = self.num = self.invalid = 0
        self.values: list[Any] = []


def _merge(cells: Iterable[_Cell]) -> _Cell:
    total = _Cell()
    for cell in cells:
        total.leads += cell.leads
        total.den += cell.den
        total.num += cell.num
        total.invalid += cell.invalid
        total.values.extend(cell.values)
    return total


# ---------------------------------------------------------------- one KPI


class _Plan:
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
        self.periods = _Periods(kpi.period, engine.tz) if kpi.period and kpi.cohort else None
        self.maturity_s = kpi.maturity.seconds if kpi.maturity and kpi.cohort else None
        self.mature_before = now - self.maturity_s if self.maturity_s is not None else None
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
        self.cells: dict[tuple[str | None, str | None, bool], _Cell] = {}

    def instant(self, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, date):
            return datetime.combine(value, time(0), self.tz).timestamp()
        return None

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
                period = self.periods.key(epoch)
            if self.mature_before is not None:
                mature = epoch <= self.mature_before
        key = (period, group_text(get(self.group)) if self.group is not None else None, mature)
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = _Cell()
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

    def value(self, cell: _Cell) -> tuple[int | float | None, int]:
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

        def entry(selected: Iterable[_Cell]) -> tuple[KpiValue, _Cell]:
            merged = _merge(selected)
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


# ---------------------------------------------------------------- calibration


class _Calibration:
    """One score's calibration: per band, mature leads in scope and how many converted."""

    def __init__(self, name: str, engine: Engine, extras: Mapping[tuple[str, str], int],
                 now: float, window: PeriodRange | None):
        score = engine.spec.scores[name]
        calibration = score.calibration
        assert calibration is not None
        self.name, self.score, self.calibration, self.tz = name, score, calibration, engine.tz
        self.converted = extras[("calibration", name)]
        self.cohort = calibration.cohort
        self.mature_before = (now - calibration.maturity.seconds
                              if calibration.maturity is not None and self.cohort else None)
        self.window = ((window.start.timestamp(), window.end.timestamp())
                       if window is not None and self.cohort else None)
        self.counts: dict[str, list[int]] = {band.label: [0, 0] for band in score.bands}
        self.immature = self.without_band = 0
        self.text = describe_inline(calibration.converted, engine.spec)
        self.period_applied = window is None or self.cohort is not None

    def add(self, get: Any, extras: tuple[bool, ...], bands: Mapping[str, str | None]) -> None:
        if self.cohort is not None:
            raw = get(self.cohort)
            if raw is None:
                return
            epoch = (raw.timestamp() if isinstance(raw, datetime)
                     else datetime.combine(raw, time(0), self.tz).timestamp())
            if self.window is not None and not self.window[0] <= epoch < self.window[1]:
                return
            if self.mature_before is not None and epoch > self.mature_before:
                self.immature += 1
                return
        band = bands.get(self.name)
        if band is None:
            self.without_band += 1
            return
        count = self.counts[band]
        count[0] += 1
        if extras[self.converted]:
            count[1] += 1

    def result(self) -> ScoreCalibration:
        calibration = self.calibration
        out: dict[str, BandCalibration] = {}
        for band in self.score.bands:
            leads, converted = self.counts[band.label]
            out[band.label] = _band(band, leads, converted, calibration.tolerance,
                                    calibration.min_leads)
        return ScoreCalibration(
            self.name, self.score.title or self.name, self.text, calibration.tolerance,
            calibration.min_leads, calibration.maturity, sum(c[0] for c in self.counts.values()),
            self.immature, self.without_band, out, self.period_applied)


def _band(band: Band, leads: int, converted: int, tolerance: float,
          min_leads: int) -> BandCalibration:
    actual = converted / leads if leads else None
    expected = band.expected_conversion
    difference = actual - expected if actual is not None and expected is not None else None
    too_few = leads < min_leads
    flagged = (not too_few and difference is not None
               and abs(difference) > tolerance)
    return BandCalibration(band.label, leads, converted, actual, expected, difference,
                           flagged, too_few)


# ---------------------------------------------------------------- the pass over the leads


def compute_kpis(engine: Engine, leads: Iterable[Mapping[str, Any] | RawRecord], now: datetime,
                 period: str | PeriodRange | None = None) -> KpiReport:
    """Every KPI and calibration of the engine's agreement over `leads` as of `now`.

    `leads` are raw records (`read_leads`) or lead mappings, read once; `period` restricts the
    leads to those whose cohort falls in it (see the module docstring). ValueError for a
    `period` that is not one.
    """
    engine = engine.for_kpis()
    spec = engine.spec
    instant = engine.instant(now)
    moment = instant.timestamp()
    window = parse_period(period, engine.tz) if isinstance(period, str) else period
    extras = {path: i for i, path in enumerate(engine.compiled.extra_paths)}
    calendars = {name: BusinessCalendar.from_model(c, spec.timezone)
                 for name, c in spec.calendars.items()}
    plans = [_Plan(name, kpi, engine, extras, moment, window, calendars)
             for name, kpi in spec.kpis.items()]
    checks = [_Calibration(name, engine, extras, moment, window)
              for name, score in spec.scores.items() if score.calibration is not None]
    read_clocks = engine.clocks.read if any(p.clock is not None for p in plans) else None
    coerce, run = engine.coerce, engine.compiled.bind(instant)
    adds = [plan.add for plan in plans]
    calibrate = [check.add for check in checks]
    records = with_errors = unreadable = 0
    readings: Sequence[Any] = ()
    for item in leads:
        records += 1
        data: Mapping[str, Any]
        if isinstance(item, RawRecord):
            if item.data is None:
                unreadable += 1
                with_errors += 1
                continue
            data = item.data
        else:
            data = item
        values, errors = coerce(data)
        if errors:
            with_errors += 1
        _, _, bands, extra = run(values)
        if read_clocks is not None:
            readings = read_clocks(values, extra, moment)
        get = values.get
        for add in adds:
            add(get, extra, readings)
        for add_band in calibrate:
            add_band(get, extra, bands)
    return KpiReport(spec.agreement, spec.version, engine.digest, spec.timezone, instant, window,
                     records, with_errors, unreadable,
                     {plan.name: plan.result(moment, window) for plan in plans},
                     {check.name: check.result() for check in checks})
