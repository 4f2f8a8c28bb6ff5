"""KPI headlines: the latest complete period against the target, the trend, and no verdict
on too few leads; `kpis --period` and the period table always agree."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import slaengine
from slaengine.cli import cli
from slaengine.evaluate.leads import read_leads
from slaengine.kpis import KpiReport, parse_period
from slaengine.kpis.headline import headline

ROOT = Path(__file__).resolve().parents[1]
LEADS = ROOT / "examples" / "leads.jsonl"
NOW = datetime.fromisoformat("2026-11-20T12:00:00+01:00")
TZ = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def agreement() -> slaengine.Agreement:
    return slaengine.load_agreement(ROOT / "agreement")


@pytest.fixture(scope="module")
def report(agreement: slaengine.Agreement) -> KpiReport:
    return agreement.kpis(read_leads(LEADS), now=NOW)


def test_a_monthly_target_is_read_against_the_latest_complete_month(report: KpiReport) -> None:
    volume = report.kpis["mql_volume"]
    head = headline(volume, NOW, TZ)
    assert head.scope == "2026-10"  # November is still open on 20 November
    assert head.value == volume.by_period["2026-10"].value != volume.value
    assert head.met is False and head.complete
    assert head.previous == ("2026-09", volume.by_period["2026-09"].value)


def test_maturity_moves_the_latest_complete_period_back(report: KpiReport) -> None:
    ratio = report.kpis["mql_to_sql"]  # 90 days to mature: August ends too late
    head = headline(ratio, NOW, TZ)
    assert head.scope < "2026-08" and head.complete
    assert head.measured == ratio.by_period[head.scope].measured


def test_too_few_leads_carry_no_verdict(report: KpiReport) -> None:
    cycle = report.kpis["sales_cycle_days"]  # one lead with both timestamps
    head = headline(cycle, NOW, TZ)
    assert head.measured == cycle.measured == 1
    assert head.too_few and head.met is None
    assert headline(cycle, NOW, TZ, min_leads=1).met is cycle.met is not None


@pytest.mark.parametrize("period", ["2026-09", "2026-10", "2026-11", "2026-Q4"])
def test_period_option_agrees_with_the_period_table(agreement: slaengine.Agreement,
                                                    report: KpiReport, period: str) -> None:
    window = parse_period(period, TZ)
    only = agreement.kpis(read_leads(LEADS), now=NOW, period=period)
    for name, result in only.kpis.items():
        if result.kpi.period != window.kind or not result.period_applied:
            continue
        head = headline(result, NOW, TZ, window)
        row = report.kpis[name].by_period.get(period)
        assert head.value == (row.value if row else (0 if result.kpi.measure in
                                                     ("count", "sum") else None)), name


def test_the_command_shows_headlines_and_never_a_tick_on_too_few() -> None:
    result = CliRunner().invoke(cli, ["kpis", "--leads", str(LEADS), "--now", NOW.isoformat(),
                                      "--agreement", str(ROOT / "agreement")])
    out = result.stdout
    assert "Target at least 400 · 2026-10, the latest complete month: 21 ✗ on 21 leads" in out
    assert "All periods together: value 108" in out
    line = next(x for x in out.splitlines() if x.startswith("Sales cycle length"))
    assert "too few leads" in line and "✓" not in line and line.split()[-1] == "1"
    october = CliRunner().invoke(cli, ["kpis", "--leads", str(LEADS), "--now", NOW.isoformat(),
                                       "--agreement", str(ROOT / "agreement"),
                                       "--period", "2026-10"]).stdout
    assert "2026-10 (not complete): 42.9% on 21 leads" in october
    assert "no value" not in next(x for x in october.splitlines() if x.startswith("MQL to SQL"))


def test_an_open_figure_says_why_it_can_still_change(tmp_path: Path) -> None:
    """A month that is over is not 'not complete yet': its leads are still maturing (issue 19)."""
    def kpis(now: str) -> str:
        return CliRunner().invoke(cli, ["kpis", "--leads", str(LEADS), "--now", now,
                                        "--agreement", str(ROOT / "agreement"),
                                        "--period", "2026-10"]).stdout
    over = kpis(NOW.isoformat())
    assert "2026-10 is still maturing (complete 30 Jan 2027): the figure can still change" in over
    assert "not complete yet" not in over
    assert "2026-10 is not over yet: the figure can still change" in kpis(
        "2026-10-20T12:00:00+02:00")
    result = CliRunner().invoke(cli, ["report", "--leads", str(LEADS), "--month", "2026-10",
                                      "--agreement", str(ROOT / "agreement"),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    row = next(line for line in (tmp_path / "report-2026-10.md").read_text().splitlines()
               if line.startswith("| MQL to SQL conversion"))
    assert row.endswith("| 2026-10 is still maturing (complete 30 Jan 2027) |")


def test_a_total_over_one_month_is_not_judged_against_a_quarterly_target(
        agreement: slaengine.Agreement) -> None:
    """The October report marked the pipeline ✗: one month's sum against a quarter's target."""
    only = agreement.kpis(read_leads(LEADS), now=NOW, period="2026-10")
    pipeline = only.kpis["marketing_sourced_pipeline"]
    assert pipeline.kpi.period == "quarter" and pipeline.value
    head = headline(pipeline, NOW, TZ, parse_period("2026-10", TZ))
    assert head.met is None and head.value == pipeline.value
    volume = headline(only.kpis["mql_volume"], NOW, TZ, parse_period("2026-10", TZ))
    assert volume.met is False  # a monthly target over a month is judged
    quarter = agreement.kpis(read_leads(LEADS), now=NOW, period="2026-Q3")
    assert headline(quarter.kpis["marketing_sourced_pipeline"], NOW, TZ,
                    parse_period("2026-Q3", TZ)).met is not None
    out = CliRunner().invoke(cli, ["kpis", "--leads", str(LEADS), "--now", NOW.isoformat(),
                                   "--agreement", str(ROOT / "agreement"),
                                   "--period", "2026-10"]).stdout
    assert "Note: the target is per quarter: 2026-10 alone is not judged" in out
