"""A score that is NaN or infinite is a record error naming the score and its values, in both
engines, never `null` or `nan` (through the real command)."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import slaengine

ROOT = Path(__file__).resolve().parents[1]
NOW = "2026-06-01T00:00:00Z"


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_score_that_is_not_a_number_is_a_record_error(tmp_path: Path, engine: str) -> None:
    folder = tmp_path / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    shutil.rmtree(folder / "tests")
    scoring = folder / "scoring.yaml"
    text = scoring.read_text()
    anchor = "      - {field: email_clicks, points_each: 2, max: 10, label: Email clicks}\n"
    assert anchor in text
    scoring.write_text(text.replace(anchor, anchor + "      - {field: amount, points_each: 10}\n"
                                    "      - {field: amount, points_each: -10}\n"))
    leads = tmp_path / "leads.jsonl"
    leads.write_text('{"id": "L-1", "amount": 1.7e308}\n{"id": "L-2", "amount": 3}\n')
    result = subprocess.run([sys.executable, "-m", "slaengine", "evaluate", "--agreement",
                             str(folder), "--leads", str(leads), "--now", NOW, "--engine", engine],
                            cwd=ROOT, capture_output=True, check=False)
    assert result.returncode == 1, result.stderr
    first, second = (orjson.loads(line) for line in result.stdout.splitlines())
    assert first["id"] == "L-1" and first["scores"] == {} and first["bands"] == {}
    [error] = first["errors"]
    # no field or column: the score is not a column of the export, the message names it
    assert error["code"] == "score-not-a-number" and error["field"] is None
    assert error["message"] == (
        "the score `engagement` is not a number (`amount` 1.7e+308 x 10 points, `amount` "
        "1.7e+308 x -10 points); no score, band or decision is given for this record")
    assert second["errors"] == [] and isinstance(second["scores"]["engagement"], int)


@pytest.fixture(scope="module")
def opposed(tmp_path_factory: pytest.TempPathFactory) -> slaengine.Agreement:
    """The example agreement with two opposite per-value rules on `amount`."""
    folder = tmp_path_factory.mktemp("opposed") / "agreement"
    shutil.copytree(ROOT / "agreement", folder)
    shutil.rmtree(folder / "tests")
    scoring = folder / "scoring.yaml"
    anchor = "      - {field: email_clicks, points_each: 2, max: 10, label: Email clicks}\n"
    scoring.write_text(scoring.read_text().replace(
        anchor, anchor + "      - {field: amount, points_each: 10}\n"
                         "      - {field: amount, points_each: -10}\n"))
    return slaengine.load_agreement(folder)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.floats(allow_nan=False, allow_infinity=False))
@example(amount=1.7e308)  # what Hypothesis once drew: 1.7e309 - 1.7e309 is NaN
@example(amount=-1.7e308)
def test_every_score_is_a_number_or_an_error(opposed: slaengine.Agreement,
                                             amount: float) -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    decision = opposed.evaluate({"id": "L-1", "amount": amount}, now)
    record = decision.to_json()
    if record["errors"]:
        assert [e["code"] for e in record["errors"]] == ["score-not-a-number"]
        assert record["scores"] == {}
    else:
        assert all(math.isfinite(v) for v in record["scores"].values())
