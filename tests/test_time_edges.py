"""Times at the edges of what the engine can hold.

(a) A lead dated at the ends of the calendar (the years 1 and 9999) in the KPIs: its period
cannot be worked out in the agreement's timezone, so the lead is left out of the KPIs that
place it in a period, as a lead without the timestamp is, and the other leads are still
reported (it once lost the whole batch to an internal error).
(b) `now` outside the years the business calendars cover: refused with a plain message,
exit 2 on the command line and ValueError in the library (it once overflowed in the
generated code, `now - 30d`).
(c) `now` that is not a datetime: a TypeError in plain words.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.cli import main
from slaengine.evaluate.calendars import FIRST_YEAR, LAST_YEAR
from slaengine.evaluate.leads import read_leads
from slaengine.kpis import KpiReport, parse_period
from slaengine.kpis.headline import headline
from slaengine.kpis.periods import Periods

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreement"
LEADS = ROOT / "examples" / "leads.jsonl"
NOW_TEXT = "2026-11-20T10:00:00Z"
NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)
RANGE_TEXT = f"in the years {FIRST_YEAR} to {LAST_YEAR}"

# Every period kind, with and without a maturity, on a datetime and on a date cohort, and a
# statistic whose headline looks back to the latest period that has a value.
EDGE_KPIS = """
  weekly_mqls:
    title: Weekly MQLs
    count: true
    cohort: mql_at
    period: week
    target: {gte: 1}
  weekly_sql_rate:
    title: Weekly MQL to SQL
    ratio:
      numerator: {field: sql_at, exists: true}
      denominator: {field: mql_at, exists: true}
    cohort: mql_at
    period: week
    maturity: 90d
    target: {gte: 0.25}
  quarterly_mqls:
    title: Quarterly MQLs
    count: true
    cohort: mql_at
    period: quarter
    maturity: 30d
    target: {gte: 1}
  signed_by_month:
    title: Deals signed
    count: true
    cohort: signed_on
    period: month
    maturity: 30d
  signed_by_week:
    title: Deals signed per week
    count: true
    cohort: signed_on
    period: week
  mql_to_sql_days:
    title: MQL to SQL, median days
    median_duration: {from: mql_at, to: sql_at, unit: d}
    cohort: mql_at
    period: month
    target: {lte: 30}
"""

# Far out, and no period can be worked out in Europe/Amsterdam (9999-12-31T23:30Z is already
# the year 10000 there; the first hours of the year 1 are still the year 0 in UTC).
UNWORKABLE = ["9999-12-31T23:30:00Z", "9999-12-31T23:59:59.999999Z", "9999-12-15T10:00:00Z",
              "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00", "0001-01-01T12:00:00Z"]
UNWORKABLE_DATES = ["0001-01-01", "9999-12-31", "9999-12-01"]
# Far out but with a period, and the period before it and after it: counted as any other.
WORKABLE = {"0002-06-15T10:00:00Z": ("0002-06", "0002-Q2", "0002-W24"),
            "9998-06-15T10:00:00Z": ("9998-06", "9998-Q2", "9998-W25")}
NORMAL = "2026-10-15T10:00:00Z"


def _lead(name: str, when: str, signed: str | None = None) -> dict[str, Any]:
    return {"lead_id": name, "stage": "sql", "mql_at": when, "sql_at": when,
            "signed_on": signed}


def _leads() -> list[dict[str, Any]]:
    rows = [_lead(f"U-{i}", when) for i, when in enumerate(UNWORKABLE)]
    rows += [_lead(f"D-{i}", NORMAL, day) for i, day in enumerate(UNWORKABLE_DATES)]
    rows += [_lead(f"W-{i}", when, when[:10]) for i, when in enumerate(WORKABLE)]
    rows.append(_lead("N-1", NORMAL, NORMAL[:10]))
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("time_edges") / "agreement"
    shutil.copytree(AGREEMENT, folder)
    kpis = folder / "kpis.yaml"
    kpis.write_text(kpis.read_text().rstrip("\n") + "\n" + EDGE_KPIS)
    fields = folder / "fields.yaml"
    fields.write_text(fields.read_text().rstrip("\n")
                      + "\n  signed_on: {type: date, title: Contract signed}\n")
    return folder


@pytest.fixture(scope="module")
def agreement(folder: Path) -> slaengine.Agreement:
    return slaengine.load_agreement(folder)


@pytest.fixture(scope="module")
def leads_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_jsonl(tmp_path_factory.mktemp("time_edges_leads") / "leads.jsonl", _leads())


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def _assert_reported(report: KpiReport, tz: tzinfo) -> None:
    """Every period reported can be worked with, and the far-out leads with a period count."""
    for name, result in report.kpis.items():
        for key in result.by_period:
            period = parse_period(key, tz)  # what the renderers and the headline do
            period.start - timedelta(seconds=1)
            if result.kpi.maturity is not None:
                (period.end + timedelta(seconds=result.kpi.maturity.seconds)).astimezone(tz)
        headline(result, report.now, tz)
        if result.kpi.period is not None:  # every lead in scope has its period
            assert result.leads + result.immature == sum(
                p.leads for p in result.by_period.values()), name
    kpis = report.kpis
    far = {keys[0] for keys in WORKABLE.values()}
    assert set(kpis["mql_volume"].by_period) == {*far, "2026-10"}
    assert kpis["mql_volume"].value == 6  # the unworkable leads are left out, not counted
    assert set(kpis["quarterly_mqls"].by_period) == {keys[1] for keys in WORKABLE.values()} | {
        "2026-Q4"}
    weeks = {keys[2] for keys in WORKABLE.values()} | {"2026-W42"}
    # 9999-12-15 is in a week that ends in time, but not 90 days before the calendar does.
    assert set(kpis["weekly_mqls"].by_period) == {*weeks, "9999-W50"}
    assert set(kpis["weekly_sql_rate"].by_period) == weeks
    assert set(kpis["signed_by_month"].by_period) == {*far, "2026-10"}
    # 9999-12-01's week ends in time, 9999-12-31's does not.
    assert set(kpis["signed_by_week"].by_period) == {*weeks, "9999-W48"}


# ---------------------------------------------------------------- (a) leads at the edges


@pytest.mark.parametrize("when", ["9999-12-31T23:30:00Z", "0001-01-01T00:00:00Z"])
@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_kpis_command_survives_one_lead_at_the_end_of_the_calendar(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, when: str, fmt: str) -> None:
    path = _write_jsonl(tmp_path / "lead.jsonl", [{"id": "y", "mql_at": when}])
    code, out, err = _run(capsys, "kpis", "--agreement", str(AGREEMENT), "--leads", str(path),
                          "--now", NOW_TEXT, "--format", fmt)
    assert code == 0, err
    assert "internal error" not in err
    if fmt == "json":
        doc = json.loads(out)
        assert doc["mql_volume"]["value"] == 0 and doc["mql_volume"]["by_period"] == {}
    else:
        assert "MQL volume commitment" in out


@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_kpis_command_reports_the_other_leads(capsys: pytest.CaptureFixture[str],
                                              folder: Path, leads_file: Path,
                                              fmt: str) -> None:
    code, out, err = _run(capsys, "kpis", "--agreement", str(folder), "--leads",
                          str(leads_file), "--now", NOW_TEXT, "--format", fmt)
    assert code == 0, err
    assert "internal error" not in err
    if fmt == "json":
        doc = json.loads(out)
        assert doc["mql_volume"]["value"] == 6
        assert set(doc["mql_volume"]["by_period"]) == {"0002-06", "9998-06", "2026-10"}
    else:
        assert "Weekly MQL to SQL" in out and "9998-06" in out


def test_the_library_leaves_out_the_leads_whose_period_cannot_be_worked_out(
        agreement: slaengine.Agreement) -> None:
    report = agreement.kpis(_leads(), now=NOW)
    assert report.records == len(_leads()) and report.with_errors == 0
    _assert_reported(report, agreement.engine.tz)


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_period_keys_at_the_ends_in_other_timezones(zone: str) -> None:
    tz = ZoneInfo(zone)
    first = datetime(1, 1, 1, tzinfo=UTC).timestamp()
    last = datetime.max.replace(tzinfo=UTC).timestamp()
    for kind in ("month", "quarter", "week"):
        periods = Periods(kind, tz)
        for epoch in (first, first + 3600, first + 40 * 86400, last, last - 40 * 86400):
            key = periods.lead_key(epoch, 90 * 86400.0)
            if key is not None:
                period = parse_period(key, tz)
                assert period.start.timestamp() <= epoch < period.end.timestamp(), (kind, key)


_FIRST = datetime(1, 1, 1, tzinfo=UTC).timestamp()
_LAST = datetime.max.replace(tzinfo=UTC).timestamp()
_YEAR = 366 * 86400.0


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["month", "quarter", "week"]),
       st.sampled_from(["Europe/Amsterdam", "UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago",
                        "America/St_Johns"]),
       st.one_of(st.floats(_FIRST, _FIRST + _YEAR), st.floats(_LAST - _YEAR, _LAST),
                 st.floats(_FIRST, _LAST)),
       st.sampled_from([0.0, 30 * 86400.0, 90 * 86400.0]))
def test_a_lead_s_period_is_one_that_can_be_worked_with(kind: str, zone: str, epoch: float,
                                                        maturity: float) -> None:
    """`lead_key` gives the period the time falls in, with bounds, the end of the period
    before and the end plus the maturity all dates; or None. Never an exception."""
    tz = ZoneInfo(zone)
    key = Periods(kind, tz).lead_key(epoch, maturity)
    if key is None:
        return
    period = parse_period(key, tz)
    assert period.start.timestamp() <= epoch < period.end.timestamp()
    (period.start - timedelta(seconds=1)).astimezone(tz)
    (period.end + timedelta(seconds=maturity)).astimezone(tz)
    if FIRST_YEAR < datetime.fromtimestamp(epoch, UTC).year < LAST_YEAR:
        assert key == Periods(kind, tz).key(epoch)


@pytest.mark.parametrize(("text", "zone"), [
    ("0000-01", "UTC"), ("0000-W01", "UTC"), ("0001-01", "Europe/Amsterdam"),
    ("0001-Q1", "Europe/Amsterdam"), ("0001-W01", "Europe/Amsterdam"),
    ("9999-12", "UTC"), ("9999-12", "Europe/Amsterdam"), ("9999-Q4", "UTC"),
    ("9999-W52", "UTC")])
def test_a_period_too_far_out_is_a_plain_value_error(text: str, zone: str) -> None:
    with pytest.raises(ValueError, match="is too far out") as raised:
        parse_period(text, ZoneInfo(zone))
    assert "out of range" not in str(raised.value)


def test_the_first_and_last_periods_the_calendar_holds() -> None:
    assert parse_period("0001-01", ZoneInfo("UTC")).start == datetime(1, 1, 1, tzinfo=UTC)
    assert parse_period("9999-11", ZoneInfo("UTC")).end == datetime(9999, 12, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="has no ISO week 53"):
        parse_period("2027-W53", ZoneInfo("UTC"))


def test_kpis_period_too_far_out_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "kpis", "--agreement", str(AGREEMENT), "--leads", str(LEADS),
                        "--now", NOW_TEXT, "--period", "9999-12")
    assert code == 2 and "`9999-12` is too far out" in err and "internal error" not in err


# ---------------------------------------------------------------- DuckDB


@pytest.mark.xfail(strict=True, reason="the SQL KPIs (slaengine/sql/) still place such a lead "
                   "in a clamped period: `Periods.key`, not `Periods.lead_key`")
def test_duckdb_gives_the_python_report_for_leads_at_the_edges(
        agreement: slaengine.Agreement, leads_file: Path) -> None:
    kpis_file = pytest.importorskip("slaengine.sql.duckdb.kpis").kpis_file
    python = agreement.kpis(read_leads(leads_file), now=NOW)
    duck = kpis_file(agreement.engine, leads_file, NOW)
    assert duck.to_json(calibration=True) == python.to_json(calibration=True)


def test_duckdb_refuses_now_outside_the_years_as_python_does(
        agreement: slaengine.Agreement, leads_file: Path) -> None:
    kpis_file = pytest.importorskip("slaengine.sql.duckdb.kpis").kpis_file
    with pytest.raises(ValueError, match=RANGE_TEXT):
        kpis_file(agreement.engine, leads_file, datetime(1, 1, 1, tzinfo=UTC))


# ---------------------------------------------------------------- (b) `now` out of range

_BAD_NOWS = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1899-12-31T23:59:59",
             "2201-01-01T00:00:00+01:00"]


def _commands(tmp: Path) -> dict[str, list[str]]:
    first = json.loads(LEADS.read_text(encoding="utf-8").splitlines()[0])["id"]
    common = ["--agreement", str(AGREEMENT)]
    return {
        "evaluate": ["evaluate", "--leads", str(LEADS), *common],
        "explain": ["explain", "--lead", str(LEADS), "--id", first, *common],
        "check": ["check", "--leads", str(LEADS), *common],
        "kpis": ["kpis", "--leads", str(LEADS), *common],
        "kpis-duckdb": ["kpis", "--leads", str(LEADS), "--engine", "duckdb", *common],
        "report": ["report", "--leads", str(LEADS), "--month", "2026-10", "--out", str(tmp),
                   *common],
        "diff": ["diff", str(AGREEMENT), str(AGREEMENT), "--leads", str(LEADS), *common],
        "sql": ["sql", *common],
        "plan": ["plan", "--leads", str(LEADS), "--customers", "10", *common],
    }


@pytest.mark.parametrize("command", ["evaluate", "explain", "check", "kpis", "kpis-duckdb",
                                     "report", "diff", "sql", "plan"])
@pytest.mark.parametrize("now", [_BAD_NOWS[0], _BAD_NOWS[3]])
def test_every_command_refuses_now_outside_the_years(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path, command: str,
                                                     now: str) -> None:
    code, out, err = _run(capsys, *_commands(tmp_path)[command], "--now", now)
    assert code == 2, err
    assert RANGE_TEXT in err and "--now" in err
    assert "internal error" not in err and "Traceback" not in err and out == ""


@pytest.mark.parametrize("now", _BAD_NOWS)
def test_evaluate_refuses_each_now_outside_the_years(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path, now: str) -> None:
    code, _, err = _run(capsys, *_commands(tmp_path)["evaluate"], "--now", now)
    assert code == 2 and RANGE_TEXT in err


@pytest.mark.parametrize("now", ["1900-01-01T00:00:00Z", "1900-01-01T00:00:00",
                                 "2200-12-31T23:59:59Z", "2200-12-31T23:59:59-12:00"])
def test_now_at_the_ends_of_the_years_is_evaluated(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path, now: str) -> None:
    path = _write_jsonl(tmp_path / "one.jsonl", [{"id": "y", "mql_at": NORMAL,
                                                 "stage": "mql"}])
    args = ["--agreement", str(AGREEMENT), "--leads", str(path), "--now", now]
    for command in ("check", "kpis"):
        code, out, err = _run(capsys, command, *args)
        assert code in (0, 1), (command, err)
        assert out and "internal error" not in err
    done = subprocess.run([sys.executable, "-m", "slaengine", "evaluate", *args],
                          capture_output=True, text=True, check=False)  # writes to fd 1
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["id"] == "y"


def _calls(agreement: slaengine.Agreement) -> dict[str, Callable[[Any], object]]:
    lead = {"id": "y", "mql_at": NORMAL, "stage": "mql"}
    return {"evaluate": lambda now: agreement.evaluate(lead, now),
            "evaluate_many": lambda now: list(agreement.evaluate_many([lead], now)),
            "kpis": lambda now: agreement.kpis([lead], now=now)}


@pytest.mark.parametrize("call", ["evaluate", "evaluate_many", "kpis"])
@pytest.mark.parametrize("now", [datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 1),
                                 datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
                                 datetime(1899, 12, 31, 23, 59), datetime(2201, 1, 1, tzinfo=UTC)])
def test_the_library_refuses_now_outside_the_years(call: str, now: datetime) -> None:
    agreement = slaengine.load_agreement(AGREEMENT)
    with pytest.raises(ValueError, match=RANGE_TEXT) as raised:
        _calls(agreement)[call](now)
    assert "out of range" not in str(raised.value)


@pytest.mark.parametrize("call", ["evaluate", "evaluate_many", "kpis"])
def test_the_library_evaluates_now_at_the_ends_of_the_years(call: str) -> None:
    agreement = slaengine.load_agreement(AGREEMENT)
    for now in (datetime(1900, 1, 1), datetime(1900, 1, 1, tzinfo=UTC),
                datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC),
                datetime(2200, 12, 31, 23, 59, 59)):
        _calls(agreement)[call](now)


# ---------------------------------------------------------------- (c) `now` not a datetime


def _not_datetimes() -> list[tuple[object, str]]:
    numpy = pytest.importorskip("numpy")
    return [(date(2026, 11, 20), "not a date"), ("2026-11-20T10:00:00Z", "not text"),
            (numpy.datetime64("2026-11-20T10:00"), "not a datetime64"),
            (1790000000, "not a number")]


@pytest.mark.parametrize("call", ["evaluate", "evaluate_many", "kpis"])
def test_now_that_is_not_a_datetime_is_a_plain_type_error(call: str) -> None:
    agreement = slaengine.load_agreement(AGREEMENT)
    for now, words in _not_datetimes():
        with pytest.raises(TypeError, match="`now` must be a date and time") as raised:
            _calls(agreement)[call](now)
        assert words in str(raised.value)
        assert "tzinfo'" not in str(raised.value) and "attribute" not in str(raised.value)


def test_a_bad_now_after_a_good_one_is_a_type_error_too() -> None:
    agreement = slaengine.load_agreement(AGREEMENT)
    evaluate = _calls(agreement)["evaluate"]
    evaluate(NOW)  # the instant of this `now` is kept for the next lead
    with pytest.raises(TypeError, match="not a date"):
        evaluate(date(2026, 11, 20))
    with pytest.raises(ValueError, match=RANGE_TEXT):
        evaluate(datetime(1, 1, 1, tzinfo=UTC))
    evaluate(NOW)


@pytest.mark.parametrize("month", ["1850-01", "2201-01", "0001-01"])
def test_a_month_outside_the_years_is_bad_usage(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path, month: str) -> None:
    """`report` and `meeting new` take their `now` from `--month`: refused as the month."""
    leads = str(Path(__file__).parents[1] / "examples" / "leads.jsonl")
    agreement_dir = str(Path(__file__).parents[1] / "agreement")
    code, _, err = _run(capsys, "report", "--leads", leads, "--agreement", agreement_dir,
                        "--month", month, "--out", str(tmp_path / "out"))
    assert code == 2 and f"`{month}` is too far out" in err
    assert not (tmp_path / "out").exists()
    copy = tmp_path / "agreement"
    shutil.copytree(agreement_dir, copy)
    code, _, err = _run(capsys, "meeting", "new", "feedback", "--agreement", str(copy),
                        "--month", month, "--leads", leads)
    assert code == 2 and f"`{month}` is too far out" in err
