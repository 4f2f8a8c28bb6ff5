"""The monthly report's planning section: the same numbers as `slaengine plan --format json`."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from slaengine.cli import cli

ROOT = Path(__file__).resolve().parents[1]
LEADS = ROOT / "examples" / "leads.jsonl"
AGREEMENT = ROOT / "agreement"
MONTH = "2026-11"
NOW = "2026-12-01T00:00:00+01:00"  # the end of November in Amsterdam: every rate is measured
TITLES = {"lead": "Lead", "mql": "Marketing-qualified lead", "sal": "Sales-accepted lead",
          "sql": "Sales-qualified lead", "opportunity": "Opportunity", "customer": "Customer"}


def plan_json(customers: int, now: str = NOW) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["plan", "--leads", str(LEADS), "--customers",
                                      str(customers), "--now", now, "--agreement",
                                      str(AGREEMENT), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def report(folder: Path, *extra: str, month: str = MONTH, now: str = NOW) -> tuple[str, str]:
    result = CliRunner().invoke(cli, ["report", "--leads", str(LEADS), "--month", month,
                                      "--now", now, "--agreement", str(AGREEMENT),
                                      "--out", str(folder), *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return ((folder / f"report-{month}.md").read_text(),
            (folder / f"report-{month}.html").read_text())


def section(markdown: str) -> str:
    start = markdown.index("## Working backward\n")
    return markdown[start:markdown.index("\n## ", start + 1)]


def rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]


def expected_rate_cells(stage: dict[str, Any]) -> list[str]:
    low, high = stage["interval"]
    return [f"{stage['conversion_to_next']:.1%}", f"{low:.1%}–{high:.1%}",
            f"{stage['converted']:,} of {stage['cohort_leads']:,}"]


def test_with_customers_the_section_is_the_plan(tmp_path: Path) -> None:
    document = plan_json(10)
    markdown, html = report(tmp_path, "--customers", "10")
    text = section(markdown)
    table = rows(text)
    assert [r[0] for r in table] == [TITLES[s["stage"]] for s in document["stages"]]
    for row, stage in zip(table[:-1], document["stages"][:-1], strict=True):
        assert row[1] == f"{stage['needed']:,}"
        assert row[2:] == expected_rate_cells(stage)
    assert table[-1][:2] == ["Customer", "10"]
    volume = document["mql_volume"]
    assert volume["enough"] is True
    assert (f"MQL volume commitment: at least {volume['target']:,.0f} leads entering "
            f"Marketing-qualified lead a month; 10 customers a month need "
            f"{volume['needed']:,}: enough.") in text
    assert "Tue 1 Dec 2026 00:00 Europe/Amsterdam" in text  # dates carry their year
    assert "`mql_volume`" not in text and "`mql`" not in text  # titles, not ids
    assert '<section id="planning">' in html
    assert f"<td>{document['stages'][0]['needed']:,}</td>" in html.replace(
        ' style="text-align: right"', "").replace(' class="num"', "")


def test_a_target_the_commitment_cannot_meet_is_short(tmp_path: Path) -> None:
    document = plan_json(100)
    text = section(report(tmp_path, "--customers", "100")[0])
    volume = document["mql_volume"]
    assert volume["enough"] is False
    gap = volume["needed"] - volume["target"]
    assert f"100 customers a month need {volume['needed']:,}: short by {gap:,.0f}." in text


def test_without_customers_the_rates_and_what_the_commitment_yields(tmp_path: Path) -> None:
    document = plan_json(1)
    text = section(report(tmp_path)[0])
    table = rows(text)
    assert len(table[0]) == 4 and "Needed" not in text
    for row, stage in zip(table[:-1], document["stages"][:-1], strict=True):
        assert row[1:] == expected_rate_cells(stage)
    # 400 MQLs read forward through the measured rates, from the plan's own counts
    made = document["mql_volume"]["target"] * math.prod(
        s["converted"] / s["cohort_leads"] for s in document["stages"][1:-1])
    found = re.search(r"they would yield about ([\d.,]+) customers a month", text)
    assert found is not None and found.group(1) == f"{made:,.1f}"
    assert "--customers N" in text


def test_an_unmeasured_rate_is_said_not_guessed(tmp_path: Path) -> None:
    now = "2026-11-01T00:00:00+01:00"  # no opportunity is 30 days old yet
    document = plan_json(10, now)
    assert document["stages"][4]["conversion_to_next"] is None
    text = section(report(tmp_path, month="2026-10", now=now)[0])
    assert ("the customers they would yield are unknown: the conversion from Opportunity "
            "could not be measured (no lead entered it at least 30 days ago)") in text
    assert rows(text)[4][1:] == ["—", "—", "—"]
    text = section(report(tmp_path, "--customers", "10", month="2026-10", now=now)[0])
    assert [r[1] for r in rows(text)] == ["unknown"] * 5 + ["10"]
    assert "the number needed for 10 customers a month is unknown" in text


@pytest.mark.parametrize("customers", ["0", "-3", "many"])
def test_customers_must_be_a_positive_number(customers: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--leads", str(LEADS), "--month", MONTH,
                                      "--customers", customers, "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--customers" in result.output
    assert not list(tmp_path.iterdir())
