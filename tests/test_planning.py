"""`slaengine plan`: the arithmetic against an independent pandas computation, and the CLI."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import pytest

import slaengine
from slaengine.agreement.models.common import Duration
from slaengine.cli import main
from slaengine.evaluate.leads import read_leads
from slaengine.kpis.planning import plan, wilson, yield_of

ROOT = Path(__file__).resolve().parents[1]
LEADS = ROOT / "examples" / "leads.jsonl"
NOW = "2026-11-20T10:00:00+01:00"
FUNNEL = [("lead", "created_at"), ("mql", "mql_at"), ("sal", "accepted_at"),
          ("sql", "sql_at"), ("opportunity", "opportunity_at"), ("customer", "won_at")]


def pandas_plan(customers: int, maturity_days: int) -> list[dict[str, Any]]:
    """The same plan, computed from the JSON lines with pandas and nothing of slaengine."""
    frame = pd.read_json(LEADS, lines=True, dtype=False)
    times = pd.DataFrame({stage: pd.to_datetime(frame[column], utc=True, errors="coerce",
                                                format="ISO8601")
                          for stage, column in FUNNEL})
    cutoff = pd.Timestamp(NOW).tz_convert("UTC") - pd.Timedelta(days=maturity_days)
    rows: list[dict[str, Any]] = []
    for i, (stage, _) in enumerate(FUNNEL[:-1]):
        mature = times[stage].notna() & (times[stage] <= cutoff)
        later = times[[s for s, _ in FUNNEL[i + 1:]]].notna().any(axis=1)
        rows.append({"stage": stage, "cohort_leads": int(mature.sum()),
                     "converted": int((mature & later).sum())})
    needed = customers
    out: list[dict[str, Any]] = [{"stage": "customer", "needed": customers}]
    for row in reversed(rows):
        rate = row["converted"] / row["cohort_leads"]
        needed = math.ceil(needed / rate - 1e-9)
        out.insert(0, {**row, "needed": needed, "conversion_to_next": rate})
    return out


@pytest.mark.parametrize(("customers", "days"), [(10, 30), (3, 21), (25, 30)])
def test_plan_matches_pandas(customers: int, days: int) -> None:
    agreement = slaengine.load_agreement(ROOT / "agreement")
    result = plan(agreement.engine, read_leads(LEADS), customers, datetime.fromisoformat(NOW),
                  Duration(days, "d")).to_json()
    expected = pandas_plan(customers, days)
    got = result["stages"]
    assert [s["stage"] for s in got] == [s["stage"] for s in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine["needed"] == theirs["needed"], mine["stage"]
        if "cohort_leads" in theirs:
            assert (mine["cohort_leads"], mine["converted"]) == (theirs["cohort_leads"],
                                                                 theirs["converted"])
            assert mine["conversion_to_next"] == pytest.approx(theirs["conversion_to_next"])


def test_yield_reads_the_plan_forward_like_pandas() -> None:
    agreement = slaengine.load_agreement(ROOT / "agreement")
    result = plan(agreement.engine, read_leads(LEADS), 1, datetime.fromisoformat(NOW))
    expected = pandas_plan(1, 30)
    made = yield_of(result, "mql", 400)
    assert made == pytest.approx(400 * math.prod(r["conversion_to_next"] for r in expected[1:-1]))
    assert yield_of(result, "customer", 7) == 7.0  # nothing left to convert
    early = plan(agreement.engine, read_leads(LEADS), 1,
                 datetime.fromisoformat("2026-11-01T00:00:00+01:00"))
    assert yield_of(early, "mql", 400) is None  # no opportunity old enough to measure


def test_wilson_interval_by_hand() -> None:
    low, high = wilson(8, 10) or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # the textbook 95% values
    assert wilson(0, 0) is None
    low, high = wilson(0, 7) or (1, 1)
    assert low == 0.0 and 0 < high < 0.5


def test_cli_json_and_the_mql_commitment(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["plan", "--leads", str(LEADS), "--customers", "10", "--now", NOW,
              "--agreement", str(ROOT / "agreement"), "--format", "json"])
    assert done.value.code in (0, None)
    document = json.loads(capsys.readouterr().out)
    assert document["customers"] == 10
    assert [s["stage"] for s in document["stages"]] == [s for s, _ in FUNNEL]
    assert set(document["stages"][0]) >= {"stage", "needed", "conversion_to_next",
                                          "cohort_leads"}
    mql = document["stages"][1]
    assert document["mql_volume"] == {"kpi": "mql_volume", "stage": "mql", "period": "month",
                                      "target": 400.0, "needed": mql["needed"],
                                      "enough": mql["needed"] <= 400}


def test_cli_text_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", "--leads", str(LEADS), "--now", NOW, "--agreement", str(ROOT / "agreement")]
    with pytest.raises(SystemExit):
        main([*base, "--customers", "10"])
    text = capsys.readouterr().out
    assert text.splitlines()[2].split() == ["Stage", "Needed", "Converts", "to", "next", "95%",
                                            "interval", "Behind", "the", "rate"]
    assert "MQL volume commitment (`mql_volume`) commits to at least 400 a month" in text
    with pytest.raises(SystemExit):
        main([*base, "--customers", "1000", "--format", "markdown"])
    markdown = capsys.readouterr().out
    assert markdown.startswith("## Working backward\n")
    assert "short by" in markdown  # a thousand customers a month need more than 400 MQLs


@pytest.mark.parametrize("args", [["--customers", "0"], ["--customers", "5", "--maturity", "2bd"],
                                  ["--customers", "5", "--maturity", "soon"]])
def test_usage_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["plan", "--leads", str(LEADS), "--agreement", str(ROOT / "agreement"), *args])
    assert done.value.code == 2
