"""Semantic checks whose findings are warnings or need more than one fixture to show."""

from __future__ import annotations

import copy
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import slaengine
from slaengine.agreement.checks.reviews import add_months, semver_key
from slaengine.agreement.checks.scoring import score_range
from slaengine.agreement.models import Score

BASE: dict[str, Any] = {
    "agreement": "Test agreement", "version": "1.0.0", "timezone": "Europe/Amsterdam",
    "parties": {"marketing": {"lead": {"name": "Dana"}}, "sales": {"lead": {"name": "Raj"}}},
    "fields": {"id": {"type": "string", "key": True}, "clicks": {"type": "integer"},
               "demo": {"type": "boolean"}},
    "scores": {"engagement": {"rules": [{"when": {"field": "demo", "eq": True}, "points": 30},
                                        {"field": "clicks", "points_each": 5, "max": 20}],
                              "bands": [{"label": "cold", "below": 40},
                                        {"label": "hot", "from": 40}]}},
}


def codes(tmp_path: Path, data: dict[str, Any], reviews: list[dict[str, Any]] | None = None,
          today: date | None = None) -> list[str]:
    (tmp_path / "agreement.yaml").write_text(yaml.safe_dump(data))
    if reviews:
        (tmp_path / "reviews").mkdir(exist_ok=True)
        for review in reviews:
            (tmp_path / "reviews" / f"{review['date']}.yaml").write_text(yaml.safe_dump(review))
    result = slaengine.validate_folder(tmp_path, today=today)
    return [d.code for d in result.diagnostics]


def test_base_is_clean_but_for_reviews(tmp_path: Path) -> None:
    assert codes(tmp_path, BASE) == ["never-approved"]


def test_score_range_counts_caps_and_negative_points() -> None:
    score = Score.model_validate({"rules": [
        {"when": {"field": "a", "eq": 1}, "points": 30},
        {"when": {"field": "b", "eq": 1}, "points": -20},
        {"field": "c", "points_each": 2, "max": 10},
        {"field": "d", "points_each": -1, "min": -5}]}, strict=True)
    assert score_range(score) == (-25, 40)
    uncapped = Score.model_validate({"rules": [{"field": "c", "points_each": 1}]}, strict=True)
    assert score_range(uncapped) == (0, math.inf)


def test_bands_that_miss_the_possible_scores(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["scores"]["engagement"]["bands"] = [
        {"label": "cold", "from": 0, "below": 40, "expected_conversion": 0.05},
        {"label": "hot", "from": 40, "below": 50, "expected_conversion": 0.02}]
    found = codes(tmp_path, data)
    assert found.count("band-coverage") == 1  # 50 is reachable (30 + 20) but in no band
    assert "band-conversion-order" in found


def test_bands_listed_out_of_order(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["scores"]["engagement"]["bands"].reverse()
    assert "band-order" in codes(tmp_path, data)


def test_no_key_field_is_a_warning(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["fields"]["id"]["key"] = False
    assert "no-key-field" in codes(tmp_path, data)


def _review(day: str, parties: list[str], digest: str | None = None) -> dict[str, Any]:
    review: dict[str, Any] = {"date": day, "version": "1.0.0", "approvals": [
        {"party": p, "name": p.title(), "on": day} for p in parties]}
    if digest:
        review["digest"] = digest
    return review


def test_latest_review_awaiting_signature_is_a_warning(tmp_path: Path) -> None:
    found = codes(tmp_path, BASE, [_review("2026-01-10", ["marketing", "sales"]),
                                   _review("2026-07-10", ["marketing"])])
    assert "review-pending-approval" in found
    assert "review-missing-approval" not in found
    assert "review-without-digest" in found  # the approved January review recorded none


def test_old_review_never_signed_is_an_error(tmp_path: Path) -> None:
    found = codes(tmp_path, BASE, [_review("2026-01-10", ["marketing"]),
                                   _review("2026-07-10", ["marketing", "sales"])])
    assert "review-missing-approval" in found


def test_overdue_counts_from_the_cadence_when_no_date_is_given(tmp_path: Path) -> None:
    (tmp_path / "agreement.yaml").write_text(yaml.safe_dump(BASE))
    current = slaengine.validate_folder(tmp_path).digest
    assert current is not None
    reviews = [_review("2026-02-28", ["marketing", "sales"], current)]
    assert codes(tmp_path, BASE, reviews, today=date(2026, 8, 28)) == []
    assert codes(tmp_path, BASE, reviews, today=date(2026, 8, 29)) == ["review-overdue"]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [(date(2026, 5, 18), 6, date(2026, 11, 18)), (date(2026, 8, 31), 6, date(2027, 2, 28)),
     (date(2027, 8, 31), 6, date(2028, 2, 29)), (date(2026, 12, 1), 1, date(2027, 1, 1))],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_semver() -> None:
    assert semver_key("2.10.3") == (2, 10, 3)
    assert semver_key("1.0.0-rc.1+build.5") == (1, 0, 0)
    for bad in ("2.1", "v2.1.0", "02.1.0", "2.1.0.0", ""):
        assert semver_key(bad) is None


def test_pending_review_with_a_placeholder_summary_is_a_warning(tmp_path: Path) -> None:
    pending = _review("2026-07-10", ["marketing"])
    pending["summary"] = "TODO: why these changes, in a few sentences both leads sign."
    found = codes(tmp_path, BASE, [_review("2026-01-10", ["marketing", "sales"]), pending])
    assert "review-summary-todo" in found
    pending["summary"] = "Raised the MQL bar after Q1."
    found = codes(tmp_path, BASE, [_review("2026-01-10", ["marketing", "sales"]), pending])
    assert "review-summary-todo" not in found
