"""The KPIs compiled to SQL: DuckDB's KPI query against the Python KPIs (`compute_kpis`).

(a) Seeded generated leads (CSV, JSON Lines, Parquet) on the example agreement with a KPI of
every measure (`test_kpis.EXTRA_KPIS`), whole, restricted by `--period` and with the
calibration: `kpis_file` gives the report `compute_kpis` gives, byte for byte in JSON.
(b) Handcrafted leads: missing and bad values, unreadable records, boundary values, negative
durations, cohorts on a local month, quarter and ISO-week boundary, DST, a `date` cohort,
groups of booleans, integers, numbers and dates, sums of floats.
(c) Random agreements and leads (hypothesis).
(d) The printed query: every dialect's parses back; refusals name the construct; the
duckdb one, with `--what calendar`'s tables, gives the Python values on a typed relation.
(e) The pieces: time limits, period keys, DuckDB's text of a double, the interpolation and
the exact sums, each against the Python they reproduce.
(f) The command: `kpis --engine duckdb` writes what `--engine python` writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import orjson
import pytest
import sqlglot
import sqlglot.expressions as exp
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.agreement.diagnostics import UsageError
from slaengine.agreement.models import AgreementSpec
from slaengine.cli import main
from slaengine.cli.kpis import RENDERERS
from slaengine.evaluate.evaluator import Engine
from slaengine.evaluate.leads import read_leads
from slaengine.kpis import KpiReport, compute_kpis, parse_period, percentile
from slaengine.kpis.periods import Periods
from slaengine.sql import DIALECTS, Unsupported, compile_decisions, dialect
from slaengine.sql import kpis as sql_kpis
from slaengine.sql.duckdb.kpis import kpis_file
from slaengine.sql.duckdb.runner import DuckRun
from slaengine.sql.kpiagg import interpolate
from slaengine.sql.kpiplan import KpiPlan
from slaengine.sql.kpitables import BASE, DAY, PeriodKeys, day_of, first_us, last_us
from slaengine.sql.numbers import double
from strategies import agreements
from test_duckdb import _handcrafted, _jsonl, relation
from test_kpis import EXTRA_KPIS, cli
from test_properties import engine_for, instants, leads_for

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate_leads import WRITERS, write_leads  # type: ignore[import-not-found]  # noqa: E402

NOW_TEXT = "2026-11-20T10:00:00+01:00"
NOW = dt.datetime.fromisoformat(NOW_TEXT)
N_LEADS = 8000
SEED = 11

# KPIs the example agreement lacks: a `date` cohort and duration end, groups of every kind
# SQL can key (boolean, integer, number, date), a business-minute percentile.
HAND_KPIS = """
  signed_by_month:
    title: Deals signed
    count: true
    cohort: signed_on
    period: month
    maturity: 30d
    group_by: demo_requested
  signing_days:
    title: Won to signed
    median_duration: {from: won_at, to: signed_on, unit: d}
    cohort: signed_on
    period: week
    group_by: signed_on
  amount_by_size:
    title: Amount by company size
    sum: amount
    group_by: employee_count
  amount_groups:
    title: Average amount by amount
    average: amount
    group_by: amount
  business_touch:
    title: First touch, 90th percentile in business minutes
    percentile: {p: 90, duration: {from: mql_at, to: first_touch_at, unit: m, calendar: business}}
    cohort: mql_at
    period: quarter
"""


def _agreement(folder: Path, kpis: str, fields: str = "") -> Path:
    shutil.copytree(ROOT / "agreement", folder)
    path = folder / "kpis.yaml"
    path.write_text(path.read_text().rstrip("\n") + "\n" + kpis)
    if fields:
        path = folder / "fields.yaml"
        path.write_text(path.read_text().rstrip("\n") + "\n" + fields)
    return folder


@pytest.fixture(scope="module")
def agreement(tmp_path_factory: pytest.TempPathFactory) -> slaengine.Agreement:
    return slaengine.load_agreement(_agreement(tmp_path_factory.mktemp("sql_kpis") / "a",
                                               EXTRA_KPIS))


@pytest.fixture(scope="module")
def hand_agreement(tmp_path_factory: pytest.TempPathFactory) -> slaengine.Agreement:
    return slaengine.load_agreement(_agreement(
        tmp_path_factory.mktemp("sql_kpis_hand") / "a", EXTRA_KPIS + HAND_KPIS,
        "  signed_on: {type: date, title: Contract signed}\n"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sql_kpis_leads")
    files = {}
    for fmt in ("jsonl", "csv", "parquet", "parquet-typed"):
        if fmt in WRITERS:  # typed timestamps: a warehouse table's columns
            files[fmt] = folder / f"leads-{fmt}.{fmt.split('-')[0]}"
            write_leads(files[fmt], N_LEADS, SEED, fmt)
    return files


_REPORTS: dict[tuple[int, Path, str | None], tuple[KpiReport, KpiReport]] = {}


def both(engine: Engine, path: Path, period: str | None = None) -> tuple[KpiReport, KpiReport]:
    """Python's report and DuckDB's (each file's worked out once per module: a DuckDB run
    sets up for seconds)."""
    key = (id(engine), path, period)
    if key not in _REPORTS:
        window = parse_period(period, engine.tz) if period else None
        _REPORTS[key] = (compute_kpis(engine, read_leads(path), NOW, window),
                         kpis_file(engine, path, NOW, window))
    return _REPORTS[key]


def assert_same_report(python: KpiReport, duck: KpiReport) -> None:
    """The same report: JSON byte for byte (every value exact), and every renderer's text."""
    assert (duck.records, duck.with_errors, duck.unreadable) == (
        python.records, python.with_errors, python.unreadable)
    want, got = python.to_json(calibration=True), duck.to_json(calibration=True)
    for name in want["kpis"]:
        assert got["kpis"][name] == want["kpis"][name], name
    assert got == want
    assert orjson.dumps(got) == orjson.dumps(want)  # ints stay ints, floats to the last bit
    for render in RENDERERS.values():
        assert render(duck, True) == render(python, True)


# ---------------------------------------------------------------- (a) generated leads


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "parquet-typed"])
def test_generated_leads_give_the_python_report(agreement: slaengine.Agreement,
                                                generated: dict[str, Path], fmt: str) -> None:
    if fmt not in generated:
        pytest.skip(f"the lead generator does not write {fmt}")
    python, duck = both(agreement.engine, generated[fmt])
    assert_same_report(python, duck)
    k = python.kpis
    assert python.records == N_LEADS
    assert {r.kpi.measure for r in k.values()} == {
        "count", "ratio", "sum", "average", "median", "percentile", "median_duration",
        "attainment"}
    # The data reaches the cases the SQL treats apart.
    assert k["touch_to_accept"].invalid > 0 and k["mql_to_sql"].immature > 0
    assert k["zero_denominator"].value is None and k["p75_first_touch"].value is not None
    assert isinstance(k["clicks_in_software"].value, int)  # a sum of ints stays an int
    assert isinstance(k["revenue_by_source"].value, float)  # fsum, to the last bit
    assert isinstance(k["marketing_sourced_pipeline"].value, float)
    assert k["p90_employees"].by_period and all(key[4:6] == "-W" for key in
                                                k["p90_employees"].by_period)
    assert {"true", "false", "(missing)"} <= set(k["hot_mqls"].by_group)


@pytest.mark.parametrize("period", ["2026-10", "2026-Q3", "2026-W43"])
def test_a_period_restricts_the_leads_as_in_python(agreement: slaengine.Agreement,
                                                    generated: dict[str, Path],
                                                    period: str) -> None:
    python, duck = both(agreement.engine, generated["csv"], period)
    assert_same_report(python, duck)
    assert duck.period is not None and duck.period.key == period
    assert not duck.kpis["sales_cycle_days"].period_applied  # no cohort: every lead
    window = duck.period
    assert duck.kpis["p90_employees"].by_period
    for key in duck.kpis["p90_employees"].by_period:  # weeks that overlap the period
        week = parse_period(key, agreement.engine.tz)
        assert week.start < window.end and week.end > window.start


# ---------------------------------------------------------------- (b) handcrafted leads


def _boundary_leads() -> list[dict[str, Any]]:
    base = {"industry": "software", "country": "NL", "source": "website",
            "created_at": "2026-09-01T08:00:00Z"}
    ninety = NOW - dt.timedelta(days=90)  # mql_to_sql's maturity
    return [
        # Amsterdam midnight starting October (CEST) and 2027 (CET), Monday of ISO week 43,
        # and one microsecond or second before each
        {**base, "lead_id": "B-on", "employee_count": 100, "mql_at": "2026-09-30T22:00:00Z",
         "sql_at": "2026-12-31T23:00:00Z", "created_at": "2026-10-18T22:00:00Z"},
        {**base, "lead_id": "B-before", "employee_count": 100,
         "mql_at": "2026-09-30T21:59:59.999999Z",
         "sql_at": "2026-12-31T22:59:59Z", "created_at": "2026-10-18T21:59:59Z"},
        {**base, "lead_id": "B-isoyear", "employee_count": 100,
         "created_at": "2025-12-28T23:00:00Z",
         "mql_at": "2025-12-28T22:59:59Z"},  # Monday 29 December 2025: ISO week 2026-W01
        # exactly as old as the maturity (mature), and a microsecond younger
        {**base, "lead_id": "B-mature", "mql_at": ninety.isoformat(),
         "sql_at": "2026-11-01T10:00:00Z"},
        {**base, "lead_id": "B-young",
         "mql_at": (ninety + dt.timedelta(microseconds=1)).isoformat()},
        # a date cohort (DST day, New Year), durations to a date: zero and negative
        {**base, "lead_id": "S-1", "signed_on": "2026-10-01", "won_at": "2026-09-28T15:00:00Z",
         "amount": "1200", "employee_count": 120, "demo_requested": True},
        {**base, "lead_id": "S-2", "signed_on": "2026-03-29", "won_at": "2026-03-30T15:00:00Z",
         "amount": "1200.0", "employee_count": 120},
        {**base, "lead_id": "S-3", "signed_on": "2027-01-01", "won_at": "2026-12-31T23:00:00Z",
         "amount": 0.1, "employee_count": 9007199254740991, "demo_requested": False},
        {**base, "lead_id": "S-4", "signed_on": "2026-10-21",
         "won_at": "2026-10-20T23:00:00Z", "amount": 0.2},
        {**base, "lead_id": "S-5", "signed_on": "2026-10-19", "amount": 0.3,
         "won_at": "2026-10-19T00:00:00+02:00"},
        {**base, "lead_id": "S-6", "amount": 9007199254740991,
         "won_at": "2026-10-19T00:00:00+02:00"},
        # business durations: negative, from 1850 (outside the calendars), over the DST
        # fold and gap
        {**base, "lead_id": "N-1", "mql_at": "2026-11-13T17:30:00+01:00",
         "first_touch_at": "2026-11-13T17:00:00+01:00", "sql_at": "2026-11-02T10:00:00Z",
         "won_at": "2026-11-01T10:00:00Z"},
        {**base, "lead_id": "N-2", "mql_at": "1850-01-01T10:00:00Z",
         "first_touch_at": "1850-01-02T10:00:00Z"},
        {**base, "lead_id": "N-3", "mql_at": "2026-10-25 02:30:00",
         "first_touch_at": "2026-10-26T09:00:00+01:00",
         "accepted_at": "2026-10-26T09:00:00+01:00"},
        {**base, "lead_id": "N-4", "mql_at": "2026-03-29 02:30:00",
         "first_touch_at": "2026-03-29 02:30:00"},
    ]


@pytest.fixture(scope="module")
def handcrafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`test_duckdb`'s handcrafted leads (unreadable lines, bad values, odd spellings,
    time zones) and the boundary leads above, as JSON Lines and CSV."""
    folder = tmp_path_factory.mktemp("sql_kpis_hand_leads")
    rows = [*_handcrafted(), *_boundary_leads()]
    jsonl = folder / "leads.jsonl"
    jsonl.write_bytes(_jsonl(rows))
    columns = sorted({k for r in rows for k in r})
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row[c]) for c in columns])
    text.write("extra,cells,than,the,header," + "," * len(columns) + "\n")  # read by Python
    path = folder / "leads.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    return {"jsonl": jsonl, "csv": path}


@pytest.mark.parametrize(("fmt", "period"), [
    ("jsonl", None), ("jsonl", "2026-10"), ("jsonl", "2026-W43"), ("csv", None),
    ("csv", "2026-Q4")])
def test_handcrafted_leads_give_the_python_report(hand_agreement: slaengine.Agreement,
                                                  handcrafted: dict[str, Path], fmt: str,
                                                  period: str | None) -> None:
    python, duck = both(hand_agreement.engine, handcrafted[fmt], period)
    assert_same_report(python, duck)
    assert duck.with_errors > 0
    if fmt == "jsonl":  # the line cut short, the array: read again in Python, counted
        assert duck.unreadable > 0


def test_the_handcrafted_leads_reach_every_edge(hand_agreement: slaengine.Agreement,
                                                handcrafted: dict[str, Path]) -> None:
    k = both(hand_agreement.engine, handcrafted["jsonl"])[1].kpis
    assert {"2026-09", "2026-10"} <= set(k["mql_volume"].by_period)  # both sides of midnight
    assert {"2026-Q4", "2027-Q1"} <= set(k["win_rate"].by_period)
    assert {"2026-W42", "2026-W43", "2026-W01"} <= set(k["p90_employees"].by_period)
    assert k["signed_by_month"].by_period and k["signing_days"].invalid == 2  # S-2, S-4
    assert {"2026-10-01", "2026-03-29", "2027-01-01"} <= set(k["signing_days"].by_group)
    assert {"1200", "1200.0", "0.1", "9007199254740991"} <= set(k["amount_groups"].by_group)
    assert {"true", "(missing)"} <= set(k["signed_by_month"].by_group)  # false: immature
    assert "9007199254740991" in k["amount_by_size"].by_group
    assert k["business_touch"].invalid == 2  # negative, and from 1850
    assert k["mql_to_sql"].immature > 0 and k["mql_to_sql"].leads > 0


# ---------------------------------------------------------------- (c) random agreements


def _same_numbers(got: Any, want: Any, where: str = "") -> None:
    """Equal; floats to 1e-12 relative (1e-9 absolute): a sum of values too far apart for the
    exact sum is DuckDB's compensated FSUM (order-dependent in its last bits), and a business
    duration between instants with fractions of a second is exact microseconds in SQL where
    Python subtracts floats."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for key in want:
            _same_numbers(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, float) and isinstance(got, float):
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9), (where, got, want)
    elif isinstance(want, bool) or isinstance(got, bool):  # met: may flip on a boundary
        assert got == want or isinstance(got, bool), (where, got, want)
    else:
        assert got == want and type(got) is type(want), (where, got, want)


RANDOM = settings(max_examples=int(os.environ.get("SLAENGINE_KPI_EXAMPLES", "30")),
                  deadline=None, suppress_health_check=[
                      HealthCheck.too_slow, HealthCheck.data_too_large,
                      HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])


@RANDOM
@given(st.data())
def test_random_agreements_and_leads(tmp_path: Path, data: st.DataObject) -> None:
    agreement = data.draw(agreements())
    assume(agreement.get("kpis") or any("calibration" in s for s in agreement.get(
        "scores", {}).values()))
    for level in agreement.get("service_levels", {}).values():
        # An allowance of thousands of business days has the engine build calendar tables
        # for a century first (a minute): not what this test is about.
        amount, unit = re.fullmatch(r"(\d+)(\D+)", level["within"]).groups()  # type: ignore[union-attr]
        level["within"] = f"{min(int(amount), 20)}{unit}"
    engine = engine_for(agreement)
    now = data.draw(instants)
    leads = [data.draw(leads_for(agreement, now)) for _ in range(data.draw(st.integers(0, 8)))]
    path = tmp_path / "leads.jsonl"
    # The standard library writes what orjson refuses (ints past 64 bits, NaN): the readers
    # then see the same, odd, file.
    path.write_text("".join(json.dumps(lead, default=str) + "\n" for lead in leads))
    python = compute_kpis(engine, read_leads(path), now)
    try:
        duck = kpis_file(engine, path, now)
    except Unsupported as exc:  # a group key or condition SQL cannot have Python's meaning
        event("refused: group_by" if "group_by" in exc.construct else "refused: a condition")
        assert str(exc).startswith(f"duckdb: cannot compile {exc.construct} to SQL: ")
        return
    except UsageError as exc:  # the engine's refusals of a file, by name
        event("the duckdb engine refuses the file")
        assert "--engine python" in str(exc)
        return
    except duckdb.Error:
        # What DuckDB's reader cannot take fails `evaluate --engine duckdb` alike: the KPIs
        # add no failure of their own.
        event("DuckDB cannot read the file")
        with pytest.raises(duckdb.Error):
            list(DuckRun(engine, path, now).records())
        return
    event(f"{len(agreement.get('kpis', {}))} KPIs")
    assert (duck.records, duck.with_errors, duck.unreadable) == (
        python.records, python.with_errors, python.unreadable)
    _same_numbers(duck.to_json(True), python.to_json(True))


# ---------------------------------------------------------------- (d) the printed query


def _spec(agreement: slaengine.Agreement, name: str) -> AgreementSpec:
    """The agreement as a dialect can take it: Snowflake cannot express its one Unicode
    `\\b` regex; BigQuery has no percentile aggregate (its KPIs are refused, below)."""
    data = agreement.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if name == "snowflake":
        rules = data["scores"]["engagement"]["rules"]
        data["scores"]["engagement"]["rules"] = [r for r in rules if "matches" not in str(r)]
    if name == "bigquery":
        data["kpis"] = {k: v for k, v in data["kpis"].items()
                        if not {"median", "percentile", "median_duration"} & set(v)}
    return AgreementSpec.model_validate(data)


def _printed(spec: AgreementSpec, name: str, years: tuple[int, int] = (2025, 2027)) -> str:
    plan = KpiPlan(spec)
    compiled = compile_decisions(spec, NOW, version="1", digest="sha256:" + "0" * 64,
                                 dialect_name=name, years=years,
                                 extra_columns=plan.extra_columns())
    tree = sql_kpis.compile_kpis(plan, compiled, NOW,
                                 sql_kpis.printed_lookups(plan, years, "slaengine_"))
    return dialect(name).render(tree)


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_dialect_parses_back_without_warnings(agreement: slaengine.Agreement, name: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    spec = _spec(agreement, name)
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        text = _printed(spec, name)
        tree = sqlglot.parse_one(text, read=name)
        plan = KpiPlan(spec)
        for statement in sql_kpis.lookup_statements(plan, dialect(name), (2026, 2026),
                                                    "slaengine_"):
            sqlglot.parse_one(dialect(name).render(statement, pretty=False), read=name)
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]
    assert isinstance(tree, exp.Union)
    selects = list(tree.find_all(exp.Select))
    assert sum(1 for s in selects if s.args.get("group")) == len(spec.kpis) + 1  # + calibration
    assert "GROUPING SETS" in text.upper() and "GROUPING(" in text.upper().replace(" (", "(")


@pytest.mark.parametrize(("name", "construct"), [
    ("bigquery", "`median_duration` of KPI `sales_cycle_days`"),
])
def test_a_percentile_bigquery_cannot_aggregate_is_refused(agreement: slaengine.Agreement,
                                                           name: str, construct: str) -> None:
    with pytest.raises(Unsupported) as raised:
        _printed(_spec(agreement, "snowflake"), name)
    assert raised.value.construct == construct
    assert str(raised.value).startswith(f"{name}: cannot compile ")


@pytest.mark.parametrize(("field", "dialects"), [
    ("created_at", sorted(DIALECTS)),  # a datetime's key is Python's text of it
    ("amount", sorted(DIALECTS)),      # a number's key depends on how it was written
])
def test_group_keys_sql_cannot_write_as_python_are_refused(agreement: slaengine.Agreement,
                                                           field: str,
                                                           dialects: list[str]) -> None:
    data = agreement.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["kpis"] = {"k": {"title": "K", "count": True, "group_by": field}}
    spec = AgreementSpec.model_validate(data)
    for name in dialects:
        with pytest.raises(Unsupported) as raised:
            _printed(_spec_for(spec, name), name)
        assert raised.value.construct == f"`group_by: {field}` of KPI `k`"
        assert raised.value.dialect == name


def _spec_for(spec: AgreementSpec, name: str) -> AgreementSpec:
    if name != "snowflake":
        return spec
    data = spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    rules = data["scores"]["engagement"]["rules"]
    data["scores"]["engagement"]["rules"] = [r for r in rules if "matches" not in str(r)]
    return AgreementSpec.model_validate(data)


def test_the_printed_query_runs_on_duckdb_with_the_printed_tables(
        agreement: slaengine.Agreement, capsys: pytest.CaptureFixture[str]) -> None:
    """The warehouse path: `--what calendar` then `--what kpis` on a typed relation of the
    Python-coerced leads; the same numbers as `compute_kpis`. Sums are plain SUMs here:
    compared to 1e-12 relative (summation order), and a sum of ints is a DOUBLE."""
    years = "2025-2027"
    args = ["--agreement", str(ROOT / "agreement"), "--now", NOW_TEXT, "--years", years]
    statements = []
    for what in ("calendar", "kpis"):
        with pytest.raises(SystemExit) as exit_info:
            main(["sql", "--what", what, *args])
        assert exit_info.value.code in (0, None)
        statements.append(capsys.readouterr().out)
    assert "slaengine_kpi_instants" in statements[0] and "slaengine_kpi_dates" in statements[0]
    engine = slaengine.load_agreement(ROOT / "agreement").engine
    leads = [dict(r.data) for r in read_leads(ROOT / "examples/leads.jsonl")
             if r.data is not None]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    relation(con, engine, leads)
    for statement in statements[0].split(";\n"):
        if statement.strip():
            con.execute(statement)
    cursor = con.execute(statements[1])
    names = [c[0] for c in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    assert names == ["kind", "name", "grouping", "key", "mature", "leads", "measured",
                     "numerator", "invalid", "out_of_range", "value"]
    report = compute_kpis(engine, iter(leads), NOW)
    assert not any(r["out_of_range"] for r in rows)
    for name, result in report.kpis.items():
        mine = [r for r in rows if r["kind"] == "kpi" and r["name"] == name]
        overall = next(r for r in mine if r["grouping"] == "all" and r["mature"])
        assert overall["leads"] == result.leads and overall["measured"] == result.measured
        assert _close(overall["value"], result.value), name
        for key, entry in result.by_period.items():
            row = next(r for r in mine if r["grouping"] == "period" and r["key"] == key)
            assert row["leads"] == entry.leads and _close(row["value"], entry.value)
        for key, group in result.by_group.items():
            row = next(r for r in mine if r["grouping"] == "group" and r["key"] == key
                       and r["mature"])
            assert row["leads"] == group.leads and _close(row["value"], group.value)
    bands = {r["key"]: r for r in rows if r["kind"] == "calibration" and r["mature"]}
    for label, band in report.calibrations["engagement"].bands.items():
        assert (bands[label]["leads"], bands[label]["numerator"]) == (band.leads,
                                                                      band.converted)


def _close(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is want
    return math.isclose(got, want, rel_tol=1e-12)


# ---------------------------------------------------------------- (e) the pieces


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(-1e11, 1e11), st.integers(-(10**16), 10**16).map(lambda n: n / 1e6)))
@example(1798758000.0)
@example(1798757999.9999995)
def test_microsecond_limits_decide_as_python_floats(limit: float) -> None:
    low, high = first_us(limit), last_us(limit)
    for u in range(low - 3, low + 3):
        assert (u >= low) == (u / 10**6 >= limit), u
    for u in range(high - 3, high + 3):
        assert (u <= high) == (u / 10**6 <= limit), u


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["Europe/Amsterdam", "America/Santiago", "Australia/Lord_Howe",
                        "Asia/Kathmandu", "UTC"]),
       st.integers(-700_000, 2_900_000), st.lists(st.integers(0, 86_400 * 10**6 - 1),
                                                  min_size=1, max_size=20))
def test_period_keys_of_a_day_are_the_python_keys(zone: str, day: int,
                                                   offsets: list[int]) -> None:
    """The `kpi_instants` row of a day gives, for any microsecond of it, `Periods.key`."""
    tz = ZoneInfo(zone)
    keys = PeriodKeys(["month", "quarter", "week"], tz)
    start = day * DAY  # a UTC day counted from the epoch
    row = keys.instant_row(day_of(start))
    assert row[0] == (start - BASE) // DAY
    for kind_index, kind in enumerate(keys.kinds):
        before, change, after = row[1 + 3 * kind_index: 4 + 3 * kind_index]
        for offset in offsets:
            us = start + offset
            assert (after if us >= change else before) == Periods(kind, tz).key(us / 10**6)


def test_a_date_counts_from_its_local_midnight() -> None:
    tz = ZoneInfo("America/Santiago")  # midnight does not exist on some days here
    keys = PeriodKeys(["week"], tz)
    for day in (dt.date(2026, 9, 6), dt.date(2026, 4, 5), dt.date(2027, 1, 4)):
        midnight = dt.datetime.combine(day, dt.time(0), tz).timestamp()
        row = keys.date_row(day)
        assert row[1] == int(midnight) * 10**6
        assert row[2] == Periods("week", tz).key(midnight)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_duckdb_writes_a_double_as_python_does(values: list[float]) -> None:
    """What keys a number's group: DuckDB's text of a DOUBLE is Python's repr."""
    rows = duckdb.connect().execute(
        "SELECT v, CAST(v AS VARCHAR) FROM (SELECT UNNEST(?::DOUBLE[]) AS v)", [values])
    for value, text in rows.fetchall():
        assert text == repr(value)


def _interpolated(values: list[float], p: float) -> tuple[Any, Any]:
    """`kpiagg.interpolate` and DuckDB's QUANTILE_CONT over the values."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT UNNEST(?::DOUBLE[]) AS v", [values])
    v, q = exp.column("v"), double(p / 100)
    ordered = exp.ArrayAgg(this=exp.Order(this=v, expressions=[exp.Ordered(this=v.copy())]))
    inner = exp.select(exp.alias_(ordered, "s"), exp.alias_(exp.Count(this=v.copy()), "n"),
                       exp.alias_(exp.PercentileCont(this=v.copy(), expression=q), "q")
                       ).from_(exp.to_table("t"))
    query = exp.select(interpolate(exp.column("s"), exp.column("n"), q.copy()),
                       exp.column("q")).from_(inner.subquery("i"))
    row = con.execute(dialect("duckdb").render(query, pretty=False)).fetchone()
    assert row is not None
    got, quantile_cont = row
    return got, quantile_cont


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.integers(-1000, 1000).map(float)),
                min_size=1, max_size=25),
       st.one_of(st.integers(1, 99), st.floats(0.5, 99.5)))
@example([7.0, 2.7], 90)  # QUANTILE_CONT gives 6.569999999999999, Python 6.57
def test_the_interpolation_is_python_s_to_the_last_bit(values: list[float], p: float) -> None:
    got, _ = _interpolated(values, p)
    assert got == percentile(sorted(values), p)


def test_quantile_cont_would_not_be() -> None:
    """Why the interpolation is written out: DuckDB's own rounds differently."""
    got, quantile_cont = _interpolated([7.0, 2.7], 90)
    assert got == percentile([2.7, 7.0], 90) == 6.57
    assert quantile_cont == 6.569999999999999  # 2.7 + 4.3 * 0.9, where Python: 7 - 4.3 * 0.1


SUMS = """agreement: Sums
version: 1.0.0
timezone: Europe/Amsterdam
parties:
  marketing: {lead: {name: A, title: B}}
  sales: {lead: {name: C, title: D}}
fields:
  id: {type: string, key: true}
  amount: {type: number}
  seats: {type: integer}
kpis:
  total: {title: Total, sum: amount}
  mean: {title: Mean, average: amount}
  middle: {title: Middle, median: amount}
  p37: {title: P37, percentile: {p: 37.5, field: amount}}
  seats: {title: Seats, sum: seats}
  mean_seats: {title: Mean seats, average: seats}
"""


@pytest.fixture(scope="module")
def sums_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("sums")
    (folder / "agreement.yaml").write_text(SUMS)
    return slaengine.load_agreement(folder).engine


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(
    st.one_of(st.none(), st.floats(-1e12, 1e12), st.integers(-(2**53) + 1, 2**53 - 1),
              st.sampled_from([0.1, 0.2, 0.3, 1e-3, -0.0, 2.5e15, "1200.0", "7"])),
    st.one_of(st.none(), st.integers(-(2**53) + 1, 2**53 - 1))), max_size=30))
@example([(0.1, 1)] * 10)
@example([(1e15, 2**53 - 1), (0.1, 2**53 - 1), (-1e15, 5)])
def test_sums_averages_and_percentiles_are_python_s(sums_engine: Engine, tmp_path: Path,
                                                    rows: list[tuple[Any, Any]]) -> None:
    """Exact where Python is: a sum of ints is the int, a sum with fractions `fsum` (the
    exact sum correctly rounded), a percentile interpolated as `kpis.percentile` does."""
    path = tmp_path / "sums.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"id": str(i), "amount": a, "seats": s}) + b"\n"
                              for i, (a, s) in enumerate(rows)))
    want = compute_kpis(sums_engine, read_leads(path), NOW).to_json()
    got = kpis_file(sums_engine, path, NOW).to_json()
    floats = [float(a) for a, _ in rows if a is not None]
    if any(math.ldexp(abs(x - math.trunc(x)), 64) % 1 for x in floats):
        # A value with bits below 2**-64 (1e-3 has): DuckDB's FSUM, its last bits may differ.
        event("beyond the exact sum")
        _same_numbers(got, want)
        return
    assert orjson.dumps(got) == orjson.dumps(want)
    assert isinstance(got["seats"]["value"], int)


# ---------------------------------------------------------------- (f) the command


@pytest.mark.parametrize("args", [  # every renderer is compared in `assert_same_report`
    ("--format", "json"),
    ("--format", "json", "--calibration", "--period", "2026-10"),
    ("--format", "table", "--calibration", "--period", "2026-W46"),
])
def test_the_command_writes_the_same_bytes(capsys: pytest.CaptureFixture[str],
                                           args: tuple[str, ...]) -> None:
    python = cli(capsys, *args, "--engine", "python")
    duck = cli(capsys, *args, "--engine", "duckdb")
    assert python[0] == duck[0] == 0
    assert duck[1] == python[1] and duck[1].strip()
    assert duck[2] == python[2]  # the record counts on stderr (json)


def test_the_command_s_duckdb_usage_errors(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    code, _, err = cli(capsys, "--engine", "duckdb", "--leads", "-")
    assert code == 2 and "reads files" in err
    folder = _agreement(tmp_path / "a", "  by_time:\n    title: By time\n    count: true\n"
                                        "    group_by: created_at\n")
    code, out, err = cli(capsys, "--engine", "duckdb", "--agreement", str(folder))
    assert code == 2 and out == ""
    assert "duckdb: cannot compile `group_by: created_at` of KPI `by_time`" in err
    code, _, _ = cli(capsys, "--engine", "python", "--agreement", str(folder))
    assert code == 0


def test_sql_what_kpis_documents_its_rows(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sql", "--help"])
    help_text = capsys.readouterr().out
    for column in ("kind, name", "grouping", "mature", "numerator", "out_of_range", "value"):
        assert column in help_text
    with pytest.raises(SystemExit) as exit_info:
        main(["sql", "--what", "kpis", "--dialect", "bigquery", "--agreement",
              str(ROOT / "agreement"), "--now", NOW_TEXT])
    assert exit_info.value.code == 2
    assert "bigquery: cannot compile `median_duration`" in capsys.readouterr().err
