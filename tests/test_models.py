"""The models: value types, condition shapes, and normalisations that keep the digest stable."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from slaengine.agreement.models import (
    AgreementSpec,
    Calendar,
    Duration,
    FieldCondition,
    Interval,
    Kpi,
    ScoreCondition,
    ServiceLevel,
    TestSuite,
)
from slaengine.agreement.models.conditions import condition_kind, walk
from slaengine.agreement.models.sections import Definition


@pytest.mark.parametrize(
    ("text", "seconds", "words"),
    [("90m", 5400, "90 minutes"), ("24h", 86400, "24 hours"), ("1d", 86400, "1 day"),
     ("2w", 1209600, "2 weeks"), ("45s", 45, "45 seconds")],
)
def test_durations(text: str, seconds: int, words: str) -> None:
    duration = Duration.parse(text)
    assert (duration.seconds, duration.words(), str(duration)) == (seconds, words, text)


def test_business_days_have_no_fixed_length() -> None:
    duration = Duration.parse("2bd")
    assert duration.is_business_days and duration.words() == "2 business days"
    with pytest.raises(ValueError, match="no fixed length"):
        _ = duration.seconds


@pytest.mark.parametrize("text", ["24 hours", "1.5h", "h", "-3d", "3D", "", "2y"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        Duration.parse(text)


def test_intervals() -> None:
    assert Interval.parse("09:00-12:30") == Interval(540, 750)
    assert str(Interval.parse("13:30 - 24:00")) == "13:30-24:00"
    for bad, message in [("17:00-09:00", "end after it starts"), ("9-17", "not an interval"),
                         ("24:30-24:45", "latest time of day is 24:00"), ("10:00-10:00", "end after")]:
        with pytest.raises(ValueError, match=message):
            Interval.parse(bad)


def _condition(data: dict[str, Any]) -> Any:
    return Definition.model_validate({"when": data}, strict=True).when


def test_field_condition_exposes_its_one_operator() -> None:
    cond = _condition({"field": "industry", "in": ["software", "fintech"]})
    assert isinstance(cond, FieldCondition)
    assert (cond.op, cond.value) == ("in", ["software", "fintech"])
    window = _condition({"field": "last_activity_at", "within": "30d"})
    assert (window.op, window.value) == ("within", Duration(30, "d"))
    score = _condition({"score": "engagement", "between": [40, 70]})
    assert isinstance(score, ScoreCondition) and (score.op, score.value) == ("between", [40, 70])


@pytest.mark.parametrize(
    "data",
    [
        {"field": "x"},                                  # no operator
        {"field": "x", "eq": 1, "ne": 2},                # two operators
        {"field": "x", "between": [1]},                  # a pair needs two ends
        {"field": "x", "in": []},                        # an empty list never holds
        {"field": "x", "exists": "yes"},                 # strict: text is not a boolean
        {"field": "x", "within": 30},                    # a duration is text with a unit
        {"score": "s", "eq": "high"},                    # scores are numbers
        {"all": []},
        {"not": [{"field": "x", "eq": 1}]},
        {"feld": "x", "eq": 1},
    ],
)
def test_malformed_conditions_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _condition(data)


def test_walk_visits_every_node_with_its_path() -> None:
    tree = _condition({"all": [{"definition": "icp_fit"},
                               {"not": {"any": [{"field": "a", "eq": 1}, {"score": "s", "gt": 2}]}}]})
    paths = [path for _, path in walk(tree)]
    assert paths == [(), ("all", 0), ("all", 1), ("all", 1, "not"), ("all", 1, "not", "any", 0),
                     ("all", 1, "not", "any", 1)]
    assert [condition_kind(node) for node, _ in walk(tree)] == [
        "all", "definition", "not", "any", "field", "score"]


def test_one_or_many_values_normalise_to_lists() -> None:
    one = ServiceLevel.model_validate({"title": "T", "owner": "sales", "start": "a", "stop": "b",
                                       "within": "1h"}, strict=True)
    many = ServiceLevel.model_validate({"title": "T", "owner": "sales", "start": "a",
                                        "stop": ["b"], "within": "1h"}, strict=True)
    assert one == many and one.stop == ["b"]
    short = Calendar.model_validate({"hours": {"mon": "09:00-17:00"},
                                     "holidays": ["2026-12-25", {"date": "2026-12-24",
                                                                  "open": "09:00-13:00"}]},
                                    strict=True)
    long = Calendar.model_validate({"hours": {"mon": ["09:00-17:00"]},
                                    "holidays": [{"date": "2026-12-25"},
                                                 {"date": "2026-12-24", "open": ["09:00-13:00"]}]},
                                   strict=True)
    assert short == long
    assert short.holidays[0].date == date(2026, 12, 25)


def test_kpi_takes_exactly_one_measure() -> None:
    base = {"title": "K"}
    assert Kpi.model_validate({**base, "count": True}, strict=True).measure == "count"
    with pytest.raises(ValidationError, match="exactly one measure"):
        Kpi.model_validate({**base, "count": True, "sum": "amount"}, strict=True)
    with pytest.raises(ValidationError, match="exactly one measure"):
        Kpi.model_validate(base, strict=True)


def test_dates_are_parsed_by_the_model_not_by_yaml() -> None:
    suite = TestSuite.model_validate(
        {"now": "2026-11-20T10:00:00Z", "cases": [{"name": "n", "lead": {}, "expect": {}}]},
        strict=True)
    assert suite.now == datetime(2026, 11, 20, 10, tzinfo=timezone(timedelta(0)))
    with pytest.raises(ValidationError, match="not a valid calendar date"):
        Calendar.model_validate({"hours": {}, "holidays": ["2026-02-30"]}, strict=True)


def test_strict_mode_refuses_coercion() -> None:
    minimal = {"agreement": "A", "version": "1.0.0", "timezone": "UTC",
               "parties": {"sales": {"lead": {"name": "R"}}}, "fields": {"id": {"type": "string"}}}
    assert AgreementSpec.model_validate(minimal, strict=True).version == "1.0.0"
    with pytest.raises(ValidationError):
        AgreementSpec.model_validate({**minimal, "version": 1.0}, strict=True)
    with pytest.raises(ValidationError):
        AgreementSpec.model_validate({**minimal, "fields": {"id": {"type": "string",
                                                                   "key": "true"}}}, strict=True)
