"""The calibration of a score: each band's actual conversion against the one it expects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from ..agreement.describe import describe_inline
from ..agreement.models.sections import Band
from .periods import PeriodRange
from .report import BandCalibration, ScoreCalibration

if TYPE_CHECKING:
    from ..evaluate.evaluator import Engine

__all__ = ["Calibration"]

class Calibration:
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

