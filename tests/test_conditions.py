"""Condition semantics as a table: each case through the generated fast path and the explainer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from slaengine.agreement.models import AgreementSpec
from slaengine.evaluate.evaluator import Engine

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "conditions" / "cases.yaml").read_text())
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

BASE: dict[str, Any] = {
    "agreement": "Condition cases", "version": "1.0.0", "timezone": "Europe/Amsterdam",
    "parties": {"sales": {"lead": {"name": "Raj"}}},
    "fields": {"n": {"type": "number"}, "s": {"type": "string"}, "b": {"type": "boolean"},
               "at": {"type": "datetime"}, "d": {"type": "date"}, "tags": {"type": "list"}},
    "scores": {"points": {"rules": [{"field": "n", "points_each": 5, "max": 45}]}},
    "definitions": {"big": {"when": {"field": "n", "gte": 500}}},
}


def _yaml_safe(value: Any) -> Any:
    # The cases file is read with PyYAML for brevity; turn its dates back into the text
    # an agreement file holds (the strict loader never makes dates).
    if isinstance(value, dict):
        return {k: _yaml_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@pytest.mark.parametrize("case", CASES, ids=[f"{i}" for i in range(len(CASES))])
def test_condition_case(case: dict[str, Any]) -> None:
    data = dict(BASE)
    data["definitions"] = {**BASE["definitions"], "probe": {"when": _yaml_safe(case["when"])}}
    spec = AgreementSpec.model_validate(data, strict=True)
    engine = Engine(spec, "sha256:" + "0" * 64)
    decision = engine.evaluate(_yaml_safe(case["lead"]), NOW)
    assert decision.errors == ()
    fast = decision.definitions["probe"].matched
    explained = decision.explanation("probe").matched
    assert (fast, explained) == (case["expect"], case["expect"]), case


def test_the_table_covers_every_operator() -> None:
    seen: set[str] = set()
    for case in CASES:
        stack = [case["when"]]
        while stack:
            node = stack.pop()
            seen.update(k for k in node if k not in ("field", "score"))
            stack.extend(node.get("all", []) + node.get("any", []))
            if "not" in node:
                stack.append(node["not"])
    operators = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "between", "contains",
                 "matches", "exists", "within", "older_than", "definition", "all", "any", "not"}
    assert operators <= seen
