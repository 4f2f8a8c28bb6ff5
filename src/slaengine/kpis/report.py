"""The results of `compute_kpis`: KPI values, calibrations and the report, with their JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..agreement.models.common import Duration
from ..agreement.models.sections import Kpi, Target
from .periods import PeriodRange

__all__ = ["BandCalibration", "KpiReport", "KpiResult", "KpiValue", "PeriodValue",
           "ScoreCalibration"]

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

