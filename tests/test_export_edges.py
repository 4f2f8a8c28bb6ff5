"""Exports at their edges: a footer option that would drop leads, a header naming a column twice.

Run as the real command (a subprocess, from the repository's root) on files written here, and
through the library where the CLI has no say (the footer warning, the records held back).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import slaengine
from slaengine.agreement.diagnostics import UsageError
from slaengine.evaluate.headers import Repeated
from slaengine.evaluate.intake import file_columns, open_leads
from slaengine.evaluate.leads import RawRecord, read_leads
from slaengine.evaluate.mapping import FooterNotes, MappingFile, read_mapping, without_footer

ROOT = Path(__file__).resolve().parents[1]
EXPORTS = ROOT / "examples" / "exports"
MAPPINGS = ROOT / "examples" / "mappings"
NOW = "2026-11-20T10:00:00Z"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def evaluate(leads: Path, *args: str) -> tuple[int, list[dict[str, object]], str]:
    result = run("evaluate", "--leads", str(leads), "--now", NOW, *args)
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    return result.returncode, records, result.stderr


def messages(record: dict[str, object]) -> list[str]:
    return [e["message"] for e in record["errors"]]  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- footers


def test_a_lead_among_the_footer_lines_is_kept_with_an_error(tmp_path: Path) -> None:
    """The report in the bug: `skip_footer_lines: 2` on a file ending with one note."""
    mapping = write(tmp_path / "m.yaml", "id: Lead ID\nskip_footer_lines: 2\n")
    leads = write(tmp_path / "f1.csv",
                  'Lead ID,stage\nL1,lead\nL2,mql\nL3,mql\n"Confidential"\n')
    code, records, stderr = evaluate(leads, "--mapping", str(mapping))
    assert code == 1, stderr
    assert [r["id"] for r in records] == ["L1", "L2", None]  # the note alone is left out
    errors = records[2]["errors"]
    assert isinstance(errors, list) and len(errors) == 1
    error = errors[0]
    assert error["code"] == "unreadable-record"
    assert error["value"] == ["L3", "mql"]
    assert error["message"] == (
        "row 3 (line 4) looks like a lead, not a footer note (`L3`, `mql`), but it is one of "
        "the last 2 lines, which the mapping's `skip_footer_lines: 2` leaves out as notes; it "
        "is not evaluated: check that the export still ends with its 2 lines of notes, or "
        "correct `skip_footer_lines`")
    assert "3 records" in stderr and "1 with errors (1 unreadable)" in stderr


def test_the_shipped_report_mapping_on_an_export_without_its_notes(tmp_path: Path) -> None:
    """`salesforce-report-dmy.yaml` skips five lines; without them, five leads were lost."""
    lines = (EXPORTS / "salesforce-report-dmy.csv").read_text(encoding="utf-8").splitlines()
    leads = write(tmp_path / "report.csv", "\n".join(lines[:12]) + "\n")  # header, 10 leads
    code, records, stderr = evaluate(leads, "--mapping",
                                     str(MAPPINGS / "salesforce-report-dmy.yaml"))
    assert code == 1 and len(records) == 10, stderr
    assert all(r["definitions"] for r in records[:5])
    kept = [m for r in records[5:] for m in messages(r)]
    assert [m.split(" looks like")[0] for m in kept] == [
        "row 6 (line 7)", "row 7 (line 9)", "row 8 (line 10)", "row 9 (line 11)",
        "row 10 (line 12)"]  # row 6 holds a cell over two lines
    assert all("`skip_footer_lines: 5`" in m for m in kept)
    assert "`00Q5g00000HkT1jEAF`, `Wei`, `Zhang`, ..." in kept[-1]


def test_the_shipped_report_still_reads_its_notes_as_footer(
        agreement: slaengine.Agreement) -> None:
    """The export as Salesforce writes it: the five notes are left out, and said so once the
    file is read, with their lines (a blank line before them)."""
    told: list[str] = []
    mapping = read_mapping(MAPPINGS / "salesforce-report-dmy.yaml", agreement.spec.fields)
    path = EXPORTS / "salesforce-report-dmy.csv"
    lead_file = open_leads(agreement.with_mapping(mapping), path, on_warning=told.append)
    assert lead_file.warnings == () and told == []  # the footer is known at the end only
    records = list(lead_file.records)
    assert len(records) == 10 and all(r.data is not None for r in records)
    assert told == [
        f"{path}: lines 14 to 18 are the export's footer (the mapping's "
        "`skip_footer_lines: 5`) and were left out: `Confidential Information - Do Not "
        "Distribute` to `Filtered By: Lead Status not equal to Closed - Junk`"]
    assert lead_file.footer is not None and lead_file.footer.count == 5


def test_a_lead_whose_id_matches_the_footer_pattern_is_not_a_footer(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", 'id: Lead ID\nfooter: "^Total"\n')
    leads = write(tmp_path / "t.csv", 'Lead ID,stage\nL1,lead\nTotal-Q4-77,mql\nL3,sql\n'
                                      '"Total: 3 leads"\n"Confidential"\nL9,sql\n')
    code, records, stderr = evaluate(leads, "--mapping", str(mapping))
    assert code == 1, stderr
    # L3 comes after the lead the pattern matched: read as a lead, not as footer
    assert [r["id"] for r in records] == ["L1", None, "L3", None]
    assert records[2]["stage"] == "sql"
    assert messages(records[1]) == [
        "row 2 (line 3) looks like a lead, not a footer note (`Total-Q4-77`, `mql`), but its "
        "first cell matches the mapping's `footer` pattern `^Total`; it is not evaluated: make "
        "the pattern match the first note only"]
    # the note on line 5 starts the footer; a lead after it is not dropped either
    assert messages(records[3]) == [
        "row 6 (line 7) looks like a lead, not a footer note (`L9`, `sql`), but it comes after "
        "row 4 (line 5), where the mapping's `footer` pattern `^Total` starts the footer; it "
        "is not evaluated: make the pattern match the first note only"]


def test_a_note_a_spreadsheet_padded_to_the_header_width_is_still_a_note(
        tmp_path: Path, agreement: slaengine.Agreement) -> None:
    """Saved again from a spreadsheet, every row has the header's width: `"Confidential",,`
    holds one value, and is left out; the warning names its line."""
    leads = write(tmp_path / "padded.csv", 'Lead ID,stage,email\nL1,lead,a@b.example\n\n'
                                           '"Confidential",,\nGenerated by Dana,,\n')
    told: list[str] = []
    engine = agreement.with_mapping(MappingFile({"id": "Lead ID"}, skip_footer_lines=2))
    records = list(open_leads(engine, leads, on_warning=told.append).records)
    assert [r.data["Lead ID"] for r in records if r.data] == ["L1"] and len(records) == 1
    assert told == [f"{leads}: lines 4 to 5 are the export's footer (the mapping's "
                    "`skip_footer_lines: 2`) and were left out: `Confidential` to "
                    "`Generated by Dana`"]


def test_check_kpis_and_mapping_check_see_the_kept_lead(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", "id: Lead ID\nskip_footer_lines: 2\n")
    leads = write(tmp_path / "f1.csv",
                  'Lead ID,stage\nL1,lead\nL2,mql\nL3,mql\n"Confidential"\n')
    common = ("--leads", str(leads), "--mapping", str(mapping))
    check = run("check", *common, "--now", NOW)
    assert "3 leads read, 1 with errors (1 unreadable)" in check.stdout, check.stderr
    assert "row 3: row 3 (line 4) looks like a lead, not a footer note" in check.stdout
    kpis = run("kpis", *common, "--now", NOW, "--format", "json")
    assert kpis.stderr.splitlines()[-1] == "3 records, 1 with errors (1 unreadable)"
    survey = run("mapping", "check", *common)
    assert survey.returncode == 1
    assert survey.stdout.splitlines()[0] == f"{leads}: 3 leads, read with {mapping}"
    assert "1 record could not be read at all" in survey.stdout


def test_the_footer_holds_back_only_as_many_records_as_it_skips() -> None:
    """Memory stays flat: with `skip_footer_lines: 3`, the nth record out was read with at
    most three more after it, however long the file."""
    read = [0]

    def endless() -> Iterator[RawRecord]:
        while True:
            read[0] += 1
            yield RawRecord(read[0], {"Lead ID": f"L{read[0]}", "stage": "lead"})

    kept = without_footer(endless(), MappingFile({}, skip_footer_lines=3), FooterNotes())
    for n in range(1, 10_001):
        assert next(kept).row == n
        assert read[0] == n + 3


def test_footer_notes_list_runs_and_stop_listing() -> None:
    notes = FooterNotes()
    notes.option = '`footer: "^Note"`'
    for row in (1, 2, 3, 5, 7, 9, 11, 13, 15):
        notes.add(RawRecord(row, {"a": f"Note {row}", "b": ""}))
    assert notes.warning("x.jsonl") == (
        'x.jsonl: records 1 to 3, 5, 7, 9, 11 and others (9 records in all) are the export\'s '
        'footer (the mapping\'s `footer: "^Note"`) and were left out: `Note 1` to `Note 15`')
    assert FooterNotes().warning("x.csv") is None


# ---------------------------------------------------------------- repeated columns


def refusal(path: Path, column: str, positions: str, field: str) -> str:
    return (f"slaengine: error: {path}: the header names the column `{column}` twice "
            f"({positions}); which one holds field `{field}` cannot be told\n"
            "  hint: rename or remove all but the column that holds it\n")


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_column_a_field_reads_named_twice_exits_2(tmp_path: Path, engine: str) -> None:
    leads = write(tmp_path / "dup.csv", "id,stage,stage\nL1,sql,lead\n")
    result = run("evaluate", "--leads", str(leads), "--now", NOW, "--engine", engine)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == refusal(leads, "stage", "columns 2 and 3", "stage")


def test_names_differing_in_case_or_spaces_are_the_same_column(tmp_path: Path) -> None:
    leads = write(tmp_path / "dup.csv", "id,Stage,notes, stage \nL1,sql,x,lead\n")
    result = run("evaluate", "--leads", str(leads), "--now", NOW)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        f"slaengine: error: {leads}: the header names the column `Stage` twice, as `Stage` "
        "and ` stage ` (columns 2 and 4); which one holds field `stage` cannot be told")


def test_a_mapped_column_and_the_field_name_it_falls_back_to(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", "stage: Lead Status\n")
    mapped = write(tmp_path / "mapped.csv", "id,Lead Status,lead status\nL1,sql,lead\n")
    result = run("evaluate", "--leads", str(mapped), "--mapping", str(mapping), "--now", NOW)
    assert result.returncode == 2
    assert "the column `Lead Status` twice, as `Lead Status` and `lead status` (columns 2 " \
           "and 3); which one holds field `stage`" in result.stderr
    # a field is read from its name when its mapped column is blank: that column counts too
    fallback = write(tmp_path / "fallback.csv", "id,Lead Status,stage,stage\nL1,,sql,lead\n")
    result = run("evaluate", "--leads", str(fallback), "--mapping", str(mapping), "--now", NOW)
    assert result.returncode == 2
    assert result.stderr == refusal(fallback, "stage", "columns 3 and 4", "stage")


def test_several_repeated_columns_are_listed(tmp_path: Path) -> None:
    leads = write(tmp_path / "dup.csv", "id,stage,id,stage,stage\nL1,sql,L2,lead,mql\n")
    result = run("check", "--leads", str(leads), "--now", NOW)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"slaengine: error: {leads}: the header names 2 columns the fields read more than "
        "once; which cell holds each value cannot be told",
        "  the column `id` twice (columns 1 and 3), read for field `id`",
        "  the column `stage` three times (columns 2, 4 and 5), read for field `stage`",
        "  hint: rename or remove all but the column that holds each value"]


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_repeated_column_no_field_reads_is_left_alone(tmp_path: Path, engine: str) -> None:
    leads = write(tmp_path / "notes.csv", "id,stage,Notes,notes,Notes\nL1,sql,a,b,c\n")
    code, records, stderr = evaluate(leads, "--engine", engine)
    assert code == 0, stderr
    assert [(r["id"], r["stage"], r["errors"]) for r in records] == [("L1", "sql", [])]
    [record] = read_leads(leads)
    assert record.data is not None and record.data["notes"] == "b"  # one of its kind
    assert record.data["Notes"] == Repeated(("id", "stage", "Notes", "notes", "Notes"))


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_parquet_file_naming_a_column_twice(tmp_path: Path, engine: str) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    refused = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array(["L1"]), pa.array(["sql"]), pa.array(["lead"])],
                            names=["id", "stage", "stage"]), refused)
    result = run("evaluate", "--leads", str(refused), "--now", NOW, "--engine", engine)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == refusal(refused, "stage", "columns 2 and 3", "stage")
    read = tmp_path / "notes.parquet"
    pq.write_table(pa.table([pa.array(["L1"]), pa.array(["sql"]), pa.array(["a"]),
                             pa.array(["b"])], names=["id", "stage", "notes", "notes"]), read)
    code, records, stderr = evaluate(read, "--engine", engine)
    assert code == 0 and [(r["id"], r["stage"]) for r in records] == [("L1", "sql")], stderr
    assert file_columns(read) == ["id", "stage", "notes", "notes"]


def test_a_repeated_column_after_many_unreadable_rows_is_still_refused(
        tmp_path: Path, agreement: slaengine.Agreement) -> None:
    """The header is checked on the first readable record; when the first hundred rows cannot
    be read, the check comes with the first one that can, before it is evaluated."""
    leads = write(tmp_path / "late.csv",
                  "id,stage,stage\n" + "short\n" * 150 + "L1,sql,lead\n")
    lead_file = open_leads(agreement.engine, leads)
    assert lead_file.columns is None
    records = iter(lead_file.records)
    assert all(next(records).data is None for _ in range(150))
    with pytest.raises(UsageError, match=r"names the column `stage` twice \(columns 2 and 3\)"):
        next(records)
    # the DuckDB engine checks the file first: it looks as far as the first readable row
    assert file_columns(leads) == ["id", "stage", "stage"]


def test_json_lines_still_refuse_a_record_naming_a_key_twice(tmp_path: Path) -> None:
    leads = write(tmp_path / "dup.jsonl", '{"id": "L1", "stage": "sql", "stage": "lead"}\n')
    code, records, _ = evaluate(leads)
    assert code == 1 and records[0]["id"] is None
    assert "names `stage` twice" in messages(records[0])[0]


def test_the_record_of_a_csv_row_says_its_line_and_equals_a_plain_one(tmp_path: Path) -> None:
    leads = write(tmp_path / "lines.csv", 'id,note\n\nL1,"two\nlines"\nL2,x\n')
    first, second = read_leads(leads)
    assert (first.row, getattr(first, "line", None)) == (1, 3)
    assert (second.row, getattr(second, "line", None)) == (2, 5)
    assert second == RawRecord(2, {"id": "L2", "note": "x"})
    assert RawRecord(2, {"id": "L2", "note": "x"}) == second
    assert second != RawRecord(3, {"id": "L2", "note": "x"})
