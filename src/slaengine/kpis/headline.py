"""The figure a KPI is headlined by: its latest complete period against the target, with
the trend from the period before; over all leads only when the KPI has no period.

A monthly target read against an all-time total, or a rate resting on one lead marked ✓,
misleads; the headline avoids both. A statistic (rate, average, median, percentile,
attainment) measured on fewer leads than `min_leads` carries no verdict, only `too_few`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from .measures import meets
from .periods import PeriodRange, Periods, parse_period
from .report import KpiResult

__all__ = ["DEFAULT_MIN_LEADS", "Headline", "headline"]

DEFAULT_MIN_LEADS = 30
_TOTALS = ("count", "sum")  # a total is the measure itself: no minimum applies


@dataclass(frozen=True)
class Headline:
    """One KPI's headline figure."""

    scope: str                 # a period key (`2026-10`), or `all leads`
    value: int | float | None
    met: bool | None           # None: no target, no value, or too few leads
    measured: int              # the leads the value rests on
    too_few: bool
    complete: bool             # False: the selected period is still open or maturing
    previous: tuple[str, int | float | None] | None  # the period before, for the trend


def _maturity_s(result: KpiResult) -> float:
    maturity = result.kpi.maturity
    if maturity is None:
        return 0.0
    return maturity.amount * 86400.0 if maturity.is_business_days else float(maturity.seconds)


def _previous(key: str, periods: Periods, tz: tzinfo) -> str:
    start = parse_period(key, tz).start
    return periods.key((start - timedelta(seconds=1)).timestamp())


def _entry(result: KpiResult, key: str) -> tuple[int | float | None, int]:
    found = result.by_period.get(key)
    if found is not None:
        return found.value, found.measured
    # No lead fell in the period: a total is zero, any other measure has no value.
    return (0, 0) if result.kpi.measure in _TOTALS else (None, 0)


def headline(result: KpiResult, now: datetime, tz: tzinfo, selected: PeriodRange | None = None,
             min_leads: int = DEFAULT_MIN_LEADS) -> Headline:
    """The headline of `result` as of `now`; `selected` is `kpis --period`'s period."""
    kpi = result.kpi
    statistic = kpi.measure not in _TOTALS
    if kpi.period is None or kpi.cohort is None or (selected is not None
                                                    and not result.period_applied):
        too_few = statistic and result.measured < min_leads
        return Headline("all leads", result.value, None if too_few else result.met,
                        result.measured, too_few, result.immature == 0, None)
    maturity = _maturity_s(result)
    if selected is not None:
        # The leads are those of the selected period already: the one row of the period
        # table (by the KPI's own period kind) is the headline, so the two always agree.
        rows = list(result.by_period.values())
        value, measured = (rows[0].value, rows[0].measured) if len(rows) == 1 else (
            (0, 0) if kpi.measure in _TOTALS else (None, 0))
        too_few = statistic and measured < min_leads
        complete = selected.end.timestamp() + maturity <= now.timestamp()
        # A total over a month is not judged against a quarter's target: it is only part of it.
        part = not statistic and selected.kind != kpi.period
        return Headline(selected.key, value,
                        None if too_few or part else meets(value, kpi.target),
                        measured, too_few, complete, None)
    periods = Periods(kpi.period, tz)
    key = _previous(periods.key(now.timestamp() - maturity), periods, tz)
    if statistic and _entry(result, key)[1] == 0:
        # A rate over no leads says nothing: the latest complete period that has some.
        earlier = [k for k, v in result.by_period.items() if k < key and v.measured]
        key = max(earlier, default=key)
    value, measured = _entry(result, key)
    complete = parse_period(key, tz).end.timestamp() + maturity <= now.timestamp()
    too_few = statistic and measured < min_leads
    met = None if too_few else meets(value, kpi.target)
    before = _previous(key, periods, tz)
    return Headline(key, value, met, measured, too_few, complete,
                    (before, _entry(result, before)[0]))
