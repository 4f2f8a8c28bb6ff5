"""Reading lead files as a stream, and the sample CRM exports with their column mappings."""

from __future__ import annotations

import io
import itertools
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

import slaengine
from slaengine import UsageError
from slaengine.agreement.models.sections import FieldSpec
from slaengine.evaluate import leads as leads_module
from slaengine.evaluate.coerce import Coercer, RecordError
from slaengine.evaluate.leads import RawRecord, detect_format, file_size, read_leads
from slaengine.evaluate.mapping import load_mapping

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def rows(path: Path | str, format: str | None = None) -> list[RawRecord]:
    return list(read_leads(path, format))


def unreadable(row: int, message: str, value: Any = None) -> RawRecord:
    return RawRecord(row, None, RecordError("unreadable-record", message, value=value))


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize(("name", "expected"), [
    ("a.csv", "csv"), ("a.CSV", "csv"), ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"),
    ("a.json", "jsonl"), ("dir/a.b.parquet", "parquet"),
])
def test_detect_format(name: str, expected: str) -> None:
    assert detect_format(Path(name)) == expected


@pytest.mark.parametrize("name", ["a.txt", "a", "a.csv.gz", "a.xlsx"])
def test_unknown_suffix(name: str) -> None:
    with pytest.raises(UsageError, match=r"cannot tell the lead file's format from its name; "
                                         r"use one of \.csv, \.jsonl, \.ndjson, \.json, \.parquet"):
        detect_format(name)


def test_format_argument_overrides_the_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "leads.txt", '{"a": 1}\n')
    assert rows(path, "jsonl") == [RawRecord(1, {"a": 1}, None)]
    assert rows(path, "NDJSON") == [RawRecord(1, {"a": 1}, None)]
    with pytest.raises(UsageError, match="unknown lead file format `xml`; use one of csv, jsonl"):
        read_leads(path, "xml")


def test_missing_and_unreadable_files_fail_at_once(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.csv: lead file not found"):
        read_leads(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(UsageError, match=r"dir\.csv: is a folder, not a lead file"):
        read_leads(tmp_path / "dir.csv")


def test_file_size(tmp_path: Path) -> None:
    assert file_size(write(tmp_path / "a.csv", "a\n1\n")) == 4
    assert file_size("-") is None
    assert file_size(tmp_path / "nope.csv") is None


# ---------------------------------------------------------------- JSON Lines


def test_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", b'\xef\xbb\xbf{"a": 1}\n\n  \r\n{"b": "x"}\r\n{"c": null}')
    assert rows(path) == [RawRecord(1, {"a": 1}, None), RawRecord(4, {"b": "x"}, None),
                          RawRecord(5, {"c": None}, None)]


def test_jsonl_records_that_cannot_be_read_are_kept(tmp_path: Path) -> None:
    lines = [b'{"a": 1}', b"[1, 2]", b'{"a":', b'"text"', b"null", b"42", b"true", b"\xff\xfe",
             b"{'a': 1}", b'{"ok": true}']
    records = rows(write(tmp_path / "a.jsonl", b"\n".join(lines) + b"\n"))
    error = records[8].error
    assert error is not None  # orjson's wording of the problem varies between versions
    assert error.message.startswith("line 9 is not a JSON object: ")
    assert error.message.endswith(" at column 2")
    assert records[:8] + records[9:] == [
        RawRecord(1, {"a": 1}, None),
        unreadable(2, "line 2 is not a JSON object: found an array", "[1, 2]"),
        unreadable(3, "line 3 is not a JSON object: unexpected end of data at column 6", '{"a":'),
        unreadable(4, "line 4 is not a JSON object: found a string", '"text"'),
        unreadable(5, "line 5 is not a JSON object: found null", "null"),
        unreadable(6, "line 6 is not a JSON object: found a number", "42"),
        unreadable(7, "line 7 is not a JSON object: found a boolean", "true"),
        unreadable(8, "line 8 is not a JSON object: the line is not UTF-8 text", "\ufffd\ufffd"),
        RawRecord(10, {"ok": True}, None),
    ]


def test_long_unreadable_lines_are_shortened(tmp_path: Path) -> None:
    [_, record] = rows(write(tmp_path / "a.jsonl", '{"a": 1}\n[' + "1," * 500 + "1]\n"))
    assert record.error is not None
    assert len(record.error.value) == 203 and record.error.value.endswith("...")


def test_json_array_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path / "leads.json", '[\n  {"a": 1}\n]\n')
    with pytest.raises(UsageError, match=r"holds a JSON array, not JSON Lines .*jq -c"):
        rows(path)


def test_empty_files_have_no_records(tmp_path: Path) -> None:
    assert rows(write(tmp_path / "a.jsonl", "")) == []
    assert rows(write(tmp_path / "a.csv", "")) == []
    assert rows(write(tmp_path / "b.csv", "a,b\n")) == []


# ---------------------------------------------------------------- CSV


def test_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", '\ufeffid,name,note\r\n1,"Acme, Inc.","two\r\nlines"\r\n'
                                     '\r\n2,"say ""hi""",\r\n3,x\r\n')
    assert rows(path) == [
        RawRecord(1, {"id": "1", "name": "Acme, Inc.", "note": "two\r\nlines"}, None),
        RawRecord(2, {"id": "2", "name": 'say "hi"', "note": ""}, None),
        # fewer cells: which one is missing cannot be told, so the row is not guessed at
        RawRecord(3, None, RecordError("unreadable-record",
                                       "row 3 (line 6) has 2 cells but the header has 3",
                                       value=["3", "x"])),
    ]


def test_csv_rows_that_cannot_be_read_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", b'id,name\n1,a\n2,b,extra\n3,\xe9t\xe9\n"4","multi\nline\xff"\n'
                                     b"5,e\n")
    assert rows(path) == [
        RawRecord(1, {"id": "1", "name": "a"}, None),
        unreadable(2, "row 2 (line 3) has 3 cells but the header has 2", ["2", "b", "extra"]),
        unreadable(3, "row 3 (line 4) is not UTF-8 text; save the export as UTF-8",
                   ["3", "\ufffdt\ufffd"]),
        unreadable(4, "row 4 (line 5) is not UTF-8 text; save the export as UTF-8",
                   ["4", "multi\nline\ufffd"]),
        RawRecord(5, {"id": "5", "name": "e"}, None),
    ]


def test_csv_error_from_the_parser_is_one_record(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "id,name\n1," + "x" * 200_000 + "\n2,b\n")
    records = rows(path)
    assert records[0] == unreadable(
        1, "row 1 (line 2) has a cell longer than 131,072 characters, the limit; is a quote "
                      "missing?")
    assert records[1:] == [RawRecord(2, {"id": "2", "name": "b"}, None)]


def test_csv_header_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the CSV header row is not UTF-8 text"):
        rows(write(tmp_path / "a.csv", b"id,n\xe4me\n1,a\n"))


@pytest.mark.parametrize("separator", [";", "\t"])
def test_csv_separated_by_semicolons_or_tabs(tmp_path: Path, separator: str) -> None:
    text = f'id{separator}name{separator}"a,b"\n1{separator}"x{separator}y"{separator}3,5\n'
    assert rows(write(tmp_path / "a.csv", text)) == [
        RawRecord(1, {"id": "1", "name": f"x{separator}y", "a,b": "3,5"}, None)]


# ---------------------------------------------------------------- stdin and streaming


class _Stdin:
    def __init__(self, lines: Iterator[bytes]):
        self.buffer = lines


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(iter([b'{"a": 1}\n', b"\n", b'{"a": 2}\n'])))
    assert rows("-") == [RawRecord(1, {"a": 1}, None), RawRecord(3, {"a": 2}, None)]
    monkeypatch.setattr(sys, "stdin", _Stdin(iter([b"a,b\n", b"1,2\n"])))
    assert rows("-", "csv") == [RawRecord(1, {"a": "1", "b": "2"}, None)]
    with pytest.raises(UsageError, match="Parquet cannot be read from stdin"):
        read_leads("-", "parquet")


@pytest.mark.parametrize(("format", "header", "line"), [
    ("jsonl", b"", b'{"a": 1}\n'), ("csv", b"a\n", b"1\n")])
def test_records_stream_as_they_are_read(monkeypatch: pytest.MonkeyPatch, format: str,
                                         header: bytes, line: bytes) -> None:
    consumed = 0

    def endless() -> Iterator[bytes]:
        nonlocal consumed
        if header:
            yield header
        while True:
            consumed += 1
            yield line

    monkeypatch.setattr(sys, "stdin", _Stdin(endless()))
    first = list(itertools.islice(read_leads("-", format), 3))
    assert [r.row for r in first] == [1, 2, 3]
    assert consumed <= 4


def test_memory_stays_flat_on_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = orjson.dumps({"id": "L-1", "email": "a@b.example", "note": "x" * 200}) + b"\n"
    path.write_bytes(line * 50_000)  # ~12 MB
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_leads(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 2_000_000


# ---------------------------------------------------------------- Parquet


def test_parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "id": ["a", "b", None],
        "employees": [240, None, 3],
        "created": [datetime(2026, 11, 2, 10), None, datetime(2026, 11, 3)],
        "day": [date(2026, 11, 2)] * 3,
        "tags": [["x"], [], None],
    })
    path = tmp_path / "leads.parquet"
    pq.write_table(table, path)
    monkeypatch.setattr(leads_module, "_BATCH_ROWS", 2)  # more than one batch
    records = rows(path)
    assert [r.row for r in records] == [1, 2, 3]
    assert records[0].data == {"id": "a", "employees": 240, "created": datetime(2026, 11, 2, 10),
                               "day": date(2026, 11, 2), "tags": ["x"]}
    fields = {"id": slaengine_field("string"), "employees": slaengine_field("integer"),
              "created": slaengine_field("datetime"), "day": slaengine_field("date"),
              "tags": slaengine_field("list")}
    out, errors = Coercer(fields, ZoneInfo("Europe/Amsterdam"))(records[0].data or {})
    assert errors == []
    assert out["created"] == datetime(2026, 11, 2, 9, tzinfo=UTC)


def slaengine_field(type_: str) -> FieldSpec:
    return FieldSpec.model_validate({"type": type_})


def test_parquet_that_is_not_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow.parquet")
    with pytest.raises(UsageError, match=r"bad\.parquet: cannot read the Parquet file: "):
        read_leads(write(tmp_path / "bad.parquet", "not parquet"))


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UsageError, match=r"reading Parquet needs pyarrow: "
                                         r"pip install 'slaengine\[parquet\]'"):
        read_leads(write(tmp_path / "a.parquet", "x"))


# ---------------------------------------------------------------- sample exports


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


def coerce_export(agreement: slaengine.Agreement, mapping: str, export: str,
                  ) -> list[tuple[int, dict[str, Any], list[RecordError]]]:
    coercer = Coercer(agreement.spec.fields, ZoneInfo(agreement.spec.timezone),
                      load_mapping(EXAMPLES / "mappings" / mapping))
    result = []
    for record in read_leads(EXAMPLES / "exports" / export):
        assert record.error is None and record.data is not None, record
        out, errors = coercer(record.data)
        result.append((record.row, out, errors))
    return result


@pytest.mark.parametrize("mapping", ["hubspot.yaml", "salesforce.yaml"])
def test_mappings_name_only_agreement_fields(agreement: slaengine.Agreement,
                                             mapping: str) -> None:
    columns = load_mapping(EXAMPLES / "mappings" / mapping)
    assert set(columns) <= set(agreement.spec.fields)
    assert len(set(columns.values())) == len(columns)


@pytest.mark.parametrize(("mapping", "export"), [
    ("hubspot.yaml", "hubspot-contacts.csv"), ("salesforce.yaml", "salesforce-leads.csv")])
def test_every_mapped_column_is_in_the_export(mapping: str, export: str) -> None:
    header = (EXAMPLES / "exports" / export).read_text(encoding="utf-8").splitlines()[0]
    columns = {c.strip('"') for c in header.split('","')}
    assert set(load_mapping(EXAMPLES / "mappings" / mapping).values()) <= columns


def test_hubspot_export(agreement: slaengine.Agreement) -> None:
    records = coerce_export(agreement, "hubspot.yaml", "hubspot-contacts.csv")
    assert 8 <= len(records) <= 15
    _, first, errors = records[0]
    assert errors == []
    assert first == {
        "id": "51234001", "email": "femke.devries@brightlane.example",
        "email_domain": "brightlane.example", "company": "Brightlane BV", "employee_count": 240,
        "industry": "software", "country": "NL", "job_title": "Head of Marketing Operations",
        "seniority": "director", "source": "webinar", "demo_requested": True, "email_clicks": 4,
        "owner_rep": "Raj Patel",
        "created_at": datetime(2026, 10, 2, 7, 14, tzinfo=UTC),  # CEST wall time, +02:00
        "last_activity_at": datetime(2026, 11, 12, 13, 20, tzinfo=UTC),  # CET, +01:00
        "mql_at": datetime(2026, 11, 12, 14, tzinfo=UTC),
    }
    by_id = {out["id"]: out for _, out, _ in records}
    assert by_id["51234003"]["employee_count"] == 1200  # "1,200"
    assert by_id["51234006"]["email"] == "sam.oneill@fernhill.example"  # padded with spaces
    assert by_id["51234007"]["industry"] == "Software"  # outside the enum: kept as written
    assert by_id["51234007"]["demo_requested"] is True  # "TRUE"
    assert by_id["51234011"]["created_at"] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # DST fold
    assert "stage" not in by_id["51234001"]
    assert [(row, e.field, e.column, e.value, e.message) for row, _, errs in records
            for e in errs] == [
        (4, "employee_count", "Number of Employees", "50-100", "`50-100` is not a whole number"),
        (6, "created_at", "Create Date", "11/03/2026 09:15",
         "`11/03/2026 09:15` is not a date and time (write e.g. 2026-11-02T10:00:00Z)"),
        (7, "email_clicks", "Marketing emails clicked", "n/a", "`n/a` is not a whole number"),
    ]


def test_salesforce_export(agreement: slaengine.Agreement) -> None:
    records = coerce_export(agreement, "salesforce.yaml", "salesforce-leads.csv")
    assert 8 <= len(records) <= 15
    by_id = {out["id"]: out for _, out, _ in records}
    assert by_id["00Q5g00000HkT1cEAF"] == {
        "id": "00Q5g00000HkT1cEAF", "email": "priya.raman@kestrelpay.example",
        "company": "Kestrel Pay Ltd", "job_title": "VP Finance Systems", "industry": "fintech",
        "employee_count": 1200, "country": "GB", "source": "event",
        "owner_rep": "0055g00000XyZ9QAAV",
        "created_at": datetime(2026, 9, 18, 15, 40, tzinfo=UTC),
        "last_activity_at": datetime(2026, 11, 13, 23, tzinfo=UTC),  # a date: midnight in NL
        "opportunity_at": datetime(2026, 9, 30, 22, tzinfo=UTC),
        "demo_requested": True, "mql_at": datetime(2026, 9, 25, 7, 30, tzinfo=UTC),
        "first_touch_at": datetime(2026, 9, 25, 9, 5, tzinfo=UTC),
        "accepted_at": datetime(2026, 9, 26, 8, tzinfo=UTC),
    }
    assert by_id["00Q5g00000HkT1bEAF"]["disposition"] == "wrong_persona"
    assert "employee_count" not in by_id["00Q5g00000HkT1bEAF"]  # blank cell: missing
    assert by_id["00Q5g00000HkT1fEAF"]["demo_requested"] is True  # "Y"
    assert by_id["00Q5g00000HkT1fEAF"]["source"] == "Web"  # outside the enum: kept as written
    assert [(row, e.field, e.column, e.value) for row, _, errs in records for e in errs] == [
        (6, "first_touch_at", "First_Touch__c", "12/11/2026 14:05"),
        (8, "mql_at", "MQL_Date__c", "2026-13-19T07:30:00.000Z"),
        (10, "demo_requested", "Demo_Requested__c", "maybe"),
    ]


def test_sample_exports_read_the_same_as_jsonl(agreement: slaengine.Agreement,
                                               tmp_path: Path) -> None:
    """A CSV export and the same rows as JSON Lines give the same records."""
    csv_records = rows(EXAMPLES / "exports" / "salesforce-leads.csv")
    path = tmp_path / "same.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r.data) + b"\n" for r in csv_records))
    assert [r.data for r in rows(path)] == [r.data for r in csv_records]


def test_read_a_stream_twice_in_parallel(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", "".join(f'{{"n": {i}}}\n' for i in range(10)))
    one, two = read_leads(path), read_leads(path)
    assert [(a.data, b.data) for a, b in zip(one, two, strict=True)][-1] == ({"n": 9}, {"n": 9})


def test_stdin_stream_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sys.stdin.buffer` as Python gives it: a binary stream."""
    stream = io.TextIOWrapper(io.BytesIO(b'{"a": 1}\n'), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stream)
    assert rows("-") == [RawRecord(1, {"a": 1}, None)]
