"""Work backward from a number of customers to the leads needed at each stage of the funnel.

The funnel is the lifecycle's stages in order, leaving out those a lead is returned to
(`requires_disposition`: nurture, disqualified) and those without an `entered_at` field.
The conversion from a stage to the next is measured over *mature* cohorts: the leads that
entered the stage at least `maturity` before `now` (default 30 days), so that recent leads,
which have not had the time to convert, do not pull the rate down. A lead converts when it
entered the next stage or any later one (a deal won without an opportunity date still
counts). Each rate comes with the number of leads behind it and a 95% Wilson score interval.

Leads needed: `needed[last] = customers`, `needed[i] = ceil(needed[i + 1] / rate[i])`; a
rate of zero (or a stage no mature lead entered) leaves every earlier stage unknown.

The MQL volume KPI is the `count` KPI with a `gte` target whose cohort is a funnel stage's
`entered_at` (the `mql` stage's when several are): `customers` is then read as customers
per the KPI's period, and the MQLs needed are compared with its target.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..agreement.models import AgreementSpec, Stage
from ..agreement.models.common import Duration
from ..evaluate.clocks import epoch_seconds
from ..evaluate.leads import RawRecord

if TYPE_CHECKING:
    from ..evaluate.evaluator import Engine

DEFAULT_MATURITY = Duration(30, "d")  # stage-to-stage hops take weeks, not quarters
Z_95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion; None without trials."""
    if trials == 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 or all successes a bound is exactly 0 or 1; rounding would leave 1e-17 behind.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class StagePlan:
    stage: str
    title: str
    needed: int | None  # leads needed at this stage; None when a rate after it is unknown
    conversion_to_next: float | None  # None for the last stage, or no mature cohort
    interval: tuple[float, float] | None
    cohort_leads: int  # mature leads that entered the stage (the rate's denominator)
    converted: int  # of those, the ones that reached a later stage


@dataclass(frozen=True)
class VolumeCheck:
    kpi: str
    title: str
    stage: str
    period: str | None
    target: float
    needed: int | None

    @property
    def enough(self) -> bool | None:
        return None if self.needed is None else self.target >= self.needed


@dataclass(frozen=True)
class Plan:
    customers: int
    now: datetime
    maturity: Duration
    stages: list[StagePlan]
    volume: VolumeCheck | None
    records: int
    with_errors: int

    def to_json(self) -> dict[str, Any]:
        """The `plan --format json` document."""
        out: dict[str, Any] = {
            "customers": self.customers, "now": self.now.isoformat(),
            "maturity": str(self.maturity),
            "stages": [{"stage": s.stage, "needed": s.needed,
                        "conversion_to_next": s.conversion_to_next,
                        "cohort_leads": s.cohort_leads, "converted": s.converted,
                        "interval": list(s.interval) if s.interval else None}
                       for s in self.stages]}
        if self.volume is not None:
            v = self.volume
            out["mql_volume"] = {"kpi": v.kpi, "stage": v.stage, "period": v.period,
                                 "target": v.target, "needed": v.needed, "enough": v.enough}
        return out


def yield_of(result: Plan, stage: str, leads: float) -> float | None:
    """The customers `leads` at `stage` become at the measured rates (the plan read forward);
    None when a rate from that stage on could not be measured."""
    ids = [s.stage for s in result.stages]
    value = Fraction(leads)
    for step in result.stages[ids.index(stage):-1]:
        if not step.cohort_leads:
            return None
        value *= Fraction(step.converted, step.cohort_leads)
    return float(value)


def funnel(spec: AgreementSpec) -> list[Stage]:
    """The stages a lead moves forward through, in order."""
    return [s for s in spec.stages if s.entered_at and not s.requires_disposition]


def volume_kpi(spec: AgreementSpec, stages: list[Stage]) -> tuple[str, Stage] | None:
    """The KPI that commits to a stage's volume (see the module docstring)."""
    by_field = {s.entered_at: s for s in stages}
    found = [(name, by_field[kpi.cohort]) for name, kpi in spec.kpis.items()
             if kpi.count and kpi.cohort in by_field and kpi.target is not None
             and kpi.target.gte is not None]
    found.sort(key=lambda pair: pair[1].id != "mql")
    return found[0] if found else None


def plan(engine: Engine, leads: Iterable[Mapping[str, Any] | RawRecord], customers: int,
         now: datetime, maturity: Duration = DEFAULT_MATURITY) -> Plan:
    """The plan for `customers` from the conversion measured over `leads` as of `now`."""
    if customers < 1:
        raise ValueError("the number of customers must be at least 1")
    spec, tz = engine.spec, engine.tz
    stages = funnel(spec)
    if len(stages) < 2:
        raise ValueError("the lifecycle needs at least two stages with `entered_at` to plan")
    instant = engine.instant(now)
    cutoff = instant.timestamp() - maturity.seconds
    fields = [s.entered_at for s in stages]
    entered = [0] * len(stages)
    converted = [0] * len(stages)
    records = with_errors = 0
    for item in leads:
        records += 1
        data = item.data if isinstance(item, RawRecord) else item
        if data is None:
            with_errors += 1
            continue
        values, errors = engine.coerce(data)
        if errors:
            with_errors += 1
        times = [epoch_seconds(values.get(f), tz) if f else None for f in fields]
        reached_later = False
        for i in range(len(stages) - 1, -1, -1):
            t = times[i]
            if t is not None and t <= cutoff:
                entered[i] += 1
                converted[i] += reached_later
            reached_later = reached_later or t is not None
    rates: list[float | None] = [converted[i] / entered[i] if entered[i] else None
                                 for i in range(len(stages) - 1)] + [None]
    needed: list[int | None] = [None] * len(stages)
    needed[-1] = customers
    for i in range(len(stages) - 2, -1, -1):
        after = needed[i + 1]
        # after / (converted / entered), rounded up, in integers: no floating-point edge
        needed[i] = (-(-after * entered[i] // converted[i]) if after is not None and converted[i]
                     else None)
    plans = [StagePlan(s.id, s.title or s.id, needed[i], rates[i],
                       wilson(converted[i], entered[i]) if i < len(stages) - 1 else None,
                       entered[i], converted[i] if i < len(stages) - 1 else 0)
             for i, s in enumerate(stages)]
    volume = None
    found = volume_kpi(spec, stages)
    if found is not None:
        name, stage = found
        kpi = spec.kpis[name]
        assert kpi.target is not None and kpi.target.gte is not None
        volume = VolumeCheck(name, kpi.title, stage.id, kpi.period, float(kpi.target.gte),
                             needed[stages.index(stage)])
    return Plan(customers, instant, maturity, plans, volume, records, with_errors)
