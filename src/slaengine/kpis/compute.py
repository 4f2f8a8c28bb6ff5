"""The one pass over the leads that feeds every KPI and every calibration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..evaluate.calendars import BusinessCalendar
from ..evaluate.leads import RawRecord
from .calibration import Calibration
from .measures import Plan
from .periods import PeriodRange, parse_period
from .report import KpiReport

if TYPE_CHECKING:
    from ..evaluate.evaluator import Engine

__all__ = ["compute_kpis"]

def compute_kpis(engine: Engine, leads: Iterable[Mapping[str, Any] | RawRecord], now: datetime,
                 period: str | PeriodRange | None = None) -> KpiReport:
    """Every KPI and calibration of the engine's agreement over `leads` as of `now`.

    `leads` are raw records (`read_leads`) or lead mappings, read once; `period` restricts the
    leads to those whose cohort falls in it (see `slaengine.kpis`). ValueError for a
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
    plans = [Plan(name, kpi, engine, extras, moment, window, calendars)
             for name, kpi in spec.kpis.items()]
    checks = [Calibration(name, engine, extras, moment, window)
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
