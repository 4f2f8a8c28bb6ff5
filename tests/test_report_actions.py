"""The monthly report opens with the actions agreed in its month, and where each stands."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import run_in
from test_meetings import FEEDBACK, agreement

ROOT = Path(__file__).resolve().parents[1]
LEADS = ROOT / "examples" / "leads.jsonl"


def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records: dict[str, str],
           month: str, now: str) -> str:
    folder = agreement(tmp_path, records)
    out = tmp_path / "out"
    code, result = run_in(["report", "--leads", str(LEADS), "--month", month, "--now", now,
                           "--agreement", str(folder), "--out", str(out)], tmp_path, monkeypatch)
    assert code == 0, result.output
    return (out / f"report-{month}.md").read_text(encoding="utf-8")


def test_the_report_opens_with_the_months_actions(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    text = report(tmp_path, monkeypatch, {"2026-10-06-feedback": FEEDBACK}, "2026-10",
                  "2026-11-03T12:00:00+01:00")
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections[:2] == ["## Actions from last time", "## Summary"]
    assert ("Actions agreed in October 2026, as of 2026-11-03: 1 overdue, 0 open, 1 done "
            "(`slaengine actions` lists them all).") in text
    assert ("| overdue | Sales | Call back every rejected fintech lead | 2026-10-31 | "
            "Monthly feedback review, 2026-10-06 |") in text
    assert ("| done 2026-10-18 | Marketing | Pause retail campaigns | 2026-10-20 | "
            "Monthly feedback review, 2026-10-06 |") in text


def test_older_overdue_actions_follow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = report(tmp_path, monkeypatch, {"2026-10-06-feedback": FEEDBACK}, "2026-11",
                  "2026-11-30T12:00:00+01:00")
    assert "No actions were agreed in November 2026" not in text
    assert "Older actions still overdue:" in text
    assert "| overdue | Sales | Call back every rejected fintech lead |" in text
