"""The monthly feedback report: what converted and why, what did not and why, what comes next.

`build_monthly(engine, leads, month, now)` reads the leads once: each record is evaluated
(`engine.evaluate_many`) and fed, in lockstep, to `compute_kpis(..., period=month)`; the
decisions are counted into a `MonthlyReport`. Pure: no I/O, `now` is explicit.

Which stage is which comes from the agreement, never from stage names:

* the **funnel** is the stages that do not require a disposition, in funnel order (a stage
  that needs a disposition is a way out: nurture, disqualified);
* the **handoff** is the first funnel stage owned by another party than the first stage's
  (sales accepting a lead); the **conversion stages** are the funnel stages after it (SQL,
  opportunity, customer), and the **cohort conversion** runs from the stage before the
  handoff (MQL) to the first conversion stage (SQL);
* a lead **returned** in the month when the `entered_at` of a stage that requires a
  disposition falls in the month; it is counted once, under its disposition code.

A lead enters a stage in the month when the stage's `entered_at` timestamp falls in the
month (in the agreement's timezone). Open leads, clocks coming due and credits are read from
the decisions as of `now`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from ..agreement.describe import definition_label, party_label, short_label, stage_label
from ..evaluate.leads import RawRecord
from ..kpis import MISSING_GROUP, KpiReport, PeriodRange, ScoreCalibration, compute_kpis, group_text
from ..kpis.periods import Periods

if TYPE_CHECKING:
    from ..agreement.models import AgreementSpec
    from ..agreement.models.sections import Stage
    from ..evaluate.decision import Decision
    from ..evaluate.evaluator import Engine
    from ..evaluate.recycling import Credit

__all__ = ["NO_CODE", "ConvertedLead", "DueClock", "MonthlyReport", "StageRef",
           "build_monthly", "default_now", "previous_months"]

NO_CODE: Final = "(none)"
HORIZON: Final = timedelta(days=30)
EXAMPLES: Final = 5
SOONEST: Final = 10
TREND_MONTHS: Final = 6
CREDITS: Final = 25
_OPEN: Final = ("running", "at_risk")
_STATUSES: Final = ("met", "breached", "running", "at_risk", "not_started", "not_applicable")


def default_now(month: PeriodRange, current: datetime) -> tuple[datetime, str]:
    """The end of the month or the current time, whichever is earlier, and which it was."""
    if current < month.end:
        return current, "the current time (the month is not over)"
    return month.end, "the end of the month"


def previous_months(month: PeriodRange, count: int = TREND_MONTHS) -> tuple[str, ...]:
    """`count` month keys ending with `month`, oldest first."""
    year, number = map(int, month.key.split("-"))
    first = year * 12 + number - count  # months since year 0, zero-based
    return tuple(f"{(first + i) // 12:04d}-{(first + i) % 12 + 1:02d}" for i in range(count))


@dataclass(frozen=True, slots=True)
class StageRef:
    id: str
    title: str
    short: str  # `MQL` for "Marketing-qualified lead"
    field: str  # its `entered_at`


@dataclass(frozen=True, slots=True)
class ConvertedLead:
    """An example of a lead that converted in the month, and the definitions it meets."""

    id: Any
    stage: str  # the furthest conversion stage it entered in the month
    source: str
    campaign: str
    bands: dict[str, str | None]
    definitions: tuple[str, ...]  # titles of the definitions it meets


@dataclass(frozen=True, slots=True)
class DueClock:
    """A running clock due within the next 30 days."""

    id: Any
    level: str
    status: str
    due_at: datetime
    stage: str | None
    owner: str | None


@dataclass(frozen=True)
class MonthlyReport:
    """Everything the monthly report shows; the renderers only word and draw it."""

    agreement: str
    version: str
    digest: str
    timezone: str
    month: PeriodRange
    now: datetime
    now_basis: str  # why this `now`: given, the end of the month, the current time
    records: int
    with_errors: int
    unreadable: int
    kpis: KpiReport
    calibrations: dict[str, ScoreCalibration]
    calibration_scope: str
    source_field: str | None
    campaign_field: str | None
    # summary: clocks started in the month, per service level, by status
    levels: dict[str, dict[str, int]]
    trend_months: tuple[str, ...]
    trend: dict[str, list[tuple[int, int]]]  # level -> (met, breached) per trend month
    # converted
    funnel: dict[str, int]  # funnel stage -> leads entering it in the month
    funnel_stages: tuple[StageRef, ...]
    conversion_stages: tuple[StageRef, ...]
    converted: int  # leads entering any conversion stage in the month
    converted_by_source: dict[str, dict[str, int]]
    examples: tuple[ConvertedLead, ...]
    cohort_from: StageRef | None
    cohort_to: StageRef | None
    cohort_by_source: dict[str, tuple[int, int]]  # source -> (entered from, reached to by now)
    # not converted
    return_stages: tuple[StageRef, ...]
    returned: int
    by_disposition: dict[str, int]
    returns_by_source: dict[str, dict[str, int]]
    returns_by_campaign: dict[str, dict[str, int]]
    credits: tuple[tuple[Any, Credit], ...]  # (lead id, credit), the first 25
    credits_total: int
    # next 30 days
    open_leads: dict[tuple[str, str], int]  # (stage, owner) -> leads, funnel order
    unknown_stage: int
    no_stage: int
    due: dict[str, dict[str, int]]  # level -> running / at_risk counts due within 30 days
    soonest: tuple[DueClock, ...]
    horizon: datetime
    disposition_titles: dict[str, str]  # code -> title, the agreement's codes
    level_titles: dict[str, tuple[str, str]]  # service level -> (title, owner's title)
    names: dict[str, str]  # stage and party ids -> their titles, for the tables

    @property
    def empty(self) -> bool:
        """No lead entered a stage, returned or started a clock in the month."""
        return (not any(self.funnel.values()) and not self.returned
                and not any(sum(c.values()) for c in self.levels.values()))

    def trend_attainment(self, level: str) -> list[float | None]:
        return [met / (met + breached) if met + breached else None
                for met, breached in self.trend[level]]


# ---------------------------------------------------------------- the stages


def _ref(spec: AgreementSpec, stage: Stage) -> StageRef:
    return StageRef(stage.id, stage_label(spec, stage.id), short_label(stage.id, stage.title),
                    stage.entered_at or "")


def stage_roles(spec: AgreementSpec) -> tuple[tuple[StageRef, ...], tuple[StageRef, ...],
                                              StageRef | None, StageRef | None,
                                              tuple[StageRef, ...]]:
    """(funnel, conversion stages, cohort from, cohort to, return stages); see the module."""
    funnel = [s for s in spec.stages if not s.requires_disposition and s.entered_at]
    returns = tuple(_ref(spec, s) for s in spec.stages if s.requires_disposition and s.entered_at)
    first_owner = funnel[0].owner if funnel else None
    handoff = next((i for i, s in enumerate(funnel)
                    if i and s.owner is not None and s.owner != first_owner), None)
    if handoff is None:  # one party owns the whole funnel: convert after its second stage
        handoff = min(1, len(funnel))
    refs = tuple(_ref(spec, s) for s in funnel)
    conversions = refs[handoff + 1:]
    source = refs[handoff - 1] if handoff >= 1 else None
    return refs, conversions, source, conversions[0] if conversions else None, returns


# ---------------------------------------------------------------- counting


class _Best:
    """The `limit` entries with the highest keys, best first: a bounded min-heap."""

    def __init__(self, limit: int):
        self.limit = limit
        self.heap: list[tuple[tuple[float, int], Any]] = []

    def add(self, key: tuple[float, int], item: Any) -> None:
        if len(self.heap) < self.limit:
            heapq.heappush(self.heap, (key, item))
        elif key > self.heap[0][0]:
            heapq.heapreplace(self.heap, (key, item))

    def best(self) -> list[Any]:
        return [item for _, item in sorted(self.heap, key=lambda e: e[0], reverse=True)]


def _bump(table: dict[str, dict[str, int]], row: str, column: str) -> None:
    counts = table.setdefault(row, {})
    counts[column] = counts.get(column, 0) + 1


class MonthlyBuilder:
    """Counts decisions into the report, one at a time (what `build_monthly` does)."""

    def __init__(self, engine: Engine, month: PeriodRange, now: datetime,
                 source_field: str | None = "source", campaign_field: str | None = "campaign"):
        spec = engine.spec
        self.engine, self.month, self.now = engine, month, now
        self.source_field = source_field if source_field in spec.fields else None
        self.campaign_field = campaign_field if campaign_field in spec.fields else None
        (self.funnel_stages, self.conversion_stages, self.cohort_from, self.cohort_to,
         self.return_stages) = stage_roles(spec)
        guarantee = spec.lead_guarantee
        self.handoff = guarantee.handoff if guarantee is not None else None
        self.window = (month.start.timestamp(), month.end.timestamp())
        self.moment = now.timestamp()
        self.horizon = self.moment + HORIZON.total_seconds()
        self.instant, self.names = engine.clocks.instant, engine.clocks.names
        self.terminal = {s.id: s.terminal for s in spec.stages}
        self.records = self.with_errors = self.unreadable = 0
        self.funnel = {s.id: 0 for s in self.funnel_stages}
        self.converted = self.returned = self.credits_total = 0
        self.unknown_stage = self.no_stage = 0
        self.converted_by_source: dict[str, dict[str, int]] = {}
        self.cohort: dict[str, list[int]] = {}
        self.by_disposition: dict[str, int] = {}
        self.returns_by_source: dict[str, dict[str, int]] = {}
        self.returns_by_campaign: dict[str, dict[str, int]] = {}
        self.credits: list[tuple[Any, Credit]] = []
        self.open_leads: dict[tuple[str, str], int] = {}
        self.levels = {name: dict.fromkeys(_STATUSES, 0) for name in self.names}
        self.trend_months = previous_months(month)
        self.trend = {name: [[0, 0] for _ in self.trend_months] for name in self.names}
        self.periods = Periods("month", engine.tz)
        self.due = {name: dict.fromkeys(_OPEN, 0) for name in self.names}
        self.examples = _Best(EXAMPLES)  # furthest stage first, then input order
        self.soonest = _Best(SOONEST)    # soonest due first, then input order

    def in_month(self, value: Any) -> bool:
        epoch = self.instant(value)
        return epoch is not None and self.window[0] <= epoch < self.window[1]

    def _group(self, values: Mapping[str, Any], name: str | None) -> str:
        return group_text(values.get(name)) if name is not None else MISSING_GROUP

    def add(self, decision: Decision) -> None:
        seq = self.records
        self.records += 1
        self.with_errors += bool(decision.errors)
        if not decision.evaluated:
            self.unreadable += 1
            return
        values = decision.values
        source = self._group(values, self.source_field)
        for stage in self.funnel_stages:
            self.funnel[stage.id] += self.in_month(values.get(stage.field))
        self._converted(decision, source, seq)
        self._returned(decision, source)
        self._pipeline(decision, seq)

    def _converted(self, decision: Decision, source: str, seq: int) -> None:
        values = decision.values
        reached = [i for i, stage in enumerate(self.conversion_stages)
                   if self.in_month(values.get(stage.field))]
        if reached:
            self.converted += 1
            for i in reached:
                _bump(self.converted_by_source, source, self.conversion_stages[i].id)
            self.examples.add((reached[-1], -seq), (decision, source, reached[-1]))
        start, end = self.cohort_from, self.cohort_to
        if start is not None and end is not None and self.in_month(values.get(start.field)):
            counts = self.cohort.setdefault(source, [0, 0])
            counts[0] += 1
            at = self.instant(values.get(end.field))
            counts[1] += at is not None and at <= self.moment

    def _returned(self, decision: Decision, source: str) -> None:
        values = decision.values
        returned = any(self.in_month(values.get(s.field)) for s in self.return_stages)
        if returned:
            self.returned += 1
            raw = values.get(self.engine.spec.disposition_field)
            code = NO_CODE if raw is None else str(raw)
            self.by_disposition[code] = self.by_disposition.get(code, 0) + 1
            _bump(self.returns_by_source, source, code)
            _bump(self.returns_by_campaign, self._group(values, self.campaign_field), code)
        credit = decision.credit
        if credit is None:
            return
        # a rejection earns its credit in the month the lead came back, an unmet requirement
        # in the month of the handoff
        if credit.reason == "disposition" and any(values.get(s.field) is not None
                                                  for s in self.return_stages):
            counted = returned
        else:
            counted = self.handoff is not None and self.in_month(values.get(self.handoff))
        if counted:
            self.credits_total += 1
            if len(self.credits) < CREDITS:
                self.credits.append((decision.id, credit))

    def _pipeline(self, decision: Decision, seq: int) -> None:
        stage = decision.stage
        if stage is None:
            self.no_stage += 1
        elif stage not in self.terminal:
            self.unknown_stage += 1
        elif not self.terminal[stage]:
            key = (stage, decision.owner or NO_CODE)
            self.open_leads[key] = self.open_leads.get(key, 0) + 1
        for name, reading in zip(self.names, decision.readings, strict=True):
            status, start, due = reading.status, reading.start, reading.due
            if start is None:
                continue
            if self.window[0] <= start < self.window[1]:
                self.levels[name][status] += 1
            if status in ("met", "breached"):
                month = self.periods.key(start)
                if month in self.trend_months:
                    self.trend[name][self.trend_months.index(month)][status == "breached"] += 1
            # a clock that starts after `now` (a lead file newer than `now`) is not running yet
            if status in _OPEN and due is not None and due < self.horizon \
                    and start <= self.moment:
                self.due[name][status] += 1
                self.soonest.add((-due, -seq), DueClock(
                    decision.id, name, status, datetime.fromtimestamp(due, UTC), stage,
                    decision.owner))

    def example(self, decision: Decision, source: str, stage: int) -> ConvertedLead:
        met = tuple(definition_label(self.engine.spec, name)
                    for name, ok in decision.verdicts.items() if ok)
        return ConvertedLead(decision.id, self.conversion_stages[stage].id, source,
                             self._group(decision.values, self.campaign_field),
                             dict(decision.band_values), met)

    def result(self, kpis: KpiReport, calibrations: Mapping[str, ScoreCalibration] | None = None,
               calibration_scope: str = "", now_basis: str = "given") -> MonthlyReport:
        spec = self.engine.spec
        order = {s.id: i for i, s in enumerate(spec.stages)}
        return MonthlyReport(
            agreement=spec.agreement, version=spec.version, digest=self.engine.digest,
            timezone=spec.timezone, month=self.month, now=self.now, now_basis=now_basis,
            records=self.records, with_errors=self.with_errors, unreadable=self.unreadable,
            kpis=kpis, calibrations=dict(kpis.calibrations if calibrations is None
                                         else calibrations),
            calibration_scope=calibration_scope, source_field=self.source_field,
            campaign_field=self.campaign_field, levels=self.levels,
            trend_months=self.trend_months,
            trend={n: [(met, breached) for met, breached in t] for n, t in self.trend.items()},
            funnel=self.funnel, funnel_stages=self.funnel_stages,
            conversion_stages=self.conversion_stages, converted=self.converted,
            converted_by_source=_by_size(self.converted_by_source),
            examples=tuple(self.example(*e) for e in self.examples.best()),
            cohort_from=self.cohort_from, cohort_to=self.cohort_to,
            cohort_by_source={k: (v[0], v[1]) for k, v in _by_name(self.cohort).items()},
            return_stages=self.return_stages, returned=self.returned,
            by_disposition=dict(sorted(self.by_disposition.items(),
                                       key=lambda kv: (-kv[1], kv[0]))),
            returns_by_source=_by_size(self.returns_by_source),
            returns_by_campaign=_by_size(self.returns_by_campaign),
            credits=tuple(self.credits), credits_total=self.credits_total,
            open_leads=dict(sorted(self.open_leads.items(),
                                   key=lambda kv: (order[kv[0][0]], kv[0][1]))),
            unknown_stage=self.unknown_stage, no_stage=self.no_stage, due=self.due,
            soonest=tuple(self.soonest.best()),
            horizon=datetime.fromtimestamp(self.horizon, UTC),
            disposition_titles={code: d.title for code, d in spec.dispositions.items()},
            level_titles={n: (sl.title, party_label(spec, sl.owner))
                          for n, sl in spec.service_levels.items()},
            names={**{s.id: stage_label(spec, s.id) for s in spec.stages},
                   **{p: party_label(spec, p) for p in spec.parties}})


def _by_name(table: Mapping[str, Any]) -> dict[str, Any]:
    """Groups in name order, `(missing)` last."""
    return {k: table[k] for k in sorted(table, key=lambda g: (g == MISSING_GROUP, g))}


def _by_size(table: Mapping[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Most leads first, then by name (`(missing)` last among equals)."""
    return {k: table[k] for k in sorted(table, key=lambda g: (-sum(table[g].values()),
                                                            g == MISSING_GROUP, g))}


# ---------------------------------------------------------------- the pass


def build_monthly(engine: Engine, leads: Iterable[Mapping[str, Any] | RawRecord],
                  month: PeriodRange, now: datetime, *,
                  calibration_leads: Iterable[Mapping[str, Any] | RawRecord] | None = None,
                  now_basis: str = "given", source_field: str | None = "source",
                  campaign_field: str | None = "campaign") -> MonthlyReport:
    """The monthly report over `leads` (read once) for `month`, as of `now`.

    `calibration_leads` (the same leads again) gives the scoring model's calibration over
    every lead old enough to judge, not only the month's: a month's leads need the
    calibration's maturity (90 days in the example) before they can be judged. Without them,
    the calibration covers the month's leads only.
    """
    instant = engine.instant(now)
    builder = MonthlyBuilder(engine, month, instant, source_field, campaign_field)
    first, second = itertools.tee(leads)
    decisions = engine.evaluate_many(first, instant, in_full=True)

    def feed() -> Iterator[Mapping[str, Any] | RawRecord]:
        # lockstep: the tee holds one record while both sides read it
        for item in second:
            builder.add(next(decisions))
            yield item

    kpis = compute_kpis(engine, feed(), instant, month)
    if calibration_leads is not None:
        calibrations = compute_kpis(engine, calibration_leads, instant).calibrations
        scope = "every lead old enough to judge, whatever its month"
    else:
        calibrations = kpis.calibrations
        scope = f"the leads of {month.key} only"
    return builder.result(kpis, calibrations, scope, now_basis)
