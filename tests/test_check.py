"""`slaengine check`: the weekly breach report, built from hand-computed clocks.

Every clock below was worked out by hand on the example agreement's `business` calendar
(Europe/Amsterdam; Mon-Tue 09:00-12:30 and 13:30-17:30 = 7.5 h, Wed-Thu 09:00-17:30 = 8.5 h,
Fri 09:00-17:00 = 8 h) at NOW, Friday 20 November 2026 10:00 CET (1 h into Friday).
`mql_first_touch` allows 24 business hours (warn at 75%), `mql_accept_or_reject` 2 business
days (warn at 50%), `event_lead_delivery` 2 business days (no warning); a lead arriving during
a business day starts counting business days on the next one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import slaengine
from slaengine.cli.check import render_markdown, render_text, when
from slaengine.evaluate.clocks import STATUSES
from slaengine.evaluate.evaluator import Engine
from slaengine.evaluate.leads import read_leads
from slaengine.reports.weekly import CheckReport, LevelReport, build_check, business_time_text

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-11-20T10:00:00+01:00"
NOW_DT = datetime.fromisoformat(NOW)
H = 3600

# An MQL through its demo request: 400 employees, a company domain; also fits the ICP.
MQL = {"email_domain": "northsea-logistics.example", "employee_count": 400,
       "industry": "manufacturing", "country": "NL", "source": "website",
       "demo_requested": True}

LEADS: list[dict[str, object] | str] = [
    # first_touch: Wed 8.5 + Thu 8.5 + Fri 1 = 18 h of 24 (75%): at risk, 6 h left, due Fri
    # 16:00. accept_or_reject: Wed and Thu (17 h) due Thu 17:30; 18 h: 1 h late, open.
    {**MQL, "id": "B-NEW", "mql_at": "2026-11-18T09:00:00+01:00", "stage": "mql"},
    # first_touch: Mon 10:00 (6.5) + Tue 7.5 + Wed 8.5 = 22.5, + 1.5 h: due Thu 10:30; touched
    # Thu 14:00 after 27.5 h: 3.5 h late, stopped. accept_or_reject: business days Tue and
    # Wed, due Wed 17:30 after 22.5 h; now 6.5+7.5+8.5+8.5+1 = 32 h: 9.5 h late, open.
    {**MQL, "id": "B-STOP", "mql_at": "2026-11-16T10:00:00+01:00",
     "first_touch_at": "2026-11-19T14:00:00+01:00", "stage": "mql"},
    # first_touch: Mon 7.5 + Tue 7.5 + Wed 8.5 = 23.5, due Thu 09:30; now 33 h: 9 h late.
    # accept_or_reject: Mon and Tue, due Tue 17:30 after 15 h; 33 h: 18 h late.
    {**MQL, "id": "B-OLD", "mql_at": "2026-11-16T09:00:00+01:00", "stage": "mql"},
    # Touched and accepted two hours in: both met.
    {**MQL, "id": "M-1", "mql_at": "2026-11-19T09:00:00+01:00",
     "first_touch_at": "2026-11-19T11:00:00+01:00", "accepted_at": "2026-11-19T11:00:00+01:00",
     "stage": "sal"},
    # first_touch from Tue 17:00: 0.5 + 8.5 + 8.5 = 17.5, + 6.5 h: due Fri 15:30; now 18.5 h:
    # at risk, 5.5 h left. accept_or_reject: Wed and Thu (17.5 h), accepted after 10 h: met.
    {**MQL, "id": "A-4", "mql_at": "2026-11-17T17:00:00+01:00",
     "accepted_at": "2026-11-19T10:00:00+01:00", "stage": "sal"},
    # Event badge scan Mon 15:00: business days Tue and Wed, due Wed 17:30 after
    # 2.5 + 7.5 + 8.5 = 18.5 h; not delivered, now 28 h: 9.5 h late (marketing's breach).
    {"id": "E-1", "email_domain": "alpenbank.example", "employee_count": 2000,
     "industry": "fintech", "country": "DE", "source": "event",
     "captured_at": "2026-11-16T15:00:00+01:00", "created_at": "2026-11-16T15:00:00+01:00",
     "stage": "lead"},
    # Recorded as SQL without meeting the SQL definition.
    {"id": "V-1", "stage": "sql"},
    # Accepted, idle since mid-September: back to nurture (agreement/tests case L-2008).
    {"id": "R-1", "email_domain": "medisys.example", "employee_count": 1200,
     "industry": "healthcare", "country": "BE", "source": "webinar",
     "mql_at": "2026-09-01T10:00:00+02:00", "accepted_at": "2026-09-02T10:00:00+02:00",
     "first_touch_at": "2026-09-01T15:00:00+02:00",
     "last_activity_at": "2026-09-15T10:00:00+02:00", "stage": "sal"},
    # A US retailer handed over as an MQL: outside the ICP, so sales gets a credit. Thu 13:00:
    # first_touch 4.5 + 1 = 5.5 h, running; accept_or_reject due Mon 17:30 (20 h), running.
    {"id": "C-1", "email_domain": "shopwell.example", "employee_count": 80,
     "industry": "retail", "country": "US", "source": "website", "demo_requested": True,
     "mql_at": "2026-11-19T13:00:00+01:00", "stage": "mql"},
    # A value that cannot be read: an error on a record that is still evaluated.
    {"id": "X-1", "employee_count": "lots", "stage": "lead"},
    "this line is not JSON",
]


def write_leads(path: Path, leads: list[dict[str, object] | str]) -> Path:
    path.write_text("".join((json.dumps(lead) if isinstance(lead, dict) else lead) + "\n"
                            for lead in leads))
    return path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "slaengine", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, env=environ)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return slaengine.load_agreement(ROOT / "agreement").engine


@pytest.fixture
def leads_file(tmp_path: Path) -> Path:
    return write_leads(tmp_path / "leads.jsonl", LEADS)


def check(engine: Engine, path: Path, limit: int | None = None) -> CheckReport:
    return build_check(engine, engine.evaluate_many(read_leads(path), NOW_DT), NOW_DT, limit)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# ---------------------------------------------------------------- the report

def test_counts_every_record_and_the_unreadable_line(engine: Engine, leads_file: Path) -> None:
    report = check(engine, leads_file)
    assert report.leads == 11
    assert report.with_errors == 2 and report.unreadable == 1
    assert [e.id for e in report.record_errors] == ["X-1", None]
    assert "employee_count" in report.record_errors[0].message
    assert report.record_errors_total == 2
    # The unreadable record has no clocks: 10 readings per service level, not 11.
    assert all(sum(level.counts.values()) == 10 for level in report.service_levels.values())


def test_status_counts_and_attainment(engine: Engine, leads_file: Path) -> None:
    levels = check(engine, leads_file).service_levels
    first_touch = levels["mql_first_touch"].counts
    assert first_touch == {"not_applicable": 4, "not_started": 0, "running": 1, "at_risk": 2,
                           "met": 1, "breached": 2}
    assert levels["mql_first_touch"].attainment == pytest.approx(1 / 3)
    assert levels["mql_accept_or_reject"].counts == {
        "not_applicable": 4, "not_started": 0, "running": 1, "at_risk": 0, "met": 2,
        "breached": 3}
    assert levels["mql_accept_or_reject"].attainment == pytest.approx(2 / 5)
    assert levels["event_lead_delivery"].counts["breached"] == 1
    assert levels["event_lead_delivery"].attainment == 0.0
    # No lead reached `sql_at`: nothing met or breached, so no value (not 0%, not a crash).
    assert levels["sql_to_opportunity"].counts["not_started"] == 10
    assert levels["sql_to_opportunity"].attainment is None


def test_breaches_oldest_due_first_with_how_late(engine: Engine, leads_file: Path) -> None:
    levels = check(engine, leads_file).service_levels
    accept = levels["mql_accept_or_reject"].breached
    assert [(b.id, b.due_at, b.late_s, b.stopped) for b in accept] == [
        ("B-OLD", utc("2026-11-17T17:30:00+01:00"), 18 * H, False),
        ("B-STOP", utc("2026-11-18T17:30:00+01:00"), 9.5 * H, False),
        ("B-NEW", utc("2026-11-19T17:30:00+01:00"), 1 * H, False)]
    assert {b.escalate_to for b in accept} == {"VP Sales"}
    touch = levels["mql_first_touch"].breached
    assert [(b.id, b.due_at, b.late_s) for b in touch] == [
        ("B-OLD", utc("2026-11-19T09:30:00+01:00"), 9 * H),
        ("B-STOP", utc("2026-11-19T10:30:00+01:00"), 3.5 * H)]
    assert [b.stopped_at for b in touch] == [None, utc("2026-11-19T14:00:00+01:00")]
    assert touch[0].escalate_to == "Sales development manager"
    assert levels["mql_first_touch"].worst_breach == touch[0]
    event = levels["event_lead_delivery"].breached
    assert [(b.id, b.due_at, b.late_s, b.escalate_to) for b in event] == [
        ("E-1", utc("2026-11-18T17:30:00+01:00"), 9.5 * H, "Marketing operations manager")]


def test_at_risk_soonest_due_first_with_time_left(engine: Engine, leads_file: Path) -> None:
    level = check(engine, leads_file).service_levels["mql_first_touch"]
    assert [(a.id, a.due_at, a.remaining_s) for a in level.at_risk] == [
        ("A-4", utc("2026-11-20T15:30:00+01:00"), 5.5 * H),
        ("B-NEW", utc("2026-11-20T16:00:00+01:00"), 6 * H)]
    assert level.worst_at_risk is not None and level.worst_at_risk.id == "A-4"


def test_violations_recycles_and_credits(engine: Engine, leads_file: Path) -> None:
    report = check(engine, leads_file)
    assert [(g.code, g.count, [v.id for v in g.leads]) for g in report.violations] == [
        ("stage-requirement-unmet", 1, ["V-1"])]
    assert [(r.id, r.stage, r.to) for r in report.recycle] == [("R-1", "sal", "nurture")]
    assert [(c.id, c.reason, c.source) for c in report.credits] == [
        ("C-1", "requirement-unmet", "icp_fit")]
    assert report.recycle_total == 1 and report.credits_total == 1


def test_owners_in_party_order_then_service_levels_in_agreement_order(
        engine: Engine, leads_file: Path) -> None:
    report = check(engine, leads_file)
    assert [(g.party, [lv.name for lv in g.levels]) for g in report.owners] == [
        ("marketing", ["event_lead_delivery"]),
        ("sales", ["mql_first_touch", "mql_accept_or_reject", "sql_to_opportunity"])]
    assert list(report.service_levels) == list(engine.spec.service_levels)


def test_limit_keeps_the_first_in_report_order_and_the_totals(engine: Engine,
                                                              leads_file: Path) -> None:
    report = check(engine, leads_file, limit=2)
    accept = report.service_levels["mql_accept_or_reject"]
    assert [b.id for b in accept.breached] == ["B-OLD", "B-STOP"]
    assert accept.breached_total == 3
    one = check(engine, leads_file, limit=1).service_levels["mql_first_touch"]
    assert [a.id for a in one.at_risk] == ["A-4"] and one.at_risk_total == 2
    assert check(engine, leads_file, limit=0).service_levels["mql_first_touch"].breached == ()
    text = render_text(report)
    assert "… and 1 more" in text


def test_failing_on(engine: Engine, leads_file: Path, tmp_path: Path) -> None:
    report = check(engine, leads_file)
    assert report.failed("breached") and report.failed("at-risk")
    assert not report.failed("never")
    at_risk_only = check(engine, write_leads(tmp_path / "a.jsonl", [LEADS[4]]))
    assert (at_risk_only.breached, at_risk_only.at_risk) == (0, 1)
    assert not at_risk_only.failed("breached") and at_risk_only.failed("at-risk")


def test_json_document(engine: Engine, leads_file: Path) -> None:
    doc = json.loads(json.dumps(check(engine, leads_file).to_json()))
    assert list(doc) == ["agreement", "now", "leads", "errors", "unreadable", "service_levels",
                         "violations", "recycle", "credits", "record_errors", "data_quality"]
    assert doc["now"] == "2026-11-20T09:00:00Z"
    assert (doc["leads"], doc["errors"], doc["unreadable"]) == (11, 2, 1)
    assert doc["agreement"]["version"] == engine.version
    assert doc["agreement"]["digest"] == engine.digest
    touch = doc["service_levels"]["mql_first_touch"]
    assert touch["breached"][1] == {
        "id": "B-STOP", "due_at": "2026-11-19T09:30:00Z", "late_s": 12600, "stopped": True,
        "stopped_at": "2026-11-19T13:00:00Z", "escalate_to": "Sales development manager"}
    assert touch["at_risk"][0] == {"id": "A-4", "due_at": "2026-11-20T14:30:00Z",
                                   "remaining_s": 19800}
    assert doc["service_levels"]["sql_to_opportunity"]["attainment"] is None
    assert doc["violations"]["stage-requirement-unmet"][0]["id"] == "V-1"
    assert doc["recycle"][0]["to"] == "nurture" and doc["credits"][0]["id"] == "C-1"
    assert [e["id"] for e in doc["record_errors"]] == ["X-1", None]


# ---------------------------------------------------------------- wording

@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 min"), (20, "under 1 min"), (45 * 60, "45 min"), (3 * H, "3 h"),
    (27.5 * H, "27 h 30 min"), (3 * H + 20 * 60, "3 h 20 min"), (1569.5 * H, "1,569 h 30 min"),
    (59 * 60 + 40, "1 h")])
def test_business_time_text(seconds: float, text: str) -> None:
    assert business_time_text(seconds) == text


def test_due_times_in_the_agreement_timezone(engine: Engine, leads_file: Path) -> None:
    report = check(engine, leads_file)
    assert when(utc("2026-11-23T17:30:00+01:00"), report) == "Mon 23 Nov 2026 17:30"
    assert when(utc("2025-11-03T09:00:00+01:00"), report) == "Mon 3 Nov 2025 09:00"
    text = render_text(report)
    assert "B-OLD" in text and "Tue 17 Nov 2026 17:30" in text and "18 h" in text
    assert text.index("Marketing (Dana Whitfield)") < text.index("Sales (Raj Patel)")
    assert "Now Fri 20 Nov 2026 10:00 Europe/Amsterdam" in text


def test_markdown_has_headings_and_tables(engine: Engine, leads_file: Path) -> None:
    md = render_markdown(check(engine, leads_file, limit=20))
    assert md.startswith("# SLA check: ")
    assert "| Breached | Due | Late (business time) | Clock | Escalate to |" in md
    assert "| B-OLD | Tue 17 Nov 2026 17:30 | 18 h | still open | VP Sales |" in md
    assert "| A-4 | Fri 20 Nov 2026 15:30 | 5 h 30 min |" in md
    assert "| Sales accepts or rejects every MQL | Sales | 4 | 0 | 1 | 0 | 2 | 3 | 40.0% |" in md
    assert "| Sales turns an SQL into an opportunity or closes it | Sales | 0 | 10 | 0 | 0 | 0 | 0 | no value |" in md
    assert "## Guarantee credits (1)" in md and "## Leads due to recycle (1)" in md


# ---------------------------------------------------------------- attainment never divides by 0

@given(st.lists(st.sampled_from(STATUSES), max_size=40))
def test_attainment_is_a_share_or_no_value_never_a_division_error(statuses: list[str]) -> None:
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(Counter(statuses))
    level = LevelReport("x", "X", "sales", "1 hour", None, counts, (), (), None, None)
    met, breached = counts["met"], counts["breached"]
    if met + breached == 0:
        assert level.attainment is None
    else:
        assert level.attainment == met / (met + breached)


def test_all_not_applicable_is_no_value_end_to_end(engine: Engine, tmp_path: Path) -> None:
    path = write_leads(tmp_path / "na.jsonl", [{"id": f"N-{i}", "stage": "lead"}
                                              for i in range(3)])
    report = check(engine, path)
    assert report.service_levels["mql_first_touch"].counts["not_applicable"] == 3
    assert all(level.attainment is None for level in report.service_levels.values())
    assert "no value" in render_text(report)
    empty = check(engine, write_leads(tmp_path / "empty.jsonl", []))
    assert empty.leads == 0 and empty.service_levels["mql_first_touch"].attainment is None


# ---------------------------------------------------------------- the real command

def test_cli_text_and_exit_codes(leads_file: Path, tmp_path: Path) -> None:
    result = run("--leads", str(leads_file), "--now", NOW)
    assert result.returncode == 1, result.stderr
    assert "Sales contacts every MQL [mql_first_touch], within 24 business hours: 2 breached, 2 at risk" \
        in result.stdout
    assert run("--leads", str(leads_file), "--now", NOW, "--fail-on", "never").returncode == 0
    assert run("--leads", str(leads_file), "--now", NOW, "--fail-on", "at-risk").returncode == 1
    at_risk_only = write_leads(tmp_path / "a.jsonl", [LEADS[4]])
    assert run("--leads", str(at_risk_only), "--now", NOW).returncode == 0
    assert run("--leads", str(at_risk_only), "--now", NOW,
               "--fail-on", "at-risk").returncode == 1
    clean = write_leads(tmp_path / "clean.jsonl", [LEADS[3]])
    assert run("--leads", str(clean), "--now", NOW, "--fail-on", "at-risk").returncode == 0


def test_cli_usage_errors(tmp_path: Path) -> None:
    missing = run("--leads", str(tmp_path / "nope.jsonl"), "--now", NOW)
    assert missing.returncode == 2 and "not found" in missing.stderr
    bad_now = run("--leads", "examples/leads.jsonl", "--now", "tomorrow")
    assert bad_now.returncode == 2
    no_folder = run("--leads", "examples/leads.jsonl", "--agreement", str(tmp_path / "none"))
    assert no_folder.returncode == 2 and "agreement folder not found" in no_folder.stderr
    invalid = run("--leads", "examples/leads.jsonl", "--agreement", str(tmp_path))
    assert invalid.returncode == 1 and "is not a valid agreement" in invalid.stderr
    assert run("--leads", "examples/leads.jsonl", "--limit", "-1").returncode == 2


def test_cli_json(leads_file: Path) -> None:
    result = run("--leads", str(leads_file), "--now", NOW, "--format", "json",
                 "--fail-on", "never", "--limit", "1")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert set(doc) == {"agreement", "now", "leads", "errors", "unreadable", "service_levels",
                        "violations", "recycle", "credits", "record_errors", "data_quality"}
    level = doc["service_levels"]["mql_accept_or_reject"]
    assert set(level) == {"title", "owner", "within", "counts", "attainment", "breached",
                          "at_risk"}
    # JSON lists everything, whatever --limit says.
    assert [b["id"] for b in level["breached"]] == ["B-OLD", "B-STOP", "B-NEW"]
    assert [b["late_s"] for b in level["breached"]] == [64800, 34200, 3600]
    assert level["attainment"] == pytest.approx(0.4)
    assert doc["record_errors"][1]["row"] == 11


def test_cli_markdown(leads_file: Path) -> None:
    result = run("--leads", str(leads_file), "--now", NOW, "--format", "markdown")
    assert result.returncode == 1
    assert "## Breaches and at-risk leads" in result.stdout
    assert "| E-1 | Wed 18 Nov 2026 17:30 | 9 h 30 min | still open | Marketing operations manager |" \
        in result.stdout
    assert "## SLA attainment" in result.stdout and "| 33.3% |" in result.stdout


def test_cli_github(leads_file: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = run("--leads", str(leads_file), "--now", NOW, "--format", "github",
                 env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error title=SLA breach::")]
    warnings = [line for line in lines if line.startswith("::warning title=SLA at risk::")]
    assert len(errors) == 3  # event delivery, first touch, accept or reject
    assert "[event_lead_delivery]" in errors[0] and "1 lead breached" in errors[0]
    assert "worst B-OLD, 9 h late" in errors[1]
    assert len(warnings) == 1 and "2 leads at risk; soonest A-4, 5 h 30 min left" in warnings[0]
    written = summary.read_text()
    assert written.startswith("earlier step\n# SLA check: ")
    assert "| Breached | Due |" in written
    # Without the variable nothing is written anywhere.
    plain = run("--leads", str(leads_file), "--now", NOW, "--format", "github")
    assert plain.stdout.count("::error") == 3 and summary.read_text() == written


# ---------------------------------------------------------------- the example export

def test_example_export_counts_match_the_decisions(engine: Engine) -> None:
    path = ROOT / "examples" / "leads.jsonl"
    expected: dict[str, Counter[str]] = {name: Counter() for name in engine.clocks.names}
    breached_ids: dict[str, set[object]] = {name: set() for name in engine.clocks.names}
    for decision in engine.evaluate_many(read_leads(path), NOW_DT):
        for name, reading in decision.service_levels.items():
            expected[name][reading.status] += 1
            if reading.status == "breached":
                breached_ids[name].add(decision.id)
    report = check(engine, path)
    assert report.leads == 2000
    for name, level in report.service_levels.items():
        assert {s: n for s, n in level.counts.items() if n} == dict(expected[name])
        assert {b.id for b in level.breached} == breached_ids[name]
        dues = [b.due_at for b in level.breached]
        assert dues == sorted(dues)
    result = run("--leads", "examples/leads.jsonl", "--now", NOW, "--format", "json")
    doc = json.loads(result.stdout)
    for name, level_doc in doc["service_levels"].items():
        assert {s: n for s, n in level_doc["counts"].items() if n} == dict(expected[name])


def test_data_quality_per_column(tmp_path: Path) -> None:
    """Per column of the file: blank, unreadable and not allowed, with the offending values."""
    result = run("--leads", "examples/exports/hubspot-contacts.csv", "--mapping",
                 "examples/mappings/hubspot.yaml", "--now", NOW, "--fail-on", "never")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    start = lines.index("Data quality (per column of the file)")
    rows = {line.split("  ")[1]: line for line in lines[start + 3:]}
    assert rows["Industry"].split()[1:] == ["industry", "11", "1", "0", "1", "`Software`",
                                            "(1,", "not", "allowed)"]
    assert rows["Number of Employees"].split()[3:] == ["employee_count", "10", "1", "1", "0",
                                                       "`50-100`", "(1)"]
    assert rows["Record ID"].split()[2:] == ["id", "12", "0", "0", "0", "—"]
    doc = json.loads(run("--leads", "examples/exports/hubspot-contacts.csv", "--mapping",
                         "examples/mappings/hubspot.yaml", "--now", NOW, "--fail-on", "never",
                         "--format", "json").stdout)
    created = next(c for c in doc["data_quality"] if c["field"] == "created_at")
    assert created == {"field": "created_at", "column": "Create Date", "read": 11, "missing": 0,
                       "unreadable": 1, "not_allowed": 0, "offending": [
                           {"value": "11/03/2026 09:15", "count": 1, "problem": "unreadable",
                            "message": "`11/03/2026 09:15` is not a date and time (write "
                                       "e.g. 2026-11-02T10:00:00Z)"}]}
    assert [c["column"] for c in doc["data_quality"]][:3] == ["Record ID", "Email",
                                                              "Email Domain"]
    markdown = run("--leads", "examples/exports/hubspot-contacts.csv", "--mapping",
                   "examples/mappings/hubspot.yaml", "--now", NOW, "--fail-on", "never",
                   "--format", "markdown").stdout
    assert ("| Industry | industry | 11 | 1 | 0 | 1 | `Software` (1, not allowed) |"
            in markdown.splitlines())
