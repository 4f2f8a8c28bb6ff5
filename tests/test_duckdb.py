"""The DuckDB engine against the Python engine: the same records, byte for byte.

(a) Seeded and handcrafted lead files (JSON Lines, CSV, Parquet) evaluated by
`evaluate --engine duckdb` and by the Python engine give identical JSONL.
(b) Random agreements and leads (`strategies.py`): the compiled SQL, run by DuckDB over a
relation of the Python-coerced values, gives the Python evaluator's definitions, scores,
bands, stages, owners, violation codes and service-level clocks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.cli import main
from slaengine.evaluate.clocks import epoch_seconds
from slaengine.evaluate.evaluator import Engine
from slaengine.evaluate.leads import read_leads
from slaengine.sql import CompiledSql, Unsupported, compile_decisions
from slaengine.sql.duckdb import csvlines as duckflat
from slaengine.sql.duckdb.csvlines import csv_query, native_csv, problem_rows
from slaengine.sql.duckdb.runner import DuckRun
from slaengine.sql.tables import load_calendar_tables, years_for
from strategies import agreements
from test_properties import engine_for, instants, leads_for

ROOT = Path(__file__).resolve().parent.parent
NOW_TEXT = "2026-11-20T10:00:00+01:00"
NOW = dt.datetime.fromisoformat(NOW_TEXT)
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate_leads import generate, write_parquet  # type: ignore[import-not-found]  # noqa: E402


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


def python_lines(engine: Engine, path: Path) -> list[bytes]:
    return [orjson.dumps(r, option=orjson.OPT_NON_STR_KEYS)
            for r in engine.records(read_leads(path), NOW)]


def duckdb_lines(engine: Engine, path: Path) -> list[bytes]:
    return [orjson.dumps(r, option=orjson.OPT_NON_STR_KEYS)
            for r in DuckRun(engine, path, NOW).records()]


def assert_same(engine: Engine, path: Path) -> None:
    want, got = python_lines(engine, path), duckdb_lines(engine, path)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert orjson.loads(g) == orjson.loads(w), f"record {i + 1}"
        assert g == w, f"record {i + 1}"


# ---------------------------------------------------------------- (a) seeded samples


@pytest.mark.parametrize("name", ["leads.jsonl", "leads.csv"])
def test_example_exports(agreement: slaengine.Agreement, name: str) -> None:
    assert_same(agreement.engine, ROOT / "examples" / name)


def test_example_as_parquet(agreement: slaengine.Agreement, tmp_path: Path) -> None:
    rows = [orjson.loads(line) for line in (ROOT / "examples/leads.jsonl").read_bytes()
            .splitlines() if line.strip()]
    path = tmp_path / "leads.parquet"
    with open(path, "wb") as out:
        write_parquet(rows, out)
    assert_same(agreement.engine, path)


def test_parquet_with_typed_timestamps(agreement: slaengine.Agreement, tmp_path: Path) -> None:
    """Naive Parquet timestamps are wall time in the agreement's zone; aware ones instants."""
    amsterdam = dt.timezone(dt.timedelta(hours=1))
    table = pa.table({
        "lead_id": ["P-1", "P-2", "P-3", "P-4"],
        "mql_at": pa.array([dt.datetime(2026, 10, 25, 2, 30), dt.datetime(2026, 3, 29, 2, 30),
                            dt.datetime(2026, 11, 19, 16, 59, 59, 500000), None],
                           pa.timestamp("us")),
        "sql_at": pa.array([dt.datetime(2026, 11, 2, 9, tzinfo=amsterdam), None, None,
                            dt.datetime(2026, 11, 18, 23, 30, tzinfo=dt.UTC)],
                           pa.timestamp("us", tz="UTC")),
        "created_at": pa.array([dt.date(2026, 10, 25), dt.date(2026, 3, 29), None,
                                dt.date(2026, 1, 1)], pa.date32()),
        "employee_count": pa.array([50, 5001, None, 2**53], pa.int64()),
        "amount": pa.array([1.5, float("nan"), None, 3.0], pa.float64()),
        "demo_requested": pa.array([True, None, False, None], pa.bool_()),
        "stage": ["mql", "sql", None, "opportunity"],
    })
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    assert_same(agreement.engine, path)


# The two odd-spelling tests below: a few examples in CI, more on demand.
SPELLINGS = settings(max_examples=int(os.environ.get("SLAENGINE_STRIP_EXAMPLES", "12")),
                     deadline=None)
# What Python's str.strip() removes, and characters next to it that it keeps.
_PADDING = st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a"
                                   "\u200b\u2028\u2029\u202f\u205f\u3000\ufeff\x00~!é\u0301"),
                   max_size=3)
# Text for fields of each type: the padded spelling must read as the bare one does.
_SPELLINGS = {
    "industry": ["software", "", "a b", "日本"], "source": ["partner_referral", "event"],
    "seniority": ["vp", "Intern"], "stage": ["mql", "sql", "x.edu"], "country": ["NL"],
    "job_title": ["Intern", "student"],
    "employee_count": ["50", "1,200", "5e3", "x", "١٢٣", "1_000", "٥٠", "0x10", "+5", "-0",
                       "00050", "5.0", "5.", ".5e1", "1 200", "1\xa0200", "9007199254740993",
                       "1e16", "5e-1", "Ⅻ", "５０"],
    "demo_requested": ["yes", "true", "0", "maybe", "TRUE", "Yes", "ＹＥＳ", "on", "T", "N"],
    "amount": ["1.5", "-2", "1e400", "nan", "inf", "-Infinity", "1.5e-3", "١.٥", "1,234.5",
               "0.1e1", "-.5", "1__0"],
    "mql_at": ["2026-11-02T10:00:00Z", "2026-11-02 10:00", "2026-11-02", "2026-11-02t10:00:00z",
               "2026-11-02T10:00:00.123456789Z", "2026-11-02T24:00:00", "２０２６-11-02",
               "2026-11-02T10:00:00+14:00", "2026-11-02T10:00:00-23:59", "20261102T100000Z",
               "2026-W45-1", "2026-306", "2026-11-02T10:00:00,5Z", "2026-11-02T10",
               "2026-11-02T10:00:00+0100", "2026-11-02T10:00:00 Z", "2026-10-25T02:30:00",
               "2026-03-29T02:30", "2026-11-02T10:00:00+01:00:30", "2026-11-02T10:00:00GMT"],
    "created_at": ["2026-11-02T10:00:00+01:00", "2026-1-2", "2026-11-2T10:00", "0001-01-01",
                   "9999-12-31T23:59:59-01:00", "2026-02-29", "2024-02-29T00:00:00"],
}


@st.composite
def _padded_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    rows = []
    for i in range(draw(st.integers(1, 12))):
        row = {"lead_id": f"{draw(_PADDING)}T-{i}{draw(_PADDING)}"}
        for name, words in _SPELLINGS.items():
            row[name] = draw(_PADDING) + draw(st.sampled_from(words)) + draw(_PADDING)
        rows.append(row)
    return rows


# JSON values of every kind, for fields of every type: each must read as the Python
# reader reads it (a number where text is expected, text where a number is, and so on).
_JSON_VALUES = st.sampled_from([
    50, 0, -1, 1.5, -0.0, 50.0, 2**53 - 1, 2**53, 2**63, -(2**63) - 1, 1e308, 5e-324, True,
    False, None, [], ["a", "b"], ["a", 1, None], {"a": 1}, "", " ", "50", "yes",
    "2026-11-02T10:00:00Z", "2026-11-02", 1730541600])


@st.composite
def _json_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [dict(row) for row in draw(_padded_rows())]
    for row in rows:
        for name in draw(st.sets(st.sampled_from(sorted(_SPELLINGS)), max_size=6)):
            row[name] = draw(_JSON_VALUES)
    return rows


@SPELLINGS
@given(_json_rows())
def test_json_values_of_every_kind_read_as_python_reads_them(
        agreement: slaengine.Agreement, tmp_path_factory: pytest.TempPathFactory,
        rows: list[dict[str, Any]]) -> None:
    path = tmp_path_factory.mktemp("json") / "values.jsonl"
    # json, not orjson: it writes integers beyond 64 bits, which the reader must refuse.
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert_same(agreement.engine, path)


@SPELLINGS
@given(_padded_rows(), st.sampled_from(["parquet", "csv", "jsonl"]))
def test_text_is_stripped_as_python_strips_it(agreement: slaengine.Agreement,
                                              tmp_path_factory: pytest.TempPathFactory,
                                              rows: list[dict[str, str]], fmt: str) -> None:
    """Text from any file kind: the cheap tests for tidy ends and fast spellings, and the
    full patterns behind them, agree with str.strip() on every character it removes or keeps."""
    path = tmp_path_factory.mktemp("strip") / f"text.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    elif fmt == "jsonl":
        path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    else:
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    assert_same(agreement.engine, path)


def test_rows_keep_file_order_without_a_sort(agreement: slaengine.Agreement,
                                             tmp_path: Path) -> None:
    """The embedded engine's query has no join and no ORDER BY: DuckDB, scanning a file of
    many row groups on several threads, must still return the rows in file order (`rows()`
    raises if not), with the same records as the Python engine."""
    path = tmp_path / "many-groups.parquet"
    with open(path, "wb") as handle:
        write_parquet(generate(30_000, 11), handle, batch=500, typed_timestamps=True)
    run = DuckRun(agreement.engine, path, NOW, threads=4)
    assert "ORDER BY" not in run.compiled.sql(pretty=False)
    assert run.compiled.variables, "the calendar lookups are read from list variables"
    assert [row["_row"] for row in run.rows()] == list(range(1, 30_001))
    assert_same(agreement.engine, path)


def _handcrafted() -> list[dict[str, Any]]:
    """Missing values, boundaries, unicode and timezone edge cases for the example agreement."""
    base = {"industry": "software", "country": "NL", "source": "website",
            "email_domain": "northwind-client.example", "created_at": "2026-09-01T08:00:00Z"}
    window = dt.datetime(2026, 10, 21, 9, tzinfo=dt.UTC)  # now - 30d
    rows: list[dict[str, Any]] = [
        {"lead_id": "H-empty"},
        {"lead_id": None, "employee_count": None, "industry": "   ", "stage": ""},
        # between ends and the 30-day window's edges
        {**base, "lead_id": "H-50", "employee_count": 50, "demo_requested": True,
         "email_clicks": 5, "last_activity_at": window.isoformat()},
        {**base, "lead_id": "H-5000", "employee_count": 5000, "demo_requested": True,
         "email_clicks": 5, "last_activity_at": (window - dt.timedelta(seconds=1)).isoformat()},
        {**base, "lead_id": "H-49", "employee_count": "49", "pricing_page_visits": 3,
         "content_downloads": 3, "email_clicks": 20, "webinar_attended": "yes",
         "seniority": "vp", "last_activity_at": "2026-10-21T10:00:00+01:00"},
        {**base, "lead_id": "H-5001", "employee_count": "5,001", "demo_requested": " TRUE ",
         "email_clicks": "10", "last_activity_at": "2026-11-20T09:00:00Z"},
        {**base, "lead_id": "H-old", "employee_count": "1 200", "email_clicks": "1e1",
         "last_activity_at": "2026-09-21T09:00:00Z", "job_title": "Data Intern"},
        {**base, "lead_id": "H-older", "employee_count": "1200.0",
         "last_activity_at": "2026-09-21 09:59:59.999999", "job_title": "Éintern"},
        # unicode and word boundaries
        {**base, "lead_id": "H-ü", "company": "Müller & Söhne GmbH 🚀", "job_title": "Ünternship",
         "email_domain": "uni-köln.edu", "seniority": "c_level"},
        {**base, "lead_id": "H-日本", "job_title": "STUDENT 学生", "email_domain": "example.EDU"},
        {**base, "lead_id": "H-tab", "job_title": "\ttrainee\n", "industry": " fintech "},
        # bad values: errors naming field, column and value
        {**base, "lead_id": "H-bad", "employee_count": "n/a", "email_clicks": "12,5",
         "demo_requested": "maybe", "last_activity_at": "31/10/2026", "amount": "1e400",
         "mql_at": "2026-13-01T10:00:00Z", "webinar_attended": 2, "pricing_page_visits": 1.5},
        {**base, "lead_id": "H-two", "employee_count": "n/a", "demo_requested": "maybe",
         "last_activity_at": "31/10/2026"},
        {**base, "lead_id": "H-big", "employee_count": 2**53, "email_clicks": 9007199254740991,
         "amount": "-1,234.50", "content_downloads": "+3", "demo_requested": 1},
        {**base, "lead_id": 12345, "company": 1.5, "campaign": 100, "demo_requested": 0},
        # whole-number and text fields given 1e308 (past any 64-bit integer) and 2**62
        {**base, "lead_id": "H-huge", "industry": 1e308, "employee_count": 1e308,
         "email_clicks": 2**62, "pricing_page_visits": -1e300},
        # timezones: the autumn fold, the spring gap, offsets, fractions, other spellings
        {**base, "lead_id": "H-fold", "stage": "mql", "mql_at": "2026-10-25 02:30:00",
         "first_touch_at": "2026-10-26T09:00:00.5+05:45"},
        {**base, "lead_id": "H-gap", "stage": "mql", "mql_at": "2026-03-29 02:30:00",
         "accepted_at": "2026-03-30t09:00:00z"},
        {**base, "lead_id": "H-fraction", "stage": "mql", "mql_at": "2026-11-19T16:59:59.1234567Z",
         "rejected_at": "2026-11-19T17:00:00,25+01:00"},
        {**base, "lead_id": "H-iso", "mql_at": "20261120T0830Z", "sql_at": "2026-W47-1T10",
         "created_at": "2026-11-02", "captured_at": "2026-W46"},
        # clocks: Friday 17:30, Christmas, a stop before the start, stops out of order
        {**base, "lead_id": "H-friday", "stage": "mql", "demo_requested": True,
         "employee_count": 100, "mql_at": "2026-11-13T17:30:00+01:00",
         "first_touch_at": "2026-11-16T09:15:00+01:00", "rejected_at": "2026-11-12T10:00:00Z"},
        {**base, "lead_id": "H-xmas", "stage": "sql", "sql_at": "2026-12-23T16:00:00+01:00",
         "opportunity_at": "2027-01-06T10:00:00+01:00", "lost_at": "2027-01-05T10:00:00+01:00"},
        {**base, "lead_id": "H-event", "source": "event", "captured_at": "2026-11-18T08:00:00",
         "delivered_at": None, "stage": "lead"},
        # stages, dispositions, recycling and the guarantee
        {**base, "lead_id": "H-unknown", "stage": "MQL "},
        # free text the CSV must quote as Python's writer does: commas, quotes, line breaks
        {**base, "lead_id": 'H-"quoted", comma', "stage": 'mql, "really"'},
        {**base, "lead_id": "H-line\r\nbreak", "stage": "lead\nnext\r"},
        {**base, "lead_id": "H-nurture", "stage": "nurture", "recycled_at": "2026-11-01T10:00Z"},
        {**base, "lead_id": "H-dq", "stage": "disqualified", "disposition": "foo"},
        {**base, "lead_id": "H-credit", "stage": "sal", "mql_at": "2026-11-02T10:00:00Z",
         "accepted_at": "2026-11-03T10:00:00Z", "disposition": "wrong_persona",
         "last_activity_at": "2026-09-01T10:00:00Z"},
        {**base, "lead_id": "H-recycle", "stage": "sql", "last_activity_at": "2026-09-01T10:00Z",
         "need_confirmed": "y", "budget_confirmed": "t", "authority_confirmed": "1",
         "timeline": "this_quarter"},
    ]
    return rows


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    lines = [orjson.dumps(r) for r in rows]
    # an unreadable line, a line that is not an object, a blank line, NaN
    lines[3:3] = [b'{"lead_id": "H-cut", "industry": "soft', b"[1, 2]", b"   ",
                  b'{"lead_id": "H-nan", "amount": NaN}']
    return b"\n".join(lines) + b"\n"


def test_handcrafted_jsonl(agreement: slaengine.Agreement, tmp_path: Path) -> None:
    path = tmp_path / "handcrafted.jsonl"
    path.write_bytes(_jsonl(_handcrafted()))
    assert_same(agreement.engine, path)


def test_handcrafted_csv(agreement: slaengine.Agreement, tmp_path: Path) -> None:
    path = tmp_path / "handcrafted.csv"
    path.write_text(_handcrafted_csv_text(), encoding="utf-8")
    assert_same(agreement.engine, path)


def test_cli_writes_the_same_bytes(agreement: slaengine.Agreement, tmp_path: Path,
                                   capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    path = tmp_path / "handcrafted.jsonl"
    path.write_bytes(_jsonl(_handcrafted()))
    outputs = []
    for engine in ("python", "duckdb"):
        with pytest.raises(SystemExit) as exit_info:
            main(["evaluate", "--leads", str(path), "--agreement", str(ROOT / "agreement"),
                  "--now", NOW_TEXT, "--engine", engine, "--jobs", "1"])
        assert exit_info.value.code == 1  # the file holds bad values
        outputs.append(capfdbinary.readouterr().out)
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == len(_handcrafted()) + 3


@pytest.mark.parametrize(("country", "subdivision"), [("FR", None), ("US", "NY")])
def test_public_holidays_close_the_same_days_in_both_engines(
        agreement: slaengine.Agreement, tmp_path: Path, country: str,
        subdivision: str | None) -> None:
    """The example calendar with another country's public holidays than its own (NL has none
    between the example leads' June and November; these two have some): the SQL tables close
    the days the clock closes."""
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    text = (folder / "agreement.yaml").read_text(encoding="utf-8")
    public = f"{{country: {country}" + (f", subdivision: {subdivision}}}" if subdivision else "}")
    changed = text.replace("    public_holidays: {country: NL}\n",
                           f"    public_holidays: {public}\n")
    assert changed != text
    (folder / "agreement.yaml").write_text(changed, encoding="utf-8")
    engine = slaengine.load_agreement(folder).engine
    leads = ROOT / "examples" / "leads.jsonl"
    assert_same(engine, leads)
    # The holidays changed some clocks, or the comparison above proved nothing about them.
    def clocks(engine: Engine) -> list[Any]:
        return [orjson.loads(line)["service_levels"] for line in python_lines(engine, leads)]

    assert clocks(engine) != clocks(agreement.engine)


def _handcrafted_csv_text() -> str:
    rows = _handcrafted()
    columns = sorted({k for r in rows for k in r})
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row[c]) for c in columns])
    text.write("extra,cells,than,the,header," + "," * len(columns) + "\n")
    text.write("\n")
    text.write("short-row\n")
    return text.getvalue()


def _csv_by_both_engines(path: Path, capfdbinary: pytest.CaptureFixture[bytes]
                         ) -> list[tuple[int | str | None, bytes, bytes]]:
    outputs = []
    for engine in ("python", "duckdb"):
        with pytest.raises(SystemExit) as exit_info:
            main(["evaluate", "--leads", str(path), "--agreement", str(ROOT / "agreement"),
                  "--now", NOW_TEXT, "--engine", engine, "--format", "csv", "--jobs", "1"])
        captured = capfdbinary.readouterr()
        summary = captured.err.split(b" in ", 1)[0] + captured.err.split(b"/s;", 1)[1]
        outputs.append((exit_info.value.code, captured.out, summary))
    return outputs


@pytest.mark.parametrize("name", ["leads.jsonl", "leads.csv", "handcrafted.jsonl",
                                  "handcrafted.csv", "handcrafted.parquet", "typed.parquet"])
def test_csv_written_by_duckdb_is_the_python_csv(
        agreement: slaengine.Agreement, tmp_path: Path, name: str,
        capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """`--format csv` on DuckDB is built by DuckDB, not row by row, with the same bytes,
    exit code and summary counts: in the files with bad values and unreadable records,
    Python's error texts and records go in their places in file order."""
    path = ROOT / "examples" / name
    if name == "handcrafted.jsonl":
        path = tmp_path / name
        path.write_bytes(_jsonl(_handcrafted()))
    elif name == "handcrafted.csv":
        path = tmp_path / name
        path.write_text(_handcrafted_csv_text(), encoding="utf-8")
    elif name.endswith(".parquet"):
        path = tmp_path / name
        with open(path, "wb") as handle:
            if name == "typed.parquet":
                write_parquet(generate(3_000, 5), handle, batch=700, typed_timestamps=True)
            else:
                write_parquet(_handcrafted(), handle)
    run = DuckRun(agreement.engine, path, NOW)
    assert native_csv(run), "the example agreement's CSV is written by DuckDB"
    problems = problem_rows(run)
    if name.startswith("handcrafted"):
        assert problems, "the handcrafted files hold bad values"
    if name == "typed.parquet":
        assert not problems, "a clean typed file is written without a sort"
        assert "ORDER BY" not in csv_query(run)
    python, duckdb_ = _csv_by_both_engines(path, capfdbinary)
    assert duckdb_[0] == python[0]
    assert duckdb_[1] == python[1]
    assert duckdb_[2] == python[2]
    assert python[1].count(b"\r\n") > 10


@pytest.mark.parametrize("batch", [1, 2, 7])
def test_python_fixes_land_in_place_across_arrow_batches(
        agreement: slaengine.Agreement, tmp_path: Path, batch: int,
        monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """The lines stream as Arrow batches and Python's error texts and records are put in
    between: with batches of one, two and seven rows, problem rows fall first, last and
    side by side in a batch, and the bytes and counts are still the Python engine's."""
    monkeypatch.setattr(duckflat, "ARROW_BATCH", batch)
    path = tmp_path / "handcrafted.jsonl"
    path.write_bytes(_jsonl(_handcrafted()))
    problems = problem_rows(DuckRun(agreement.engine, path, NOW))
    kinds = {p["python"] for p in problems}
    assert kinds == {True, False}, "both kinds of fix: an error cell, a whole line"
    python, duckdb_ = _csv_by_both_engines(path, capfdbinary)
    assert duckdb_ == python


# Text the CSV writer must quote (comma, quote, CR, LF), next to text it must not.
_CSV_TEXT = st.lists(st.sampled_from([",", '"', "\r", "\n", "\r\n", " ", ";", "'", "a", "é",
                                      "\t", "mql", "sql", "日本"]), max_size=6).map("".join)


@settings(SPELLINGS, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(
    {"lead_id": _CSV_TEXT, "stage": _CSV_TEXT | st.sampled_from(["mql", "sql", "lead"]),
     "employee_count": st.sampled_from([None, 120, '1,5"', "n/a"])}), min_size=1, max_size=8))
def test_csv_lines_quote_free_text_as_python_does(
        tmp_path_factory: pytest.TempPathFactory, capfdbinary: pytest.CaptureFixture[bytes],
        rows: list[dict[str, Any]]) -> None:
    """Ids and recorded stages of any text, and error texts quoting bad values, are spelled
    in the DuckDB-built lines exactly as Python's csv writer spells them."""
    path = tmp_path_factory.mktemp("quoting") / "leads.jsonl"
    path.write_bytes(_jsonl(rows))
    python, duckdb_ = _csv_by_both_engines(path, capfdbinary)
    assert duckdb_ == python


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_csv_file_that_is_not_utf8_is_refused(tmp_path: Path, fmt: str,
                                             capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """DuckDB would read a byte that is not UTF-8 into the text, where Python reports the
    record unreadable: the duckdb engine refuses the file (exit 2), naming the line."""
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"lead_id,company\nX-1,Ok\nX-2,Caf\xe9 GmbH\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--leads", str(path), "--agreement", str(ROOT / "agreement"),
              "--now", NOW_TEXT, "--engine", "duckdb", "--format", fmt])
    assert exit_info.value.code == 2
    err = capfdbinary.readouterr().err
    assert b"line 3 is not UTF-8" in err and b"--engine python" in err


def test_csv_of_fractional_scores_goes_through_the_records(tmp_path: Path) -> None:
    """Python spells a fraction its own way: an agreement whose scores may be fractions
    is written row by row, still the same bytes."""
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    scoring = folder / "scoring.yaml"
    scoring.write_text(scoring.read_text().replace("points: 30", "points: 2.5", 1))
    agreement = slaengine.load_agreement(folder)
    run = DuckRun(agreement.engine, ROOT / "examples/leads.jsonl", NOW)
    assert not native_csv(run)


# ---------------------------------------------------------------- (b) random agreements

_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
          "boolean": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("us", tz="UTC"),
          "list": pa.list_(pa.string())}


def arrow_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "list":  # text items only: SQL compares list items as text
        return [v if isinstance(v, str) else None for v in value]
    if kind == "number":
        return float(value)
    return value


def relation(con: Any, engine: Engine, leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Register the leads, coerced by the Python coercer, as the typed relation `leads`."""
    values = [engine.coerce(lead)[0] for lead in leads]
    spec = engine.spec
    columns = {name: [arrow_value(f.type, v.get(name)) for v in values]
               for name, f in spec.fields.items()}
    schema = pa.schema([(n, _ARROW[f.type]) for n, f in spec.fields.items()]
                       + [("_row", pa.int64())])
    table = pa.table({**columns, "_row": list(range(1, len(leads) + 1))}, schema=schema)
    con.register("leads", table)
    return values


def clock_years(engine: Engine, values: list[dict[str, Any]], now: dt.datetime
                ) -> tuple[int, int]:
    spec = engine.spec
    fields = {f for level in spec.service_levels.values() for f in (level.start, *level.stop)}
    years = [now.year]
    for value in values:
        for name in fields:
            epoch = epoch_seconds(value.get(name), engine.tz)
            if epoch is not None:
                years.append(dt.datetime.fromtimestamp(epoch, dt.UTC).year)
    return years_for(spec, min(years), max(years))


def run_sql(engine: Engine, leads: list[dict[str, Any]], now: dt.datetime,
            inline: bool = False) -> tuple[CompiledSql, list[dict[str, Any]]] | None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    values = relation(con, engine, leads)
    try:
        compiled = compile_decisions(engine.spec, now, version=engine.version,
                                     digest=engine.digest, years=clock_years(engine, values, now),
                                     float_values={}, inline_lookups=inline)
    except Unsupported as exc:
        event(f"refused: {exc.construct[:40]}")
        return None
    load_calendar_tables(con, compiled, engine.spec.timezone)
    names = [c.name for c in compiled.columns if c.kind != "sl_due_at"]
    cursor = con.execute(f"SELECT {', '.join(repr(n).replace(chr(39), chr(34)) for n in names)}"
                         f" FROM ({compiled.sql(pretty=False)}) ORDER BY 1")
    return compiled, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def same_number(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if got == want:
        return True
    # Documented: a score mixing fractions with whole numbers past 2**53 sums as doubles.
    return abs(float(want)) > 2**53 and math.isclose(float(got), float(want), rel_tol=1e-15)


def assert_rows_match(engine: Engine, compiled: CompiledSql, rows: list[dict[str, Any]],
                      leads: list[dict[str, Any]], now: dt.datetime) -> None:
    clock_names = list(engine.spec.service_levels)
    for row, lead in zip(rows, leads, strict=True):
        decision = engine.evaluate(lead, now)
        if any(e.code == "score-not-a-number" for e in decision.errors):
            # The record gives no decision; the printed SQL shows the score as it is, not a
            # number (the DuckDB engine then asks the Python engine for the record).
            assert any(not math.isfinite(float(row[f"score_{name}"]))
                       for name in engine.spec.scores)
            continue
        for name, verdict in decision.verdicts.items():
            assert row[f"def_{name}"] is verdict, name
        for name, value in decision.score_values.items():
            got = row[f"score_{name}"]
            assert same_number(float(got) if not isinstance(got, int | float) else got, value), \
                name
            assert row[f"band_{name}"] == decision.band_values[name], name
        assert row["stage"] == decision.stage
        assert row["owner"] == decision.owner
        assert list(row["violations"]) == [v.code for v in decision.violations]
        for i, name in enumerate(clock_names):
            reading = decision.readings[i]
            assert row[f"sl_{name}_status"] == reading.status, name
            if reading.due is not None and reading.elapsed is not None:
                due_us = row[compiled.internal[f"due:{name}"]]
                assert abs(due_us / 1e6 - reading.due) < 1e-6, name
                assert math.isclose(row[f"sl_{name}_elapsed_s"], reading.elapsed,
                                    abs_tol=1e-6), name


RANDOM = settings(max_examples=int(os.environ.get("SLAENGINE_SQL_EXAMPLES", "60")), deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


@RANDOM
@given(st.data())
def test_random_agreements_on_duckdb(data: st.DataObject) -> None:
    agreement = data.draw(agreements())
    engine = engine_for(agreement)
    now = data.draw(instants)
    leads = [data.draw(leads_for(agreement, now)) for _ in range(6)]
    # Lookup tables joined (as a warehouse runs it) and read from list variables (as the
    # embedded engine runs it) must both give the Python evaluator's answers.
    inline = data.draw(st.booleans())
    result = run_sql(engine, leads, now, inline)
    if result is None:
        return
    compiled, rows = result
    event("with clocks" if compiled.tables else "without calendar clocks")
    event("inline lookups" if inline else "joined lookups")
    assert_rows_match(engine, compiled, rows, leads, now)


def test_a_score_past_the_float_range_gives_no_decision_and_shows_in_sql() -> None:
    """Found by `test_random_agreements_on_duckdb`: a score whose total overflows is the
    record's error in Python (no stage, no verdicts), and not a number in the printed SQL."""
    agreement = {
        "agreement": "Overflow", "version": "1.0.0", "timezone": "Europe/Amsterdam",
        "parties": {"marketing": {"lead": {"name": "Dana"}}, "sales": {"lead": {"name": "Raj"}}},
        "fields": {"id": {"type": "string", "key": True}, "visits": {"type": "number"},
                   "stage": {"type": "string"}},
        "stages": [{"id": "lead", "owner": "marketing"}],
        "scores": {"heat": {"rules": [{"field": "visits", "points_each": 1e300}]}},
        "definitions": {"hot": {"when": {"score": "heat", "gte": 10}}},
    }
    engine = engine_for(agreement)
    now = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    leads = [{"id": "a", "visits": 1e10, "stage": "lead"}, {"id": "b", "visits": 2, "stage": "lead"}]
    decision = engine.evaluate(leads[0], now)
    assert [e.code for e in decision.errors] == ["score-not-a-number"]
    assert decision.stage is None and not decision.verdicts
    result = run_sql(engine, leads, now)
    assert result is not None
    compiled, rows = result
    assert math.isinf(rows[0]["score_heat"]) and rows[0]["stage"] == "lead"
    assert rows[1]["score_heat"] == 2e300 and rows[1]["def_hot"] is True
    assert_rows_match(engine, compiled, rows, leads, now)
