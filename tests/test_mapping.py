"""Mapping files: columns, reading options (formats, picklist values, footers), their checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import slaengine
from slaengine.agreement.diagnostics import UsageError
from slaengine.agreement.models.sections import FieldSpec
from slaengine.evaluate.leads import RawRecord
from slaengine.evaluate.mapping import (
    MappedCoercer,
    MappingFile,
    load_mapping,
    read_mapping,
    without_footer,
)

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- mapping files


def test_load_mapping(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("# comment\nemployee_count: Number of Employees\nid: Record ID\n")
    assert load_mapping(path) == {"employee_count": "Number of Employees", "id": "Record ID"}


@pytest.mark.parametrize(("text", "message"), [
    ("a: x\na: y\n", r"m\.yaml:2:1: duplicate key `a`"),
    ("a: [x\n", r"m\.yaml:\d+:\d+: invalid YAML"),
    ("- a\n- b\n", r"m\.yaml: a column mapping is an object of `field: column` pairs"),
    ("a: 12\n", r"m\.yaml:1:4: the column of `a` must be a non-empty text, not `12`"),
    ("a: ''\n", r"m\.yaml:1:4: the column of `a` must be a non-empty text, not ``"),
    ("", r"m\.yaml:1:1: file is empty"),
])
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_mapping(path)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read file"):
        load_mapping(tmp_path / "nope.yaml")


# ---------------------------------------------------------------- reading options


@pytest.fixture(scope="module")
def fields() -> dict[str, FieldSpec]:
    return dict(slaengine.load_agreement(ROOT / "agreement").spec.fields)


def test_options_are_read(tmp_path: Path, fields: dict[str, FieldSpec]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text('id: Lead ID\ndatetime_format: "%d/%m/%Y, %H:%M"\ndate_format: "%d/%m/%Y"\n'
                    'skip_footer_lines: 5\nfooter: "^Confidential"\n'
                    'values:\n  industry:\n    Technology: software\n')
    mapping = read_mapping(path, fields)
    assert dict(mapping) == {"id": "Lead ID"} and load_mapping(path) == {"id": "Lead ID"}
    assert mapping.datetime_format == "%d/%m/%Y, %H:%M" and mapping.date_format == "%d/%m/%Y"
    assert mapping.skip_footer_lines == 5 and mapping.footer is not None
    assert mapping.labels == {"industry": {"Technology": "software"}}
    assert mapping.python_only == ["datetime_format", "date_format", "values",
                                   "skip_footer_lines", "footer"]
    assert mapping.with_columns({"id": "LEAD ID"}).labels == mapping.labels


@pytest.mark.parametrize(("text", "message"), [
    ('datetime_format: "%d/%m"\n',
     "m.yaml:1:18: `datetime_format` `%d/%m` does not give the year, month and day\n"
     '  hint: write it like "%d/%m/%Y, %H:%M"'),
    ('datetime_format: "%d/%m/%Y"\n',
     "m.yaml:1:18: `datetime_format` `%d/%m/%Y` does not give the hour and minute; use "
     "`date_format` for dates\n"
     '  hint: write it like "%d/%m/%Y, %H:%M"'),
    ("date_format: dd/mm/yyyy\n",
     'm.yaml:1:14: `date_format` is a strptime format such as "%d/%m/%Y", not `dd/mm/yyyy`'),
    ("skip_footer_lines: -1\n",
     "m.yaml:1:20: `skip_footer_lines` is a number of lines (0 or more), not `-1`"),
    ("skip_footer_lines: five\n",
     "m.yaml:1:20: `skip_footer_lines` is a number of lines (0 or more), not `five`"),
    ('footer: "(unclosed"\n',
     "m.yaml:1:9: `footer` is not a valid pattern: missing ), unterminated subpattern at "
     "position 0"),
    ("values: [a]\n",
     'm.yaml:1:9: `values` is an object of fields, each an object of `"Export label": '
     "agreement value` pairs"),
    ("values:\n  industry: software\n",
     'm.yaml:2:13: the values of `industry` are an object of `"Export label": agreement '
     "value` pairs"),
    ("values:\n  industry:\n    Technology: softwear\n",
     "m.yaml:3:17: `Technology` of `industry` maps to `softwear`, which is not one of its "
     "values\n  hint: use one of software, fintech, healthcare, manufacturing, retail, "
     "education, government, other"),
    ("values:\n  industri:\n    Technology: software\n",
     "m.yaml:3:5: `values` names `industri`, which is not a field of the agreement; did you "
     "mean `industry`?"),
    ("emial: Email\n",
     "m.yaml:1:8: the column mapping names `emial`, which is not a field of the agreement; "
     "did you mean `email`?"),
])
def test_bad_options_are_located(tmp_path: Path, fields: dict[str, FieldSpec], text: str,
                                 message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as raised:
        read_mapping(path, fields)
    assert str(raised.value) == f"{tmp_path}/{message}"


def test_translator_reads_formats_and_labels(fields: dict[str, FieldSpec]) -> None:
    mapping = MappingFile({"created_at": "Create Date", "industry": "Industry"},
                          datetime_format="%m/%d/%Y, %I:%M %p", date_format="%m/%d/%Y",
                          values={"industry": {"Technology": "software"}})
    coerce = MappedCoercer(fields, ZoneInfo("Europe/Amsterdam"), mapping)
    values, errors = coerce({"Create Date": "10/2/2026, 9:14 AM", "Industry": "Technology",
                             "last_activity_at": "11/12/2026", "mql_at": "2026-11-12T14:00Z"})
    assert errors == []
    assert values["created_at"] == datetime(2026, 10, 2, 7, 14, tzinfo=UTC)  # CEST
    assert values["last_activity_at"] == datetime(2026, 11, 11, 23, 0, tzinfo=UTC)  # a date
    assert values["mql_at"] == datetime(2026, 11, 12, 14, 0, tzinfo=UTC)  # ISO still read
    assert values["industry"] == "software"
    values, errors = coerce({"Create Date": "13/2/2026, 9:14", "Industry": "Fintech"})
    assert "created_at" not in values and values["industry"] == "Fintech"
    assert [(e.code, e.field, e.column, e.value, e.message) for e in errors] == [
        ("invalid-value", "created_at", "Create Date", "13/2/2026, 9:14",
         "`13/2/2026, 9:14` does not match the mapping's formats `%m/%d/%Y, %I:%M %p` or "
         "`%m/%d/%Y`")]


def rows(*cells: str) -> Iterator[RawRecord]:
    return iter([RawRecord(i, {"Lead ID": cell, "Email": None}) for i, cell in
                 enumerate(cells, 1)])


def test_footer_lines_are_left_out() -> None:
    lines = ("A", "B", "Confidential Information", "Copyright (c)", "Generated By: Dana")
    by_count = MappingFile({}, skip_footer_lines=3)
    assert [r.data["Lead ID"] for r in without_footer(rows(*lines), by_count)
            if r.data] == ["A", "B"]
    by_pattern = MappingFile({}, footer=re.compile("^Confidential"))
    assert [r.data["Lead ID"] for r in without_footer(rows(*lines), by_pattern)
            if r.data] == ["A", "B"]
    assert [r.data["Lead ID"] for r in without_footer(rows("A", "B"), by_pattern)
            if r.data] == ["A", "B"]
