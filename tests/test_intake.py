"""A lead file's columns checked before any record is read, on every command and both engines."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import slaengine
from slaengine.agreement.diagnostics import UsageError
from slaengine.evaluate.intake import check_file, open_leads
from slaengine.evaluate.mapping import load_mapping, read_mapping
from slaengine.evaluate.shipped import shipped_mappings

ROOT = Path(__file__).resolve().parents[1]
EXPORTS = ROOT / "examples" / "exports"
MAPPINGS = ROOT / "examples" / "mappings"
NOW = "2026-11-20T10:00:00+01:00"
NOW_DT = datetime.fromisoformat(NOW)


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


def upper_case_copy(tmp_path: Path, name: str = "salesforce-leads.csv") -> Path:
    rows = list(csv.reader((EXPORTS / name).open(encoding="utf-8")))
    rows[0] = [cell.upper() for cell in rows[0]]
    out = tmp_path / name
    with out.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return out


def labels_export(tmp_path: Path) -> Path:
    """An export with labels no shipped mapping reads."""
    leads = tmp_path / "labels.csv"
    leads.write_text('"Lead ID","Company Name","Employees"\n"A","Acme","120"\n')
    return leads


def without_mapping(leads: Path) -> str:
    return (f"slaengine: error: {leads}: the lead file's header lacks the key column\n"
            "  no column `lead_id` or `id` for the key field `id`; the file has `Lead ID`\n"
            "  hint: give --mapping a file that maps the fields to this export's columns (see "
            "examples/mappings/README.md)\n")


@pytest.mark.parametrize("command", [
    ["evaluate"], ["evaluate", "--engine", "duckdb"], ["check"], ["kpis"],
    ["kpis", "--engine", "duckdb"], ["diff", "HEAD"],
])
def test_an_export_without_its_mapping_exits_2_naming_the_key(tmp_path: Path,
                                                              command: list[str]) -> None:
    leads = labels_export(tmp_path)
    result = run(*command, "--leads", str(leads), "--now", NOW)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == without_mapping(leads)


def test_report_refuses_before_writing(tmp_path: Path) -> None:
    leads = labels_export(tmp_path)
    result = run("report", "--leads", str(leads), "--month", "2026-10", "--out",
                 str(tmp_path / "out"))
    assert result.returncode == 2 and result.stderr == without_mapping(leads)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize(("export", "mapping"), [
    ("hubspot-contacts.csv", "hubspot"), ("salesforce-leads.csv", "salesforce"),
    ("salesforce-dataloader.csv", "salesforce")])
def test_a_shipped_mapping_is_used_when_the_header_is_its_own(export: str, mapping: str,
                                                              engine: str) -> None:
    found = run("evaluate", "--leads", f"examples/exports/{export}", "--now", NOW,
                "--engine", engine)
    given = run("evaluate", "--leads", f"examples/exports/{export}", "--mapping",
                f"examples/mappings/{mapping}.yaml", "--now", NOW)
    assert found.returncode == given.returncode == 1
    assert found.stdout == given.stdout
    note = found.stderr.splitlines()[0]
    assert note.startswith(f"slaengine: warning: examples/exports/{export}: no --mapping "
                           f"given, and the header is what the shipped mapping `{mapping}` "
                           "reads: the file is read with it (")
    assert note.endswith(f"/slaengine/evaluate/mappings/{mapping}.yaml); give --mapping to "
                         "read it otherwise")


def test_two_shipped_mappings_that_read_a_header_alike_are_suggested_not_guessed() -> None:
    result = run("evaluate", "--leads", "examples/exports/salesforce-report-mdy.csv",
                 "--now", NOW)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == ("slaengine: error: examples/exports/salesforce-report-mdy.csv: no "
                        "--mapping given, and the shipped mappings `salesforce-report-dmy` and "
                        "`salesforce-report-mdy` read the lead file's header alike")
    assert lines[1].startswith("  hint: give the one written for this export, e.g. --mapping ")


def test_the_shipped_mappings_are_the_examples() -> None:
    shipped = {p.name: p.read_text(encoding="utf-8") for p in shipped_mappings()}
    examples = {p.name: p.read_text(encoding="utf-8") for p in MAPPINGS.glob("*.yaml")}
    assert shipped == examples


def test_the_wrong_mapping_names_the_missing_columns_and_the_closest() -> None:
    result = run("evaluate", "--leads", "examples/exports/salesforce-leads.csv", "--mapping",
                 "examples/mappings/hubspot.yaml", "--now", NOW)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == ("slaengine: error: examples/exports/salesforce-leads.csv: the lead "
                        "file's header lacks 14 of the 19 columns the mapping names")
    assert ("  no column `Number of Employees` or `employee_count` for field `employee_count`; "
            "the file has `NumberOfEmployees`") in lines
    assert "  and 2 more" in lines
    assert lines[-1].startswith("  hint: correct the mapping's columns")


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_upper_case_headers_give_the_same_records(tmp_path: Path, engine: str) -> None:
    """A Data Loader export writes `ID`, `EMAIL`, `CREATEDDATE`: names match without case."""
    mapping = "examples/mappings/salesforce.yaml"
    upper = run("evaluate", "--leads", str(upper_case_copy(tmp_path)), "--mapping", mapping,
                "--now", NOW, "--engine", engine)
    same = run("evaluate", "--leads", "examples/exports/salesforce-leads.csv", "--mapping",
               mapping, "--now", NOW)
    assert upper.returncode == same.returncode == 1  # the sample has bad values on purpose
    got = [orjson.loads(line) for line in upper.stdout.splitlines()]
    want = [orjson.loads(line) for line in same.stdout.splitlines()]
    assert [r["id"] for r in got] == [r["id"] for r in want] and got[0]["id"] is not None
    for record in want:  # errors and warnings name the column as the file spells it
        for error in [*record["errors"], *record.get("warnings", [])]:
            error["column"] = error["column"].upper()
    assert got == want


def test_some_columns_absent_is_one_warning(tmp_path: Path) -> None:
    rows = list(csv.reader((EXPORTS / "salesforce-leads.csv").open(encoding="utf-8")))
    drop = [rows[0].index("MQL_Date__c"), rows[0].index("Demo_Requested__c")]
    rows = [[c for i, c in enumerate(row) if i not in drop] for row in rows]
    leads = tmp_path / "leads.csv"
    with leads.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    for engine in ("python", "duckdb"):
        result = run("evaluate", "--leads", str(leads), "--mapping",
                     "examples/mappings/salesforce.yaml", "--now", NOW, "--engine", engine)
        warnings = [line for line in result.stderr.splitlines() if "warning" in line]
        assert warnings == [
            f"slaengine: warning: {leads}: the header has no column `Demo_Requested__c` (field "
            "`demo_requested`), `MQL_Date__c` (field `mql_at`); these fields are missing on "
            "every lead"]
        assert len(result.stdout.splitlines()) == 10


def test_jsonl_first_records_and_stdin(tmp_path: Path) -> None:
    text = '{"Lead ID": "A", "employee_count": 300}\n{"Lead ID": "B"}\n'
    leads = tmp_path / "leads.jsonl"
    leads.write_text(text)
    for args, where in (((str(leads),), str(leads)), (("-",), "stdin")):
        result = run("evaluate", "--leads", *args, "--now", NOW, stdin=text)
        assert result.returncode == 2
        assert result.stderr.splitlines()[:2] == [
            f"slaengine: error: {where}: the lead file's first records lack the key column",
            "  no column `lead_id` or `id` for the key field `id`; the file has `Lead ID`"]
    parallel = run("evaluate", "--leads", "-", "--jobs", "2", "--now", NOW, stdin=text)
    assert parallel.returncode == 2 and "the key field `id`" in parallel.stderr


def test_lower_case_key_in_jsonl_is_read(tmp_path: Path) -> None:
    leads = tmp_path / "leads.jsonl"
    leads.write_text('{"LEAD_ID": "A", "Employee_Count": 300}\n')
    result = run("evaluate", "--leads", str(leads), "--now", NOW)
    record = orjson.loads(result.stdout)
    assert result.returncode == 0 and record["id"] == "A"


def test_python_api_checks_and_resolves(agreement: slaengine.Agreement, tmp_path: Path) -> None:
    engine = agreement.with_mapping(load_mapping(MAPPINGS / "salesforce.yaml"))
    lead_file = open_leads(engine, upper_case_copy(tmp_path))
    assert lead_file.warnings == ()
    assert lead_file.engine.mapping is not None and lead_file.engine.mapping["id"] == "ID"
    ids = [d.id for d in lead_file.engine.evaluate_many(lead_file.records, NOW_DT)]
    assert ids[0] == "00Q5g00000HkT1aEAF" and len(ids) == 10
    with pytest.raises(UsageError, match=r"no column `lead_id` or `id` for the key field"):
        check_file(agreement.engine, labels_export(tmp_path))
    engine, warnings = check_file(agreement.engine, EXPORTS / "hubspot-contacts.csv")
    assert engine.mapping is not None and engine.mapping["id"] == "Record ID"
    assert "the shipped mapping `hubspot`" in warnings[0]


def test_example_files_pass_unchanged(agreement: slaengine.Agreement) -> None:
    for name in ("leads.csv", "leads.jsonl"):
        engine, warnings = check_file(agreement.engine, ROOT / "examples" / name)
        assert engine is agreement.engine and warnings == ()



# ---------------------------------------------------------------- the shipped export shapes

SHAPES = [  # export, mapping, the errors' (field, column, value) in file order
    ("salesforce-leads.csv", "salesforce.yaml",
     [("first_touch_at", "First_Touch__c", "12/11/2026 14:05"),
      ("mql_at", "MQL_Date__c", "2026-13-19T07:30:00.000Z"),
      ("demo_requested", "Demo_Requested__c", "maybe")]),
    ("salesforce-dataloader.csv", "salesforce.yaml",
     [("first_touch_at", "FIRST_TOUCH__C", "12/11/2026 14:05"),
      ("mql_at", "MQL_DATE__C", "2026-13-19T07:30:00.000Z"),
      ("demo_requested", "DEMO_REQUESTED__C", "maybe")]),
    ("salesforce-report-dmy.csv", "salesforce-report-dmy.yaml",
     [("first_touch_at", "First Touch", "12/11/2026 14:05"),
      ("mql_at", "MQL Date", "2026-13-19T07:30:00.000Z"),
      ("demo_requested", "Demo Requested", "maybe")]),
    ("salesforce-report-mdy.csv", "salesforce-report-mdy.yaml",
     [("first_touch_at", "First Touch", "12/11/2026 14:05"),
      ("mql_at", "MQL Date", "2026-13-19T07:30:00.000Z"),
      ("demo_requested", "Demo Requested", "maybe")]),
]


def decisions(records: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(r["id"], r["definitions"], r["stage"], r["owner"],
             [v["code"] for v in r["violations"]],  # type: ignore[attr-defined]
             {k: v["status"] for k, v in r["service_levels"].items()})  # type: ignore[attr-defined]
            for r in records]


@pytest.fixture(scope="module")
def reference() -> list[dict[str, object]]:
    result = run("evaluate", "--leads", "examples/exports/salesforce-leads.csv", "--mapping",
                 "examples/mappings/salesforce.yaml", "--now", NOW)
    return [orjson.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize(("export", "mapping", "errors"), SHAPES)
def test_every_salesforce_shape_gives_the_same_decisions(
        export: str, mapping: str, errors: list[tuple[str, str, str]], engine: str,
        reference: list[dict[str, object]]) -> None:
    result = run("evaluate", "--leads", f"examples/exports/{export}", "--mapping",
                 f"examples/mappings/{mapping}", "--now", NOW, "--engine", engine)
    assert result.returncode == 1, result.stderr  # the samples carry three bad values
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 10  # a report's footer lines are not leads
    assert decisions(records) == decisions(reference)
    assert [(e["field"], e["column"], e["value"]) for r in records for e in r["errors"]] == errors
    python_only = engine == "duckdb" and "report" in export
    assert ("read by the Python engine" in result.stderr) == python_only
    assert "10 records" in result.stderr and "3 with errors" in result.stderr


def test_report_dates_are_read_day_first_and_month_first(agreement: slaengine.Agreement) -> None:
    """The Python API: `read_mapping`, `open_leads`, then the engine it returns."""
    found = {}
    for locale in ("dmy", "mdy"):
        mapping = read_mapping(MAPPINGS / f"salesforce-report-{locale}.yaml",
                               agreement.spec.fields)
        lead_file = open_leads(agreement.with_mapping(mapping),
                               EXPORTS / f"salesforce-report-{locale}.csv")
        assert lead_file.warnings == ()
        decided = list(lead_file.engine.evaluate_many(lead_file.records, NOW_DT))
        found[locale] = [(d.id, d.values.get("created_at"), d.values.get("industry"),
                          d.values.get("disposition")) for d in decided]
    assert found["dmy"] == found["mdy"]
    assert found["dmy"][0] == ("00Q5g00000HkT1aEAF", datetime(2026, 10, 2, 7, 14, tzinfo=UTC),
                               "software", None)
    assert found["dmy"][1][3] == "wrong_persona"  # the label `Not a buyer persona`


def test_a_report_read_with_the_api_name_mapping_exits_2() -> None:
    result = run("evaluate", "--leads", "examples/exports/salesforce-report-dmy.csv",
                 "--mapping", "examples/mappings/salesforce.yaml", "--now", NOW)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].endswith("the lead file's header lacks 14 of the 18 columns the mapping "
                             "names, the key among them")
    assert lines[1] == "  no column `Id` or `id` for the key field `id`; the file has `Lead ID`"
    assert ("  no column `Company` or `company` for field `company`; the file has "
            "`Company / Account`") in lines


def test_a_report_without_its_footer_option_reads_the_notes_as_leads(tmp_path: Path) -> None:
    """What the footer option prevents: the notes would be five records with errors, each a
    row with fewer cells than the header, located at its line."""
    mapping = tmp_path / "m.yaml"
    text = (MAPPINGS / "salesforce-report-dmy.yaml").read_text(encoding="utf-8")
    mapping.write_text(text.replace("skip_footer_lines: 5", "skip_footer_lines: 0"))
    result = run("evaluate", "--leads", "examples/exports/salesforce-report-dmy.csv",
                 "--mapping", str(mapping), "--now", NOW)
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and len(records) == 15
    assert all(r["id"] is None and r["definitions"] == {} for r in records[10:])
    first_note = records[10]["errors"][0]
    assert first_note["value"] == ["Confidential Information - Do Not Distribute"]
    assert "has 1 cell but the header has" in first_note["message"]


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_hubspot_labels_are_translated(engine: str) -> None:
    labels = run("evaluate", "--leads", "examples/exports/hubspot-contacts-labels.csv",
                 "--mapping", "examples/mappings/hubspot.yaml", "--now", NOW, "--engine", engine)
    plain = run("evaluate", "--leads", "examples/exports/hubspot-contacts.csv",
                "--mapping", "examples/mappings/hubspot.yaml", "--now", NOW)
    assert labels.returncode == plain.returncode == 1
    assert labels.stdout == plain.stdout


# ---------------------------------------------------------------- any header shape


SF_ROWS = list(csv.reader((EXPORTS / "salesforce-leads.csv").open(encoding="utf-8")))


def _normalised(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records with the columns their errors and warnings name folded: a header whose case
    changed names its columns as the file spells them."""
    out = []
    for record in records:
        copy = dict(record)
        for key in ("errors", "warnings"):
            if key in copy:
                copy[key] = [{**e, "column": str(e["column"]).casefold()} for e in copy[key]]
        out.append(copy)
    return out


@st.composite
def header_shapes(draw: st.DrawFn) -> tuple[list[int], list[str], set[int]]:
    """An order of the columns, each column's spelling, and the columns left out."""
    count = len(SF_ROWS[0])
    order = draw(st.permutations(range(count)))
    cases = [draw(st.sampled_from(["same", "upper", "lower"])) for _ in range(count)]
    spelled = [{"same": c, "upper": c.upper(), "lower": c.lower()}[how]
               for c, how in zip(SF_ROWS[0], cases, strict=True)]
    removed = draw(st.sets(st.sampled_from(range(count)), max_size=count // 2)
                   | st.just(set()))
    return list(order), spelled, removed


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=header_shapes())
def test_any_header_shape_evaluates_identically_or_names_exactly_the_missing_columns(
        agreement: slaengine.Agreement, tmp_path: Path,
        shape: tuple[list[int], list[str], set[int]]) -> None:
    order, spelled, removed = shape
    mapping = read_mapping(MAPPINGS / "salesforce.yaml", agreement.spec.fields)
    engine = agreement.with_mapping(mapping)
    kept = [i for i in order if i not in removed]
    path = tmp_path / "shape.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([spelled[i] for i in kept])
        writer.writerows([[row[i] for i in kept] for row in SF_ROWS[1:]])
    named = set(mapping.values())
    missing = {SF_ROWS[0][i] for i in removed} & named
    try:
        lead_file = open_leads(engine, path)
    except UsageError as exc:
        event("refused")
        text = str(exc)
        assert "Id" in missing or 2 * len(missing) > len(named), text
        listed = {line.split("`")[1] for line in text.splitlines()
                  if line.startswith("  no column `")}
        more = next((int(line.split()[1]) for line in text.splitlines()
                     if line.startswith("  and ")), 0)
        assert listed <= missing and len(listed) + more == len(missing)
        return
    assert "Id" not in missing and 2 * len(missing) <= len(named)
    if missing:
        event("warned")
        (warning,) = lead_file.warnings
        assert {part.split("`")[1] for part in warning.split(": the header has no column ")[1]
                .split("; these fields")[0].split("), ")} == missing
        return
    event("evaluated")
    assert lead_file.warnings == ()
    got = list(lead_file.engine.records(lead_file.records, NOW_DT))
    want = list(engine.records(open_leads(engine, EXPORTS / "salesforce-leads.csv").records,
                               NOW_DT))
    assert _normalised(got) == _normalised(want)


def agreement_copy(tmp_path: Path) -> Path:
    """The example agreement in a scratch folder, so `meeting new` writes nothing in the repo."""
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    return folder


@pytest.mark.parametrize("command", [
    ["plan", "--customers", "10", "--leads"], ["meeting", "new", "feedback", "--leads"],
    ["explain", "--lead"]])
def test_plan_meeting_and_explain_check_the_header_as_evaluate(tmp_path: Path,
                                                               command: list[str]) -> None:
    leads = labels_export(tmp_path)
    folder = agreement_copy(tmp_path)
    meetings = sorted((folder / "meetings").iterdir())
    result = run(*command, str(leads), "--agreement", str(folder))
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and result.stderr == without_mapping(leads)
    assert sorted((folder / "meetings").iterdir()) == meetings  # no record scaffolded


def test_plan_and_meeting_read_an_export_with_its_mapping(tmp_path: Path) -> None:
    export, mapping = "examples/exports/hubspot-contacts.csv", "examples/mappings/hubspot.yaml"
    guessed = run("plan", "--leads", export, "--customers", "1", "--now", NOW,
                  "--format", "json")
    given = run("plan", "--leads", export, "--mapping", mapping, "--customers", "1", "--now",
                NOW, "--format", "json")
    assert given.returncode == guessed.returncode == 0, given.stderr
    assert "no --mapping given" in guessed.stderr and given.stderr == ""
    assert given.stdout == guessed.stdout
    assert orjson.loads(given.stdout)["stages"][0]["cohort_leads"] > 0  # the leads were read
    folder = agreement_copy(tmp_path)
    made = run("meeting", "new", "feedback", "--leads", export, "--mapping", mapping,
               "--month", "2026-10", "--today", "2026-11-20", "--agreement", str(folder))
    assert made.returncode == 0, made.stderr
    text = Path(made.stdout.strip()).read_text(encoding="utf-8")
    assert f"(slaengine report --leads {export} --mapping {mapping} --month 2026-10)" in text
    explained = run("explain", "--lead", export, "--mapping", mapping, "--id", "51234001",
                    "--now", NOW, "--format", "json")
    assert orjson.loads(explained.stdout)["id"] == "51234001" and explained.stderr == ""
