"""`slaengine evaluate`, `explain` and `test` run as real commands on the example files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import orjson

import slaengine
from slaengine.cli.evaluate import Progress
from slaengine.evaluate.leads import read_leads

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-20T10:00:00+01:00"


def run(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, check=False)


def test_every_input_record_gets_one_output_record_in_order(tmp_path: Path) -> None:
    leads = tmp_path / "leads.jsonl"
    leads.write_text("\n".join([
        '{"lead_id": "A", "employee_count": 300, "industry": "software", "stage": "lead"}',
        '{"lead_id": "B", "employee_count": "lots"}',
        'not json at all',
        '[1, 2]',
        '',
        '{"lead_id": "C", "stage": "sql"}',
    ]) + "\n")
    result = run("evaluate", "--leads", str(leads), "--now", NOW)
    assert result.returncode == 1  # some records have errors
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["A", "B", None, None, "C"]
    assert records[1]["errors"][0]["field"] == "employee_count"
    assert records[1]["errors"][0]["value"] == "lots"
    assert "line 3" in records[2]["errors"][0]["message"]
    assert records[2]["definitions"] == {} and records[3]["errors"]
    assert [v["code"] for v in records[4]["violations"]] == ["stage-requirement-unmet"]
    assert records[4]["owner"] == "sales"
    assert "5 records" in result.stderr and "3 with errors (2 unreadable)" in result.stderr
    anyway = run("evaluate", "--leads", str(leads), "--now", NOW, "--fail-on", "never")
    assert anyway.returncode == 0  # told not to fail: same records, same errors, same count
    assert anyway.stdout == result.stdout and "3 with errors (2 unreadable)" in anyway.stderr
    assert run("evaluate", "--leads", str(leads), "--now", NOW,
               "--fail-on", "errors").returncode == 1


def test_output_follows_the_public_contract() -> None:
    result = run("evaluate", "--leads", "examples/leads.jsonl", "--now", NOW)
    first = orjson.loads(result.stdout.splitlines()[0])
    assert list(first) == ["id", "version", "digest", "definitions", "scores", "bands", "stage",
                           "owner", "violations", "service_levels", "recycle", "credit",
                           "errors"]
    agreement = slaengine.load_agreement(ROOT / "agreement")
    assert first["version"] == agreement.version and first["digest"] == agreement.digest
    assert list(first["definitions"]) == list(agreement.spec.definitions)
    assert set(first["bands"]["engagement"] or "cold") <= set("coldwarmhot")


def test_jsonl_and_csv_inputs_give_the_same_decisions() -> None:
    from_jsonl = run("evaluate", "--leads", "examples/leads.jsonl", "--now", NOW)
    from_csv = run("evaluate", "--leads", "examples/leads.csv", "--now", NOW)
    assert from_jsonl.stdout == from_csv.stdout
    assert len(from_jsonl.stdout.splitlines()) == 2000


def test_python_api_and_cli_agree() -> None:
    agreement = slaengine.load_agreement(ROOT / "agreement")
    now = datetime.fromisoformat(NOW)
    api = [orjson.dumps(d.to_json()).decode() for d in
           agreement.evaluate_many(read_leads(ROOT / "examples" / "leads.jsonl"), now)]
    cli = run("evaluate", "--leads", "examples/leads.jsonl", "--now", NOW).stdout.splitlines()
    assert api == cli


def test_csv_and_table_formats() -> None:
    result = run("evaluate", "--leads", "examples/exports/salesforce-leads.csv", "--mapping",
                 "examples/mappings/salesforce.yaml", "--now", NOW, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 10
    assert rows[0]["id"].startswith("00Q") and rows[0]["mql"] in ("true", "false")
    assert any("column" in row["errors"] for row in rows)
    table = run("evaluate", "--leads", "examples/exports/salesforce-leads.csv", "--mapping",
                "examples/mappings/salesforce.yaml", "--now", NOW, "--format", "table")
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["id", "stage", "owner", "holds"]
    assert len(lines) == 11


def test_explain_shows_every_condition_with_its_value() -> None:
    lead = json.dumps({"lead_id": "L-9", "email_domain": "acme.example", "employee_count": 1200,
                       "industry": "software", "country": "NL", "source": "webinar",
                       "last_activity_at": "2026-10-02T09:00:00", "stage": "mql"})
    result = run("explain", "--lead", "-", "--now", NOW, "--definition", "mql", stdin=lead)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Violation [stage-requirement-unmet]" in out
    assert "✓ Employee count is at least 20 (was 1,200)" in out
    assert "✗ Last activity within the last 30 days (was 2026-10-02 09:00+02:00, 49 days ago)" in out
    assert "? Demo requested: yes (no value)" in out
    as_json = orjson.loads(run("explain", "--lead", "-", "--now", NOW, "--format", "json",
                               stdin=lead).stdout)
    mql = as_json["explanations"]["mql"]
    assert mql["matched"] is False and mql["location"].startswith("agreement/definitions.yaml:")


def test_explain_shows_every_service_level() -> None:
    """Status, due time and elapsed business time of every clock, worded as business time.

    Monday 09:00 to 15:30 is 5 h 30 min of business time (the desk closes 12:30-13:30); two
    business days from Monday morning end at Tuesday's close."""
    lead = json.dumps({"lead_id": "L-8", "email_domain": "acme.example", "employee_count": 1200,
                       "industry": "software", "country": "NL", "source": "event",
                       "captured_at": "2026-11-16T09:00:00+01:00",
                       "delivered_at": "2026-11-16T15:30:00+01:00"})
    result = run("explain", "--lead", "-", "--now", NOW, "--definition", "mql", stdin=lead)
    out = result.stdout
    levels = slaengine.load_agreement(ROOT / "agreement").spec.service_levels
    section = out[out.index("Service levels:"):out.index("\n\n", out.index("Service levels:"))]
    assert len(section.splitlines()) == 1 + len(levels)
    for name, level in levels.items():
        assert f"  {level.title} [{name}], within " in section
    assert ("Marketing delivers event leads [event_lead_delivery], within 2 business days: met · "
            "due Tue 17 Nov 2026 17:30 · 5 h 30 min of business time elapsed") in section
    assert "within 24 business hours: does not apply" in section
    assert "\nEngagement score [engagement]: " in out  # titles first, ids in brackets


def test_explain_picks_a_record_from_a_lead_file() -> None:
    fourth = orjson.loads(Path(ROOT / "examples/leads.jsonl").read_bytes().splitlines()[3])
    key = str(fourth.get("lead_id", fourth.get("id")))
    result = run("explain", "--lead", "examples/leads.jsonl", "--id", key, "--now", NOW)
    version = slaengine.load_agreement(ROOT / "agreement").version
    assert result.stdout.startswith(f"Lead {key} · agreement {version}")
    missing = run("explain", "--lead", "examples/leads.jsonl", "--id", "nope", "--now", NOW)
    assert missing.returncode == 2 and "no lead with id `nope`" in missing.stderr


def test_agreement_tests_pass_and_report_coverage() -> None:
    result = run("test")
    assert result.returncode == 0, result.stdout
    cases = sum(len(suite.cases) for suite in slaengine.load_agreement(ROOT / "agreement").tests)
    assert cases >= 15
    assert result.stdout.splitlines()[-1] == f"{cases} passed, 0 failed"
    assert "untested:" not in result.stdout  # every definition both ways, every clock
    assert run("test", "--strict").returncode == 0


def test_a_failing_case_explains_itself(tmp_path: Path) -> None:
    copy = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", copy)
    cases = copy / "tests" / "definitions.yaml"
    cases.write_text(cases.read_text().replace("scores: {engagement: 43}",
                                               "scores: {engagement: 44}"))
    result = run("test", str(copy))
    assert result.returncode == 1
    assert "scores.engagement: expected 44, got 43" in result.stdout
    total = sum(len(suite.cases) for suite in slaengine.load_agreement(ROOT / "agreement").tests)
    assert result.stdout.splitlines()[-1] == f"{total - 1} passed, 1 failed"


def test_unreadable_inputs_are_usage_errors(tmp_path: Path) -> None:
    missing = run("evaluate", "--leads", str(tmp_path / "nope.jsonl"), "--now", NOW)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    odd = tmp_path / "leads.xlsx"
    odd.write_text("x")
    wrong = run("evaluate", "--leads", str(odd), "--now", NOW)
    assert wrong.returncode == 2 and ".csv" in wrong.stderr
    bad_now = run("evaluate", "--leads", "examples/leads.jsonl", "--now", "yesterday")
    assert bad_now.returncode == 2


def test_leads_from_stdin() -> None:
    text = '{"lead_id": "S1", "industry": "software"}\n{"lead_id": "S2"}\n'
    result = run("evaluate", "--leads", "-", "--now", NOW, stdin=text)
    assert [orjson.loads(line)["id"] for line in result.stdout.splitlines()] == ["S1", "S2"]


def test_progress_bar_reads_the_file_position() -> None:
    progress = Progress(1000)
    handle = io.BytesIO(b"x" * 1000)
    progress.opened(handle)
    handle.seek(500)
    line = progress.line(20_000, 2.0)
    assert "50%" in line and "20,000 records" in line and "10,000/s" in line
    assert line.count("█") == Progress.WIDTH // 2
    assert "0:02 left" in line
    assert not Progress(None).shown  # stdin: no size, no bar
