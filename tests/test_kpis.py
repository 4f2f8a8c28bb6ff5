"""KPIs and band calibration: recomputed independently in pandas, plus validation and the CLI.

The differential test generates 50,000 seeded leads (benchmarks/generate_leads.py), evaluates
them once with the plain engine, builds a DataFrame of the coerced values, definition verdicts,
scores, bands and service-level statuses, and recomputes every KPI of a copy of the example
agreement (with extra KPIs covering every measure, zero denominators, empty and missing groups,
immature cohorts, percentiles of a field and of a duration, ISO weeks and a business-calendar
duration) with pandas' own groupby, quantile, mean and period arithmetic. The one thing the
pandas side borrows from slaengine is `BusinessCalendar.elapsed` for the business-hours
duration (a second implementation of opening hours would test nothing more here). The KPI
conditions (`where`, numerator, denominator) are written out by hand as pandas masks.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import pytest

import slaengine
from slaengine.agreement.models.conditions import Condition
from slaengine.agreement.models.sections import Kpi
from slaengine.cli import main
from slaengine.evaluate.calendars import BusinessCalendar
from slaengine.evaluate.evaluator import Engine
from slaengine.evaluate.leads import read_leads
from slaengine.kpis import KpiReport, compute_kpis, parse_period, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate_leads import write_leads  # type: ignore[import-not-found]  # noqa: E402

NOW_TEXT = "2026-11-20T10:00:00+01:00"
NOW = datetime.fromisoformat(NOW_TEXT)
TZ = "Europe/Amsterdam"
N_LEADS = 50_000
SEED = 11

EXTRA_KPIS = """
  zero_denominator:
    title: Never measurable
    ratio:
      numerator: {field: sql_at, exists: true}
      denominator: {field: employee_count, lt: 0}
    cohort: mql_at
    period: month
    group_by: industry
    target: {gte: 0.1}
    unit: "%"
  p90_employees:
    title: Company size, 90th percentile
    percentile: {p: 90, field: employee_count}
    where: {definition: icp_fit}
    cohort: created_at
    period: week
    group_by: country
    target: {lte: 2000}
  p75_first_touch:
    title: First touch, 75th percentile in business hours
    percentile: {p: 75, duration: {from: mql_at, to: first_touch_at, unit: h, calendar: business}}
    cohort: mql_at
    period: month
    target: {lte: 16}
  touch_to_accept:
    title: First touch to acceptance
    median_duration: {from: first_touch_at, to: accepted_at, unit: h}
    group_by: owner_rep
    target: {lte: 48}
  sql_to_opportunity_days:
    title: SQL to opportunity, business days of 24 business hours
    median_duration: {from: sql_at, to: opportunity_at, unit: d, calendar: business}
    cohort: sql_at
    period: quarter
    maturity: 30d
  average_deal:
    title: Average won deal
    average: amount
    where: {field: won_at, exists: true}
    cohort: won_at
    period: quarter
    group_by: industry
    target: {gte: 20000}
    unit: EUR
  median_clicks:
    title: Median email clicks
    median: email_clicks
    cohort: created_at
    period: month
    maturity: 60d
    group_by: seniority
    target: {gte: 2}
  hot_mqls:
    title: Hot MQLs
    count: true
    where:
      all:
        - {definition: mql}
        - {score: engagement, gte: 70}
    cohort: mql_at
    period: week
    group_by: webinar_attended
    target: {gte: 5}
  clicks_in_software:
    title: Email clicks in software and fintech
    sum: email_clicks
    where: {field: industry, in: [software, fintech]}
    group_by: industry
    target: {gte: 100}
  opportunity_attainment:
    title: SQLs turned into opportunities in time
    attainment: sql_to_opportunity
    cohort: sql_at
    period: quarter
    maturity: 14d
    group_by: owner_rep
    target: {gte: 0.8, lte: 1}
    unit: "%"
"""


def _present(s: pd.Series) -> pd.Series:
    return s.notna()


# The KPI conditions, written out by hand in pandas: (where, numerator, denominator).
Mask = Callable[[pd.DataFrame], pd.Series]
MASKS: dict[str, dict[str, Mask]] = {
    "mql_volume": {"where": lambda d: _present(d.mql_at)},
    "mql_to_sql": {"num": lambda d: _present(d.sql_at), "den": lambda d: _present(d.mql_at)},
    "win_rate": {"num": lambda d: _present(d.won_at),
                 "den": lambda d: _present(d.won_at) | _present(d.lost_at)},
    "marketing_sourced_pipeline": {
        "where": lambda d: _present(d.opportunity_at) & _present(d.source)
        & (d.source != "outbound")},
    "revenue_by_source": {"where": lambda d: _present(d.won_at)},
    "zero_denominator": {"num": lambda d: _present(d.sql_at),
                         "den": lambda d: _present(d.employee_count) & (d.employee_count < 0)},
    "p90_employees": {"where": lambda d: d.def_icp_fit},
    "average_deal": {"where": lambda d: _present(d.won_at)},
    "hot_mqls": {"where": lambda d: d.def_mql & (d.score_engagement >= 70)},
    "clicks_in_software": {"where": lambda d: d.industry.isin(["software", "fintech"])},
}


# ---------------------------------------------------------------- the data, once per module


@pytest.fixture(scope="module")
def agreement_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kpis") / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    kpis = folder / "kpis.yaml"
    kpis.write_text(kpis.read_text().rstrip("\n") + "\n" + EXTRA_KPIS)
    return folder


@pytest.fixture(scope="module")
def agreement(agreement_dir: Path) -> slaengine.Agreement:
    return slaengine.load_agreement(agreement_dir)


@pytest.fixture(scope="module")
def lead_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("leads") / "leads.jsonl"
    write_leads(path, N_LEADS, SEED, "jsonl")  # one line in 50,000 is cut short
    return path


@pytest.fixture(scope="module")
def frame(agreement: slaengine.Agreement, lead_file: Path) -> tuple[pd.DataFrame, int]:
    """The evaluated leads as a DataFrame, and the number of unreadable records."""
    rows, unreadable = [], 0
    for decision in agreement.evaluate_many(read_leads(lead_file), NOW):
        if not decision.evaluated:
            unreadable += 1
            continue
        row = dict(decision.values)
        row.update({f"def_{k}": v for k, v in decision.verdicts.items()})
        row.update({f"score_{k}": v for k, v in decision.score_values.items()})
        row.update({f"band_{k}": v for k, v in decision.band_values.items()})
        row.update({f"sl_{k}": c.status for k, c in decision.service_levels.items()})
        rows.append(row)
    df = pd.DataFrame(rows).reindex(columns=[*agreement.spec.fields, *rows[0]])
    df = df.loc[:, ~df.columns.duplicated()]
    for name, spec in agreement.spec.fields.items():
        if spec.type == "datetime":
            df[name] = pd.to_datetime(df[name], utc=True)
    return df, unreadable


@pytest.fixture(scope="module")
def report(agreement: slaengine.Agreement, lead_file: Path) -> KpiReport:
    return agreement.kpis(read_leads(lead_file), now=NOW)


# ---------------------------------------------------------------- the pandas recomputation


def period_keys(stamps: pd.Series, kind: str) -> pd.Series:
    local = stamps.dt.tz_convert(TZ)
    if kind == "month":
        return local.dt.strftime("%Y-%m")
    if kind == "quarter":
        return local.dt.year.astype(str) + "-Q" + local.dt.quarter.astype(str)
    iso = local.dt.isocalendar()
    return iso.year.astype(str) + "-W" + iso.week.astype(str).str.zfill(2)


def period_bounds(key: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start and end of a period key in the agreement's timezone, by pandas' own Periods."""
    if "-W" in key:
        year, week = key.split("-W")
        monday = pd.Timestamp(date.fromisocalendar(int(year), int(week), 1))
        return monday.tz_localize(TZ), (monday + pd.Timedelta(days=7)).tz_localize(TZ)
    period = pd.Period(key.replace("-Q", "Q"), freq="Q" if "-Q" in key else "M")
    return period.start_time.tz_localize(TZ), (period + 1).start_time.tz_localize(TZ)


def group_keys(values: pd.Series) -> pd.Series:
    def text(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return "(missing)"
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    return values.map(text).astype(object)


def business_hours(df: pd.DataFrame, start: str, end: str) -> pd.Series:
    calendar = BusinessCalendar.from_model(
        slaengine.load_agreement(ROOT / "agreement").spec.calendars["business"], TZ)
    return df.apply(lambda r: calendar.elapsed(r[start].timestamp(), r[end].timestamp()), axis=1)


def meets(value: float | None, kpi: Kpi) -> bool | None:
    if value is None or kpi.target is None:
        return None
    low, high = kpi.target.gte, kpi.target.lte
    return bool((low is None or value >= low) and (high is None or value <= high))


def expected(name: str, kpi: Kpi, df: pd.DataFrame,
             window: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> dict[str, Any]:
    masks = MASKS.get(name, {})
    scope = masks["where"](df) if "where" in masks else pd.Series(True, index=df.index)
    if kpi.cohort is not None:
        scope &= df[kpi.cohort].notna()
        if window is not None:
            scope &= (df[kpi.cohort] >= window[0]) & (df[kpi.cohort] < window[1])
    d = df[scope.fillna(False).astype(bool)].copy()
    now = pd.Timestamp(NOW)
    maturity = pd.Timedelta(seconds=kpi.maturity.seconds) if kpi.maturity else None
    d["_mature"] = d[kpi.cohort] <= now - maturity if maturity is not None else True
    if kpi.period is not None:
        d["_period"] = period_keys(d[kpi.cohort], kpi.period)
    if kpi.group_by is not None:
        d["_group"] = group_keys(d[kpi.group_by])
    measure = kpi.measure
    if measure == "ratio":
        d["_den"] = masks["den"](d).fillna(False).astype(bool)
        d["_num"] = d["_den"] & masks["num"](d).fillna(False).astype(bool)
    elif measure == "attainment":
        status = d[f"sl_{kpi.attainment}"]
        d["_den"] = status.isin(["met", "breached"])
        d["_num"] = status == "met"
    duration = kpi.median_duration or (kpi.percentile.duration if kpi.percentile else None)
    d["_invalid"] = False
    if duration is not None:
        start, end = d[duration.from_], d[duration.to]
        both = start.notna() & end.notna()
        d["_invalid"] = both & (end < start)
        ok = d[both & (end >= start)]
        unit = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[duration.unit]
        seconds = ((ok[duration.to] - ok[duration.from_]).dt.total_seconds()
                   if duration.calendar is None
                   else business_hours(ok, duration.from_, duration.to))
        d["_value"] = seconds / unit
    elif measure in ("sum", "average", "median") or kpi.percentile is not None:
        source = getattr(kpi, measure) if kpi.percentile is None else kpi.percentile.field
        d["_value"] = d[source].astype(float)

    def aggregate(sub: pd.DataFrame) -> dict[str, Any]:
        value: float | None
        if measure == "count":
            value = measured = len(sub)
        elif measure in ("ratio", "attainment"):
            measured = int(sub["_den"].sum())
            value = int(sub["_num"].sum()) / measured if measured else None
        else:
            values = sub["_value"].dropna()
            measured = len(values)
            if measure == "sum":
                value = float(values.sum())
            elif measured == 0:
                value = None
            elif measure == "average":
                value = float(values.mean())
            elif measure == "percentile":
                assert kpi.percentile is not None
                value = float(values.quantile(kpi.percentile.p / 100))
            else:
                value = float(values.median())
        return {"value": value, "met": meets(value, kpi), "leads": len(sub),
                "measured": measured}

    mature = d[d["_mature"]]
    out: dict[str, Any] = {"title": kpi.title, "unit": kpi.unit, **aggregate(mature)}
    out["target"] = kpi.target.model_dump(exclude_none=True) if kpi.target else None
    out["immature"] = int((~d["_mature"]).sum())
    out["invalid"] = int(mature["_invalid"].sum())
    out["by_period"] = {}
    if kpi.period is not None:
        for key, sub in d.groupby("_period"):
            end = period_bounds(str(key))[1]
            ripe = maturity is None or end + maturity <= now
            out["by_period"][str(key)] = {**aggregate(sub), "mature": bool(ripe)}
    out["by_group"] = {}
    if kpi.group_by is not None:
        for key, sub in mature.groupby("_group"):
            out["by_group"][str(key)] = aggregate(sub)
    return out


def same(actual: Any, wanted: Any, where: str = "") -> None:
    """Equal, floats to 1e-12 relative; dict keys as sets (order is the renderer's business)."""
    if isinstance(wanted, dict):
        assert isinstance(actual, dict), where
        assert sorted(actual) == sorted(wanted), f"{where}: {sorted(actual)} != {sorted(wanted)}"
        for key in wanted:
            same(actual[key], wanted[key], f"{where}.{key}")
    elif isinstance(wanted, float) or isinstance(actual, float):
        assert actual is not None and wanted is not None, f"{where}: {actual} != {wanted}"
        assert math.isclose(actual, wanted, rel_tol=1e-12), f"{where}: {actual} != {wanted}"
    else:
        assert actual == wanted, f"{where}: {actual!r} != {wanted!r}"


# ---------------------------------------------------------------- differential tests


def test_every_kpi_equals_its_pandas_recomputation(agreement: slaengine.Agreement,
                                                   frame: tuple[pd.DataFrame, int],
                                                   report: KpiReport) -> None:
    df, unreadable = frame
    assert report.records == N_LEADS and report.unreadable == unreadable == 1
    got = report.to_json()
    assert list(got) == list(agreement.spec.kpis)
    for name, kpi in agreement.spec.kpis.items():
        same(got[name], expected(name, kpi, df), name)


def test_the_differential_data_exercises_every_edge(report: KpiReport) -> None:
    """Each case the pandas comparison is meant to cover does occur in the data."""
    k = report.kpis
    assert {r.kpi.measure for r in k.values()} == {
        "count", "ratio", "sum", "average", "median", "percentile", "median_duration",
        "attainment"}
    zero = k["zero_denominator"]
    assert zero.value is None and zero.met is None and zero.leads > 1000
    assert zero.by_group and all(g.value is None for g in zero.by_group.values())
    assert "government" not in k["clicks_in_software"].by_group  # no lead in scope: no group
    assert set(k["clicks_in_software"].by_group) == {"software", "fintech"}
    assert "(missing)" in k["median_clicks"].by_group and "(missing)" in k["hot_mqls"].by_group
    assert {"true", "false"} <= set(k["hot_mqls"].by_group)
    for name in ("mql_to_sql", "median_clicks"):
        periods = k[name].by_period.values()
        assert any(p.mature for p in periods) and any(not p.mature for p in periods)
        assert k[name].immature > 0
    assert k["touch_to_accept"].invalid > 100  # acceptance recorded before the first touch
    assert k["p75_first_touch"].value is not None and k["p90_employees"].by_period
    assert all(key[5] == "W" for key in k["p90_employees"].by_period)
    assert k["opportunity_attainment"].measured > 0


def test_a_period_restricts_every_kpi_with_a_cohort(agreement: slaengine.Agreement,
                                                    frame: tuple[pd.DataFrame, int],
                                                    lead_file: Path) -> None:
    df, _ = frame
    restricted = agreement.kpis(read_leads(lead_file), now=NOW, period="2026-Q3")
    window = period_bounds("2026-Q3")
    got = restricted.to_json()
    for name, kpi in agreement.spec.kpis.items():
        same(got[name], expected(name, kpi, df, window if kpi.cohort else None), name)
        assert restricted.kpis[name].period_applied == (kpi.cohort is not None)
    assert set(got["mql_to_sql"]["by_period"]) == {"2026-07", "2026-08", "2026-09"}
    assert set(got["median_clicks"]["by_period"]) == {"2026-07", "2026-08", "2026-09"}


def test_band_calibration_equals_its_pandas_recomputation(agreement: slaengine.Agreement,
                                                          frame: tuple[pd.DataFrame, int],
                                                          report: KpiReport) -> None:
    df, _ = frame
    score = agreement.spec.scores["engagement"]
    assert score.calibration is not None
    cohort = df[df.created_at.notna()]
    mature = cohort[cohort.created_at <= pd.Timestamp(NOW) - pd.Timedelta(days=90)]
    bands = {}
    for band in score.bands:
        sub = mature[mature.band_engagement == band.label]
        converted = int(sub.sql_at.notna().sum())
        actual = converted / len(sub) if len(sub) else None
        diff = None if actual is None or band.expected_conversion is None else (
            actual - band.expected_conversion)
        bands[band.label] = {
            "leads": len(sub), "converted": converted, "actual": actual,
            "expected": band.expected_conversion, "difference": diff,
            "too_few_leads": len(sub) < 30,
            "flagged": len(sub) >= 30 and diff is not None and abs(diff) > 0.05}
    wanted = {"title": "Engagement score", "converted": "Became an SQL is recorded",
              "tolerance": 0.05, "min_leads": 30, "maturity": "90d",
              "leads": int(mature.band_engagement.notna().sum()),
              "immature": len(cohort) - len(mature),
              "without_band": int(mature.band_engagement.isna().sum()), "bands": bands}
    got = report.to_json(calibration=True)
    assert set(got) == {"kpis", "calibration"}
    same(got["calibration"]["engagement"], wanted, "calibration")
    assert any(b["flagged"] for b in bands.values())  # the example bands are off somewhere


# ---------------------------------------------------------------- the compiled conditions


def test_compiled_kpi_conditions_agree_with_the_interpreter(agreement: slaengine.Agreement
                                                            ) -> None:
    plain, engine = agreement.engine, agreement.engine.for_kpis()
    assert engine is plain.for_kpis() and engine.kpis and not plain.kpis
    sections = {s for s, _ in engine.compiled.extra_paths} - {s for s, _ in
                                                             plain.compiled.extra_paths}
    assert sections == {"kpi_where", "kpi_numerator", "kpi_denominator", "calibration"}
    spec = agreement.spec
    checked = 0
    for record in read_leads(ROOT / "examples" / "leads.jsonl"):
        assert record.data is not None
        values, _ = engine.coerce(record.data)
        extras = engine.compiled.run(values, NOW.astimezone(UTC))[3]
        run = engine.interpreter.run(values, NOW.astimezone(UTC))
        for i, (section, name) in enumerate(engine.compiled.extra_paths):
            condition: Condition | None
            if section == "calibration":
                calibration = spec.scores[name].calibration
                condition = calibration.converted if calibration else None
            elif section.startswith("kpi_"):
                kpi = spec.kpis[name]
                ratio = kpi.ratio
                condition = {"kpi_where": kpi.where,
                             "kpi_numerator": ratio.numerator if ratio else None,
                             "kpi_denominator": ratio.denominator if ratio else None}[section]
            else:
                continue
            assert condition is not None
            assert extras[i] == run.holds(condition), (record.row, section, name)
            checked += 1
    assert checked > 2000 * 10


# ---------------------------------------------------------------- periods and arithmetic


@pytest.mark.parametrize(("moment", "month", "quarter", "week"), [
    ("2026-09-30T22:30:00Z", "2026-10", "2026-Q4", "2026-W40"),  # already October in Amsterdam
    ("2026-12-31T22:59:59Z", "2026-12", "2026-Q4", "2026-W53"),
    ("2026-12-31T23:00:00Z", "2027-01", "2027-Q1", "2026-W53"),  # ISO year 2026
    ("2025-12-28T23:00:00Z", "2025-12", "2025-Q4", "2026-W01"),  # Monday 29 Dec: ISO 2026
    ("2026-03-29T01:30:00Z", "2026-03", "2026-Q1", "2026-W13"),  # just after spring forward
])
def test_period_keys_follow_the_agreement_timezone_and_iso_weeks(
        agreement: slaengine.Agreement, moment: str, month: str, quarter: str,
        week: str) -> None:
    leads = [{"lead_id": "A", "mql_at": moment, "created_at": moment, "sql_at": moment}]
    got = agreement.kpis(leads, now=NOW)
    assert list(got.kpis["mql_volume"].by_period) == [month]
    assert list(got.kpis["p90_employees"].by_period) == []  # not an ICP fit: out of scope
    assert list(got.kpis["hot_mqls"].by_period) == []
    assert list(got.kpis["sql_to_opportunity_days"].by_period) == [quarter]
    tz = agreement.engine.tz
    for key in (month, quarter, week):
        period = parse_period(key, tz)
        assert period.key == key
        assert period.start <= datetime.fromisoformat(moment) < period.end


def test_parse_period_rejects_what_is_not_a_period() -> None:
    tz = slaengine.load_agreement(ROOT / "agreement").engine.tz
    for text in ("2026-13", "2026-Q5", "2025-W53", "October", "2026-10-01", "2026-W0"):
        with pytest.raises(ValueError):
            parse_period(text, tz)
    assert parse_period("2026-W53", tz).end - parse_period("2026-W53", tz).start == timedelta(
        days=7)


def test_percentile_interpolates_like_numpy() -> None:
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0]
    for p in (1, 10, 25, 50, 62.5, 75, 90, 99):
        assert math.isclose(percentile(sorted(values), p),  # type: ignore[arg-type]
                            float(pd.Series(values).quantile(p / 100)), rel_tol=1e-15)
    assert percentile([], 50) is None and percentile([7], 90) == 7.0


def test_unreadable_and_bad_values(agreement: slaengine.Agreement, tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text('{"lead_id": "A", "mql_at": "2026-10-02T10:00:00Z", "sql_at": "soon"}\n'
                    'not json\n'
                    '{"lead_id": "B", "mql_at": "2026-10-03T10:00:00Z"}\n')
    got = agreement.kpis(read_leads(path), now=NOW)
    assert (got.records, got.with_errors, got.unreadable) == (3, 2, 1)
    volume = got.kpis["mql_volume"]
    assert volume.value == 2 and volume.by_period["2026-10"].leads == 2
    assert volume.met is False  # 2 < 400
    assert got.kpis["mql_to_sql"].by_period["2026-10"].value == 0.0  # "soon" is missing


# ---------------------------------------------------------------- validation


def _edited(tmp_path: Path, kpi_yaml: str, scoring: str | None = None) -> Path:
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    (folder / "kpis.yaml").write_text("kpis:\n" + kpi_yaml)
    if scoring is not None:
        path = folder / "scoring.yaml"
        text = path.read_text()
        start = text.index("    calibration:")
        path.write_text(text[:start] + scoring)
    return folder


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("snippet", "needle", "code"), [
    ("  k:\n    title: Revenue\n    sum: revenue\n", "sum: revenue", "unknown-field"),
    ("  k:\n    title: Revenue\n    sum: industry\n", "sum: industry", "not-numeric"),
    ("  k:\n    title: Cycle\n    median_duration: {from: industry, to: won_at}\n",
     "median_duration", "not-a-timestamp"),
    ("  k:\n    title: SLA\n    attainment: mql_first_tuch\n", "attainment:",
     "unknown-service-level"),
    ("  k:\n    title: Count\n    count: true\n    cohort: mql_at\n    maturity: 2bd\n",
     "maturity:", "business-days-without-calendar"),
])
def test_invalid_kpis_are_rejected_where_they_are_written(tmp_path: Path, snippet: str,
                                                          needle: str, code: str) -> None:
    folder = _edited(tmp_path, snippet)
    result = slaengine.validate_folder(folder, today=date(2026, 11, 22))
    errors = [d for d in result.errors if d.code == code]
    assert len(errors) == 1, [d.format() for d in result.diagnostics]
    location = errors[0].location
    assert location is not None
    assert Path(location.file).name == "kpis.yaml"
    assert location.line == _line_of(folder / "kpis.yaml", needle)
    assert {d.code for d in result.errors} == {code}


@pytest.mark.parametrize(("snippet", "needle", "code"), [
    ("    calibration:\n      converted: {field: sql_date, exists: true}\n",
     "converted", "unknown-field"),
    ("    calibration:\n      converted: {field: sql_at, exists: true}\n      cohort: industry\n",
     "cohort:", "not-a-timestamp"),
    ("    calibration:\n      converted: {field: sql_at, exists: true}\n      maturity: 90d\n",
     "maturity:", "missing-cohort"),
    ("    calibration:\n      converted: {definition: sqll}\n", "converted", "unknown-definition"),
])
def test_invalid_calibrations_are_rejected(tmp_path: Path, snippet: str, needle: str,
                                           code: str) -> None:
    folder = _edited(tmp_path, (ROOT / "agreement" / "kpis.yaml").read_text().split(
        "kpis:\n", 1)[1], snippet)
    result = slaengine.validate_folder(folder, today=date(2026, 11, 22))
    assert {d.code for d in result.errors} == {code}, [d.format() for d in result.diagnostics]
    location = result.errors[0].location
    assert location is not None and Path(location.file).name == "scoring.yaml"
    assert location.line == _line_of(folder / "scoring.yaml", needle)


def test_the_example_agreement_stays_valid_and_approved() -> None:
    result = slaengine.validate_folder(ROOT / "agreement", today=date(2026, 11, 22))
    assert result.diagnostics == []
    assert result.structured is not None
    assert result.structured.spec.scores["engagement"].calibration is not None


# ---------------------------------------------------------------- the command


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["kpis", "--leads", str(ROOT / "examples" / "leads.jsonl"), "--now", NOW_TEXT,
              "--agreement", str(ROOT / "agreement"), *args])
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_kpis_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--format", "json")
    assert code == 0 and "2,000 records" in err
    doc = json.loads(out)
    spec = slaengine.load_agreement(ROOT / "agreement").spec
    assert list(doc) == list(spec.kpis)
    for name, entry in doc.items():
        assert set(entry) == {"title", "unit", "value", "target", "met", "leads", "measured",
                              "immature", "invalid", "by_period", "by_group"}
        assert entry["title"] == spec.kpis[name].title
        for period in entry["by_period"].values():
            assert set(period) == {"value", "met", "leads", "measured", "mature"}
        for group in entry["by_group"].values():
            assert set(group) == {"value", "met", "leads", "measured"}
    assert doc["mql_to_sql"]["target"] == {"gte": 0.25}
    assert doc["sales_cycle_days"]["target"] == {"lte": 60}
    assert doc["revenue_by_source"]["target"] is None and doc["revenue_by_source"]["by_group"]
    assert list(doc["mql_volume"]["by_period"]) == sorted(doc["mql_volume"]["by_period"])
    assert doc["mql_volume"]["value"] == sum(p["value"] for p in
                                             doc["mql_volume"]["by_period"].values())


def test_kpis_period_restricts_the_leads(capsys: pytest.CaptureFixture[str]) -> None:
    _, everything, _ = cli(capsys, "--format", "json")
    code, october, _ = cli(capsys, "--format", "json", "--period", "2026-10")
    assert code == 0
    whole, only = json.loads(everything), json.loads(october)
    assert list(only["mql_volume"]["by_period"]) == ["2026-10"]
    assert only["mql_volume"]["value"] == whole["mql_volume"]["by_period"]["2026-10"]["value"]
    assert only["sales_cycle_days"] == whole["sales_cycle_days"]  # no cohort: all leads
    code, text, _ = cli(capsys, "--period", "2026-10")
    assert "Period 2026-10" in text and "no cohort: over all leads, not only 2026-10" in text


def test_kpis_table_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, table, _ = cli(capsys)
    assert code == 0
    assert "MQL to SQL conversion [mql_to_sql]" in table
    assert ("Leads where became an SQL is recorded, as a share of the leads where became an "
            "MQL is recorded") in table
    assert "at least 25%" in table and "still maturing" in table
    assert "Calibration" not in table
    code, markdown, _ = cli(capsys, "--format", "markdown")
    assert code == 0 and markdown.startswith("# KPIs: Northwind")
    assert "| KPI | Target | Headline period | Value | Met | Leads | Trend |" in markdown
    assert "## MQL to SQL conversion (`mql_to_sql`)" in markdown
    assert "| Lead source | Value | Met | Leads |" in markdown
    assert "Calibration" not in markdown
    # A currency reads the same way in the target and in the value beside it (issue 19).
    pipeline = next(line for line in markdown.splitlines()
                    if line.startswith("| Marketing-sourced pipeline (EUR)"))
    assert "| at least 1,500,000 EUR |" in pipeline and re.search(r"\| [\d,]+ EUR \|", pipeline)


def test_kpis_calibration_shows_the_bands(capsys: pytest.CaptureFixture[str]) -> None:
    code, table, _ = cli(capsys, "--calibration")
    assert code == 0 and "Calibration of Engagement score [engagement]" in table
    for band in ("cold", "warm", "hot"):
        assert any(line.strip().startswith(band) for line in table.splitlines())
    assert "too few leads" in table  # 19 hot leads at least 90 days old in the examples
    code, markdown, _ = cli(capsys, "--calibration", "--format", "markdown")
    assert "## Calibration of the scoring model" in markdown
    assert "| Band | Leads | Converted | Actual | Expected | Difference | Verdict |" in markdown
    code, out, _ = cli(capsys, "--calibration", "--format", "json")
    doc = json.loads(out)
    assert set(doc) == {"kpis", "calibration"}
    assert list(doc["calibration"]["engagement"]["bands"]) == ["cold", "warm", "hot"]


@pytest.mark.parametrize(("args", "message"), [
    (("--engine", "duckdb", "--leads", "-"), "the duckdb engine reads files"),
    (("--period", "2026-13"), "is not a period"),
])
def test_kpis_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                  message: str) -> None:
    code, _, err = cli(capsys, *args)
    assert code == 2 and message in err


def test_kpis_on_an_invalid_agreement_exits_1(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    folder = _edited(tmp_path, "  k:\n    title: Revenue\n    sum: revenue\n")
    code, out, err = cli(capsys, "--agreement", str(folder))
    assert code == 1 and out == "" and "unknown-field" in err


def test_engine_for_kpis_keeps_the_mapping() -> None:
    agreement = slaengine.load_agreement(ROOT / "agreement")
    engine = Engine(agreement.spec, agreement.digest, agreement.loaded, {"mql_at": "MQL Date"})
    leads: list[dict[str, Any]] = [{"MQL Date": "2026-10-05T10:00:00Z"}, {"MQL Date": None}]
    assert engine.for_kpis().mapping == {"mql_at": "MQL Date"}
    assert compute_kpis(engine, iter(leads), NOW).kpis["mql_volume"].value == 1
    assert agreement.kpis(iter(leads), NOW).kpis["mql_volume"].value == 0  # no such column
