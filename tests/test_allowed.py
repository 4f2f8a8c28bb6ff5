"""Values outside a field's allowed values are `value-not-allowed` warnings, on both engines."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import orjson
import pytest

import slaengine
from slaengine.agreement.models.sections import FieldSpec
from slaengine.evaluate.allowed import AllowedValues, allowed_values

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-20T10:00:00+01:00"
FIELDS = {
    "industry": FieldSpec(type="string", title="Industry", enum=["software", "fintech"]),
    "tags": FieldSpec(type="list", enum=["a", "b"]),
    "level": FieldSpec(type="integer", enum=[1, 2]),
    "flag": FieldSpec(type="boolean", enum=[True]),
    "country": FieldSpec(type="string"),
    "stage": FieldSpec(type="string", enum=["lead"]),
}
COLUMNS = {name: name for name in FIELDS} | {"industry": "Industry"}


def test_allowed_values_come_from_enum_or_the_mapping_labels() -> None:
    assert allowed_values(FIELDS, {"country": {"Netherlands": "NL", "Holland": "NL"}},
                          "stage") == {"industry": ("software", "fintech"), "tags": ("a", "b"),
                                       "level": (1, 2), "flag": (True,), "country": ("NL",)}


def test_warnings_name_field_column_and_value() -> None:
    check = AllowedValues(FIELDS, COLUMNS, stage_field="stage")
    assert check.check({"industry": "software", "tags": ["a"], "level": 2, "flag": True,
                        "stage": "closed"}) == ()
    found = check.check({"industry": "Software", "tags": ["a", "c"], "level": 1.0, "flag": 1},
                        {"Industry": "Software"})
    assert [(w.code, w.field, w.column, w.value) for w in found] == [
        ("value-not-allowed", "industry", "Industry", "Software"),
        ("value-not-allowed", "tags", "tags", "c"),
        ("value-not-allowed", "flag", "flag", 1)]  # 1 is not true; 1.0 equals 1
    assert found[0].message == ("`Software` is not one of the values Industry allows "
                                "(software, fintech); the lead is evaluated with it as written")
    fallback = check.check({"industry": "Software"}, {"industry": "Software"})
    assert fallback[0].column == "industry"  # read from the field's own name


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("engine", ["python", "duckdb"])
@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_evaluate_reports_and_counts_warnings(tmp_path: Path, engine: str, suffix: str) -> None:
    leads = tmp_path / f"leads.{suffix}"
    if suffix == "csv":
        leads.write_text("lead_id,industry,seniority\nA,Software,vp\nB, software ,\n"
                         "C,fintech,Chief\n")
    else:
        leads.write_text('{"lead_id":"A","industry":"Software","seniority":"vp"}\n'
                         '{"lead_id":"B","industry":" software "}\n'
                         '{"lead_id":"C","industry":"fintech","seniority":"Chief"}\n')
    result = run("evaluate", "--leads", str(leads), "--now", NOW, "--engine", engine)
    assert result.returncode == 0  # warnings are not errors
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r.get("warnings") for r in records] == [
        [{"code": "value-not-allowed", "field": "industry", "column": "industry",
          "value": "Software",
          "message": "`Software` is not one of the values Industry allows (software, fintech, "
                     "healthcare, manufacturing, retail, education, government, other); the "
                     "lead is evaluated with it as written"}],
        None,
        [{"code": "value-not-allowed", "field": "seniority", "column": "seniority",
          "value": "Chief",
          "message": "`Chief` is not one of the values Seniority allows (c_level, vp, director, "
                     "manager, individual_contributor, student); the lead is evaluated with it "
                     "as written"}]]
    assert "3 records" in result.stderr and "; 2 with values not allowed; " in result.stderr
    as_csv = run("evaluate", "--leads", str(leads), "--now", NOW, "--engine", engine,
                 "--format", "csv")
    assert "; 2 with values not allowed; " in as_csv.stderr


def test_clean_records_have_no_warnings_key() -> None:
    result = run("evaluate", "--leads", "examples/leads.csv", "--now", NOW)
    assert '"warnings"' not in result.stdout and "not allowed" not in result.stderr


def test_python_api_decision_carries_warnings() -> None:
    agreement = slaengine.load_agreement(ROOT / "agreement")
    decision = agreement.evaluate({"lead_id": "A", "industry": "Computer Software"},
                                  datetime.fromisoformat(NOW))
    assert [w.code for w in decision.warnings] == ["value-not-allowed"]
    assert decision.to_json()["warnings"][0]["value"] == "Computer Software"
    assert decision.errors == ()
