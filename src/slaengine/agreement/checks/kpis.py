"""KPIs measure fields that exist and fit: numeric sums, datetime durations, known clocks;
score calibrations place leads in time by a timestamp."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, error
from ..loader import PathKey
from ..models.common import Duration
from ..models.sections import DurationMeasure
from .base import NUMERIC_TYPES, CheckContext


def _numeric(ctx: CheckContext, field: str, path: PathKey, measure: str) -> Iterator[Diagnostic]:
    spec = ctx.spec.fields.get(field)
    if spec is None:
        yield from ctx.field_ref(field, path)
    elif spec.type not in NUMERIC_TYPES:
        yield error("not-numeric", f"`{measure}` needs a numeric field; `{field}` is {spec.type}",
                    ctx.at(path), "declare it `type: number` or measure another field")


def _duration(ctx: CheckContext, measure: DurationMeasure, path: PathKey) -> Iterator[Diagnostic]:
    yield from ctx.timestamp_ref(measure.from_, (*path, "from"), "duration start")
    yield from ctx.timestamp_ref(measure.to, (*path, "to"), "duration end")
    if measure.calendar is not None and measure.calendar not in ctx.spec.calendars:
        yield ctx.unknown("calendar", measure.calendar, list(ctx.spec.calendars),
                          (*path, "calendar"))


def _maturity(ctx: CheckContext, maturity: Duration | None, cohort: str | None,
              path: PathKey) -> Iterator[Diagnostic]:
    if maturity is None:
        return
    if cohort is None:
        yield error("missing-cohort",
                    "`maturity` needs a `cohort` timestamp to place leads in time",
                    ctx.at((*path, "maturity")), "add e.g. `cohort: mql_at`")
    if maturity.is_business_days:
        yield error("business-days-without-calendar",
                    f"`maturity: {maturity}` counts business days, but a maturity runs on the "
                    "wall clock", ctx.at((*path, "maturity")),
                    f"write it in days, e.g. `{maturity.amount}d`")


def _share_target(ctx: CheckContext, gte: float | None, lte: float | None, unit: str | None,
                  base: PathKey) -> Iterator[Diagnostic]:
    """A ratio or an attainment is a share between 0 and 1, shown in % when `unit` says so:
    a target of 25 meant as 25% could never be met (it reads "at least 2500%")."""
    for op, value in (("gte", gte), ("lte", lte)):
        if value is not None and not 0 <= value <= 1:
            shown = f"{value:g}"
            hint = (f"write `{op}: {value / 100:g}` for {shown}%" if 1 < value <= 100
                    else "write the share as a number from 0 to 1, e.g. 0.25 for 25%")
            yield error("target-out-of-range",
                        f"target `{op}: {shown}` is outside 0 to 1, the range of a share"
                        + (" shown in %" if unit == "%" else ""),
                        ctx.at((*base, "target", op)), hint)


def check_calibrations(ctx: CheckContext) -> Iterator[Diagnostic]:
    for name, score in ctx.spec.scores.items():
        calibration = score.calibration
        if calibration is None:
            continue
        base = ("scores", name, "calibration")
        if calibration.cohort is not None:
            yield from ctx.timestamp_ref(calibration.cohort, (*base, "cohort"), "cohort timestamp")
        yield from _maturity(ctx, calibration.maturity, calibration.cohort, base)


def check_kpis(ctx: CheckContext) -> Iterator[Diagnostic]:
    yield from check_calibrations(ctx)
    spec = ctx.spec
    for name, kpi in spec.kpis.items():
        base = ("kpis", name)
        for i, owner in enumerate(kpi.owners):
            yield from ctx.party_ref(owner, (*base, "owners", i))
        for measure in ("sum", "average", "median"):
            field = getattr(kpi, measure)
            if field is not None:
                yield from _numeric(ctx, field, (*base, measure), measure)
        if kpi.percentile is not None:
            if kpi.percentile.field is not None:
                yield from _numeric(ctx, kpi.percentile.field, (*base, "percentile", "field"),
                                    "percentile")
            if kpi.percentile.duration is not None:
                yield from _duration(ctx, kpi.percentile.duration,
                                     (*base, "percentile", "duration"))
        if kpi.median_duration is not None:
            yield from _duration(ctx, kpi.median_duration, (*base, "median_duration"))
        if kpi.attainment is not None and kpi.attainment not in spec.service_levels:
            yield ctx.unknown("service level", kpi.attainment, list(spec.service_levels),
                              (*base, "attainment"))
        if kpi.group_by is not None:
            yield from ctx.field_ref(kpi.group_by, (*base, "group_by"))
        if kpi.cohort is not None:
            yield from ctx.timestamp_ref(kpi.cohort, (*base, "cohort"), "cohort timestamp")
        if kpi.period is not None and kpi.cohort is None:
            yield error("missing-cohort",
                        "`period` needs a `cohort` timestamp to place leads in time",
                        ctx.at((*base, "period")), "add e.g. `cohort: mql_at`")
        yield from _maturity(ctx, kpi.maturity, kpi.cohort, base)
        if kpi.target is not None and (kpi.ratio is not None or kpi.attainment is not None):
            yield from _share_target(ctx, kpi.target.gte, kpi.target.lte, kpi.unit, base)
        if kpi.target is not None and kpi.target.gte is not None and kpi.target.lte is not None \
                and kpi.target.gte > kpi.target.lte:
            yield error("empty-range", f"target `gte: {kpi.target.gte}` is above "
                                       f"`lte: {kpi.target.lte}`: it can never be met",
                        ctx.at((*base, "target")))
