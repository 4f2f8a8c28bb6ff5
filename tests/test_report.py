"""`slaengine report`: the monthly report's numbers against independent counts of decisions."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import slaengine
from slaengine.cli import cli
from slaengine.evaluate.decision import Decision
from slaengine.evaluate.leads import read_leads
from slaengine.kpis import PeriodRange, compute_kpis, parse_period
from slaengine.reports.charts import monthly_charts
from slaengine.reports.monthly import build_monthly, default_now, previous_months, stage_roles

ROOT = Path(__file__).resolve().parents[1]
LEADS = ROOT / "examples" / "leads.jsonl"
MONTH = "2026-10"
NOW = "2026-11-01T00:00:00+01:00"  # the end of October in Amsterdam
NOW_AT = datetime.fromisoformat(NOW)


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["report", *args], input=stdin, catch_exceptions=False)


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


@pytest.fixture(scope="module")
def month(agreement: slaengine.Agreement) -> PeriodRange:
    return parse_period(MONTH, agreement.engine.tz)


@pytest.fixture(scope="module")
def decisions(agreement: slaengine.Agreement) -> list[Decision]:
    return list(agreement.evaluate_many(read_leads(LEADS), now=NOW_AT))


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reports")
    result = run("--leads", str(LEADS), "--month", MONTH, "--now", NOW, "--out", str(folder),
                 "--agreement", str(ROOT / "agreement"))
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def markdown(out: Path) -> str:
    return (out / f"report-{MONTH}.md").read_text()


def table(markdown: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header row starts with `header`, cells unquoted."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip().strip("`").replace(",", "") for c in line.strip("|").split(" | ")])
    return rows


def in_month(value: object, month: PeriodRange) -> bool:
    return isinstance(value, datetime) and month.start <= value < month.end


# ---------------------------------------------------------------- the numbers


def test_funnel_counts_leads_entering_each_stage_in_the_month(
        markdown: str, decisions: list[Decision], agreement: slaengine.Agreement,
        month: PeriodRange) -> None:
    expected = [[f"{stage.title} ({stage.id})", stage.entered_at or "",
                 str(sum(in_month(d.values.get(stage.entered_at or ""), month)
                         for d in decisions))]
                for stage in agreement.spec.stages
                if not stage.requires_disposition and stage.entered_at]
    got = table(markdown, "| Stage | Entered at | Leads |")
    assert [[name.replace("`", ""), field, n] for name, field, n in got] == expected
    assert expected[1] == ["Marketing-qualified lead (mql)", "mql_at", "21"]


def test_dispositions_count_leads_that_came_back_in_the_month(
        markdown: str, decisions: list[Decision], agreement: slaengine.Agreement,
        month: PeriodRange) -> None:
    returns = [s.entered_at for s in agreement.spec.stages if s.requires_disposition and s.entered_at]
    came_back = [d for d in decisions if any(in_month(d.values.get(f), month) for f in returns)]
    expected = Counter(d.values.get("disposition") or "(none)" for d in came_back)
    rows = table(markdown, "| Disposition | Meaning | Leads |")
    assert {code: int(n) for code, _, n in rows} == dict(expected)
    assert sum(expected.values()) == 3
    titles = {code: title for code, title, _ in rows}
    assert titles["no_budget"] == agreement.spec.dispositions["no_budget"].title
    by_source = Counter(d.values.get("source") for d in came_back)
    codes = [code for code, _ in sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))]
    source_rows = table(markdown, f"| Source | {' | '.join(codes)} | Leads |")
    assert {r[0]: int(r[-1]) for r in source_rows} == dict(by_source)


def test_open_leads_by_stage_and_owner(markdown: str, decisions: list[Decision],
                                       agreement: slaengine.Agreement) -> None:
    open_stages = {s.id for s in agreement.spec.stages if not s.terminal}
    expected = Counter((d.stage, d.owner) for d in decisions if d.stage in open_stages)
    rows = table(markdown, "| Stage | Owner | Leads |")
    spec = agreement.spec
    # Stages and owners by their titles, the stage's id beside its title.
    assert {(stage, owner): int(n) for stage, owner, n in rows} == {
        (f"{spec.stage(s).title} (`{s}`)", spec.parties[o].title): n  # type: ignore[union-attr,index]
        for (s, o), n in expected.items()}
    unknown = sum(1 for d in decisions
                  if d.stage is not None and agreement.spec.stage(d.stage) is None)
    assert f"{unknown} leads in a stage the agreement does not have" in markdown


def test_clocks_due_in_the_next_30_days(markdown: str, decisions: list[Decision],
                                        agreement: slaengine.Agreement) -> None:
    horizon = NOW_AT + timedelta(days=30)
    due = [(d.id, name, clock) for d in decisions
           for name, clock in d.service_levels.items()
           if clock.status in ("running", "at_risk") and clock.due_at is not None
           and clock.due_at < horizon and clock.started_at is not None
           and clock.started_at <= NOW_AT]
    counts = Counter((name, clock.status) for _, name, clock in due)
    rows = table(markdown, "| Service level | Owner | Running | At risk | Due |")
    got = {re.search(r"\(`(\w+)`\)$", r[0]).group(1): r for r in rows}  # type: ignore[union-attr]
    for name, row in got.items():
        assert int(row[2]) == counts[(name, "running")]
        assert int(row[3]) == counts[(name, "at_risk")]
    assert sum(int(r[4]) for r in rows) == len(due) > 0
    soonest = sorted(due, key=lambda e: e[2].due_at)[:10]  # type: ignore[arg-type,return-value]
    listed = table(markdown, "| Lead | Service level | Status | Due |")
    titles = {n: sl.title for n, sl in agreement.spec.service_levels.items()}
    assert [(r[0], r[1]) for r in listed] == [(i, titles[n]) for i, n, _ in soonest]


def test_conversions_and_kpis_match_the_library(
        markdown: str, decisions: list[Decision], agreement: slaengine.Agreement,
        month: PeriodRange) -> None:
    converted = [d for d in decisions
                 if any(in_month(d.values.get(f), month) for f in ("sql_at", "opportunity_at",
                                                                   "won_at"))]
    rows = table(markdown, "| Source | SQL | Opportunity | Customer |")
    assert {r[0]: int(r[1]) for r in rows if r[0] != "All" and r[1] != "0"} == dict(Counter(
        d.values.get("source") for d in converted if in_month(d.values.get("sql_at"), month)))
    assert f"{len(converted)} leads reached SQL, Opportunity or Customer" in markdown
    kpis = compute_kpis(agreement.engine, read_leads(LEADS), NOW_AT, MONTH)
    kpi_rows = {re.search(r"\(`(\w+)`\)$", r[0]).group(1): r  # type: ignore[union-attr]
                for r in table(markdown, "| KPI | Target |")}
    assert set(kpi_rows) == set(kpis.kpis)
    assert kpi_rows["mql_volume"][2] == str(kpis.kpis["mql_volume"].value) == "21"


def test_stage_roles_come_from_the_agreement(agreement: slaengine.Agreement) -> None:
    funnel, conversions, start, end, returns = stage_roles(agreement.spec)
    assert [s.id for s in funnel] == ["lead", "mql", "sal", "sql", "opportunity", "customer"]
    assert [s.id for s in conversions] == ["sql", "opportunity", "customer"]
    assert (start and start.short, end and end.short) == ("MQL", "SQL")
    assert [s.field for s in returns] == ["recycled_at", "disqualified_at"]
    spec = agreement.spec.model_copy(update={"stages": [
        s.model_copy(update={"owner": "marketing"}) for s in agreement.spec.stages]})
    _, conversions, start, _, _ = stage_roles(spec)  # one owner: convert after the second stage
    assert start is not None and start.id == "lead" and conversions[0].id == "sal"


# ---------------------------------------------------------------- the files


def test_markdown_links_the_charts_written_next_to_it(out: Path, markdown: str) -> None:
    linked = re.findall(r"!\[[^\]]+\]\(([^)]+\.svg)\)", markdown)
    assert linked == [f"report-{MONTH}-{name}.svg" for name in (
        "sla-trend", "funnel", "conversion-by-source", "rejections-by-source", "calibration")]
    for name in linked:
        svg = (out / name).read_text()
        assert svg.startswith("<?xml") and "<title" not in svg[:200]
        assert "<dc:date>" not in svg  # no creation date: the bytes do not change run to run


def test_html_is_standalone_with_five_inline_charts(out: Path) -> None:
    html = (out / f"report-{MONTH}.html").read_text()
    assert html.count("<svg") == 5
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<script|<link|@import|<img|url\((?!#)", html)
    assert html.count('role="img" aria-label="') == 5
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # the charts' ids do not clash on one page
    assert "<table>" in html and "Which leads did not convert" in html


def test_output_is_byte_for_byte_the_same_on_every_run(out: Path, tmp_path: Path) -> None:
    again = run("--leads", str(LEADS), "--month", MONTH, "--now", NOW, "--out", str(tmp_path),
                "--agreement", str(ROOT / "agreement"))
    assert again.exit_code == 0
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 7 and files == sorted(p.name for p in tmp_path.iterdir())
    for name in files:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_charts_are_deterministic_in_process(agreement: slaengine.Agreement,
                                             month: PeriodRange) -> None:
    report = build_monthly(agreement.engine, read_leads(LEADS), month, NOW_AT)
    first, second = monthly_charts(report), monthly_charts(report)
    assert [c.svg for c in first] == [c.svg for c in second]
    assert all(c.title and c.alt and "<svg" in c.svg for c in first)


# ---------------------------------------------------------------- edges


def test_a_month_without_leads_says_so(tmp_path: Path) -> None:
    result = run("--leads", str(LEADS), "--month", "2020-01", "--now", "2020-02-01T00:00:00Z",
                 "--out", str(tmp_path), "--agreement", str(ROOT / "agreement"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "report-2020-01.md").read_text()
    assert "No leads in January 2020" in text
    assert "No leads converted in 2020-01" in text and "No leads came back in 2020-01" in text
    assert (tmp_path / "report-2020-01.html").read_text().count("<svg") == 5
    assert "No leads in 2020-01" in (tmp_path / "report-2020-01-funnel.svg").read_text()


@pytest.mark.parametrize("month", ["2026-13", "2026-Q4", "October", "2026-1"])
def test_a_month_that_is_not_yyyy_mm_is_bad_usage(month: str, tmp_path: Path) -> None:
    result = run("--leads", str(LEADS), "--month", month, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--month" in result.output and not list(tmp_path.iterdir())


def test_stdin_gives_the_same_report(out: Path, tmp_path: Path) -> None:
    result = run("--leads", "-", "--month", MONTH, "--now", NOW, "--out", str(tmp_path),
                 "--agreement", str(ROOT / "agreement"), stdin=LEADS.read_text())
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"report-{MONTH}.md").read_bytes() == (
        out / f"report-{MONTH}.md").read_bytes()


def test_now_defaults_to_the_end_of_the_month_or_the_current_time(month: PeriodRange) -> None:
    later = datetime(2027, 1, 5, tzinfo=UTC)
    assert default_now(month, later) == (month.end, "the end of the month")
    during = datetime(2026, 10, 20, tzinfo=UTC)
    assert default_now(month, during)[0] == during
    assert "not over" in default_now(month, during)[1]
    assert previous_months(month) == ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
                                      "2026-10")
