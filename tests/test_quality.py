"""Counting what each field's column holds (evaluate.quality) and the per-column section
`check` prints from it (reports.quality)."""

from __future__ import annotations

from pathlib import Path

import slaengine
from slaengine.evaluate.leads import RawRecord
from slaengine.evaluate.quality import Survey
from slaengine.reports.quality import column_quality

ROOT = Path(__file__).resolve().parents[1]


def test_survey_counts_read_missing_unreadable_and_not_allowed() -> None:
    engine = slaengine.load_agreement(ROOT / "agreement").engine
    survey = Survey(engine, ["lead_id", "industry", "employee_count"])
    for row, data in enumerate([
            {"lead_id": "A", "industry": "software", "employee_count": "120"},
            {"lead_id": "B", "industry": "Software", "employee_count": "lots"},
            {"lead_id": "C", "industry": "Software", "employee_count": ""}], 1):
        survey.add(RawRecord(row, data))
    survey.add(RawRecord(4, None))
    industry, employees = survey.fields["industry"], survey.fields["employee_count"]
    assert (industry.read, industry.missing, industry.unreadable, industry.not_allowed) == \
        (3, 0, 0, 2)
    assert industry.disallowed.most_common() == [("Software", 2)]
    assert (employees.read, employees.missing, employees.unreadable) == (1, 1, 1)
    assert employees.problems == {"lots": "`lots` is not a whole number"}
    assert (survey.records, survey.unreadable_records) == (4, 1)
    assert not survey.fields["campaign"].present and survey.fields["id"].present
    assert [q.field for q in survey.with_problems()] == ["industry", "employee_count"]
    columns = column_quality(survey, limit=1)
    assert [c.column for c in columns] == ["lead_id", "employee_count", "industry"]
    assert [(o.value, o.count, o.problem) for o in columns[2].offending] == [
        ("Software", 2, "not-allowed")]
