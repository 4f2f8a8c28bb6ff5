"""The evaluator's lifecycle: a recorded stage the agreement does not have is a violation."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

import slaengine
from slaengine.evaluate.violations import Violation

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def test_an_unknown_stage_is_a_violation_naming_that_stage() -> None:
    """Made once per stage value and shared (violations are immutable), also past the
    number of stage values kept: every lead still gets its own stage's message."""
    agreement = slaengine.load_agreement(ROOT / "agreement")
    stages = [f"stage {i}" for i in range(300)] * 2
    decisions = list(agreement.evaluate_many(({"id": str(i), "stage": s}
                                              for i, s in enumerate(stages)), NOW))
    for decision, stage in zip(decisions, stages, strict=True):
        assert decision.stage == stage and decision.owner is None
        assert decision.violations == (Violation(
            "unknown-stage", f"recorded stage `{stage}` is not a stage of the agreement",
            stage),)
    assert decisions[0].violations is decisions[300].violations  # kept: the same object
    assert decisions[0].to_json()["violations"] == [{
        "code": "unknown-stage", "stage": "stage 0",
        "message": "recorded stage `stage 0` is not a stage of the agreement"}]


_NAMED = {
    "L-0700000016": ("violations", "qualifies for Sales-qualified lead (`sql`) but is still "
                                   "recorded as Sales-accepted lead (`sal`)"),
    "L-0700000116": ("violations", "recorded as Opportunity (`opportunity`) but does not meet "
                                   "the definition of Sales-qualified lead"),
    "L-0700000019": ("recycle", "Accepted, then no activity for 30 days: return the lead to "
                                "Nurture (`nurture`)"),
}


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_lifecycle_messages_name_stages_by_title(engine: str, tmp_path: Path) -> None:
    """A lead reads the stage's title beside the CRM value, not a bare id (issue 19), and both
    engines word it the same."""
    leads = tmp_path / "leads.jsonl"
    leads.write_text("".join(line for line in (ROOT / "examples" / "leads.jsonl").open()
                             if json.loads(line)["id"] in _NAMED))
    result = subprocess.run([sys.executable, "-m", "slaengine", "evaluate", "--leads", str(leads),
                             "--engine", engine, "--now", "2026-11-20T10:00:00+01:00"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    records = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(records) == set(_NAMED)
    for lead, (key, message) in _NAMED.items():
        found = records[lead][key]
        messages = [v["message"] for v in found] if key == "violations" else [found["message"]]
        assert message in messages, (lead, messages)
