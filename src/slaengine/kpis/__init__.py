"""The shared KPIs and the calibration of the scoring model, computed in one pass over leads.

`compute_kpis(engine, leads, now, period=None)` (or `agreement.kpis(leads, now=...)`) reads
each lead once, evaluates it with an engine built for KPIs (`Engine.for_kpis()`: every `where`,
ratio and calibration condition is compiled into the agreement's generated function) and adds
it to small per-KPI cells keyed by (period, group, mature); values, periods and groups are
worked out from those cells at the end. Pure: no I/O, `now` is explicit.

The package follows that pass: `periods` (period keys, `parse_period`), `measures` (the
per-KPI cells and their arithmetic), `calibration` (the bands of a score), `report` (the
result objects and their JSON) and `compute` (the pass itself).

Semantics (the RevOps reading of `kpis.yaml`):

* **Scope.** A lead is in scope of a KPI when its `where` holds (every lead when there is
  none) and, when the KPI has a `cohort`, that timestamp is recorded. A cohort timestamp at
  the ends of the calendar (the years 1 and 9999) whose period cannot be worked out in the
  agreement's timezone (its bounds, or its end plus the maturity, are not dates) is bad data:
  the lead is left out of that KPI, as one without the timestamp is. A record that cannot be
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

from .compute import compute_kpis
from .measures import MISSING_GROUP, group_text, meets, percentile
from .periods import PeriodRange, parse_period
from .report import (
    BandCalibration,
    KpiReport,
    KpiResult,
    KpiValue,
    PeriodValue,
    ScoreCalibration,
)

__all__ = ["MISSING_GROUP", "BandCalibration", "KpiReport", "KpiResult", "KpiValue",
           "PeriodRange", "PeriodValue", "ScoreCalibration", "compute_kpis", "group_text",
           "meets", "parse_period", "percentile"]
