"""The evaluator's lifecycle: a recorded stage the agreement does not have is a violation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
